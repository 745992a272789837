package io.oecloud.node.api;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.dht.NotFoundException;
import io.oecloud.http.HttpError;
import io.oecloud.http.Json;
import io.oecloud.node.object.ObjectException;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * The one mapping from what went wrong to the status the API answers. The object pipeline's
 * {@link ObjectException.Code}s map by an exhaustive switch, so a new code does not compile
 * until it has a status; the JSON routes' failures map by type ({@link HttpError} carries
 * its own, a DHT {@link NotFoundException} is 404, a deadline 504, a malformed argument 400,
 * the rest of the network 502). No status is chosen from an exception's message. The chain's
 * views and the mempool answer with statuses of their own (chain-bridge's ChainViews, TxServer).
 */
final class Failures {
    private static final System.Logger LOG = System.getLogger(Failures.class.getName());

    private Failures() {}

    static HttpResponseStatus status(ObjectException.Code code) {
        return switch (code) {
            case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
            case NOT_ENOUGH_SHARDS, PLACEMENT_FAILED, BUSY, CHAIN_UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            case PAYMENT_REQUIRED -> HttpResponseStatus.PAYMENT_REQUIRED;
            case BAD_RANGE -> HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE;
            case CORRUPT -> HttpResponseStatus.BAD_GATEWAY;
            case NOT_OWNER -> HttpResponseStatus.FORBIDDEN;
            case BAD_INPUT -> HttpResponseStatus.BAD_REQUEST;
        };
    }

    /** {@code {"error"}} with the status {@code e}'s code calls for; its message is ours, written for clients. */
    static FullHttpResponse answer(ObjectException e) {
        return Json.error(status(e.code()), e.getMessage());
    }

    /**
     * The answer to a failed JSON route: the status its cause calls for, and words. A message is
     * passed on only when this project wrote it (its exception was thrown from io.oecloud code);
     * anything else is logged and answered with words of our own.
     *
     * @param deadlineSeconds the routes' deadline, named in a 504
     */
    static FullHttpResponse answer(Throwable t, long deadlineSeconds) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        String ours = ours(c) ? withoutCause(c) : null;
        HttpResponseStatus status;
        String words;
        if (c instanceof HttpError a) {
            status = a.status();
            words = a.getMessage();
        } else if (c instanceof TimeoutException) {
            status = HttpResponseStatus.GATEWAY_TIMEOUT;
            words = "no answer from the network within " + deadlineSeconds + " s";
        } else if (c instanceof IllegalArgumentException) {
            status = HttpResponseStatus.BAD_REQUEST;
            words = ours != null ? ours : "the request is malformed";
        } else if (c instanceof NotFoundException) {
            status = HttpResponseStatus.NOT_FOUND;
            words = c.getMessage();
        } else if (c instanceof java.net.ConnectException) {
            status = HttpResponseStatus.BAD_GATEWAY;
            words = "could not connect to the peer";
        } else {
            status = HttpResponseStatus.BAD_GATEWAY;
            words = ours != null ? ours : "the request failed in the network; see the node's log";
            if (ours == null) {
                LOG.log(System.Logger.Level.WARNING, "API request failed", c);
            }
        }
        return Json.error(status, words == null ? "the request failed" : words);
    }

    /**
     * Our message without the text of a foreign cause that it quotes at its end ("cannot connect to
     * ADDR: " + Netty's words): the first part is ours, the rest goes to the log only.
     */
    private static String withoutCause(Throwable t) {
        String m = t.getMessage();
        Throwable cause = t.getCause();
        if (cause != null && !ours(cause) && cause.getMessage() != null && m.endsWith(": " + cause.getMessage())) {
            LOG.log(System.Logger.Level.DEBUG, "API request failed: {0}", m);
            return m.substring(0, m.length() - cause.getMessage().length() - 2)
                    + (cause instanceof java.net.ConnectException ? ": the connection was refused or failed" : "");
        }
        return m;
    }

    /** Whether {@code t}'s message was written by this project (thrown from io.oecloud code). */
    private static boolean ours(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return t.getMessage() != null && st.length > 0 && st[0].getClassName().startsWith("io.oecloud.");
    }

    /** Whether a failure on the event loop is the client going away (an I/O error, a closed connection) rather than a bug. */
    static boolean clientWentAway(Throwable cause) {
        return cause instanceof IOException || cause instanceof io.netty.handler.codec.PrematureChannelClosureException;
    }
}
