package io.oecloud.node.api;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.oecloud.http.Json;
import io.oecloud.http.LingeringClose;
import io.oecloud.node.object.ObjectException;

/**
 * How the object routes answer from their work threads: a whole response, then the connection
 * kept or closed. Writing hands the response to Netty, which releases it.
 */
final class Answers {
    private static final System.Logger LOG = System.getLogger(Answers.class.getName());

    private Answers() {}

    static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        HttpUtil.setKeepAlive(r, keepAlive);
        ChannelFuture f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(LingeringClose.AFTER);
        }
    }

    /** {@code body} as JSON with {@code status}. */
    static void json(ChannelHandlerContext ctx, HttpResponseStatus status, Object body, boolean keepAlive) {
        send(ctx, Json.response(status, body), keepAlive);
    }

    /** {@code {"error": words}} with {@code status}. */
    static void error(ChannelHandlerContext ctx, HttpResponseStatus status, String words, boolean keepAlive) {
        send(ctx, Json.error(status, words), keepAlive);
    }

    /** The object pipeline's refusal, with the status {@link Failures} maps its code to. */
    static void refused(ChannelHandlerContext ctx, ObjectException e, boolean keepAlive) {
        send(ctx, Failures.answer(e), keepAlive);
    }

    /** A bug: the detail goes to the log, the client gets words without Java in them. */
    static void internalError(ChannelHandlerContext ctx, Throwable t, boolean keepAlive) {
        LOG.log(System.Logger.Level.ERROR, "request failed", t);
        error(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error; see the node's log", keepAlive);
    }

    /** Runs {@code task}; anything it throws becomes a 500 and a log line, never a silent hang. */
    static Runnable guarded(ChannelHandlerContext ctx, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                internalError(ctx, t, false);
            }
        };
    }

    /** 400 for a CID that does not parse, quoting (shortened) what was sent. */
    static void malformedCid(ChannelHandlerContext ctx, String cidText, Exception e, boolean keepAlive) {
        error(ctx, HttpResponseStatus.BAD_REQUEST, "malformed CID '" + ApiGate.shorten(cidText) + "': " + e.getMessage(), keepAlive);
    }
}
