package io.oecloud.node.api;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.oecloud.http.Json;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.StoredHook;
import io.oecloud.node.paying.ContractBuyer;
import io.oecloud.node.paying.Terms;
import io.oecloud.proofs.Cid;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * {@code POST /v1/objects[?encrypt=true]}: body = the object, streamed into the object store
 * through a {@link BodyStream} (Content-Type kept when well-formed) -> 201 {"cid"}. Refused
 * before a byte of the body is read: a declared length over {@link #MAX_OBJECT} (413), an
 * upload over the per-address or node-wide limit ({@link UploadLimits}: 429 or 503 with
 * Retry-After), a malformed query (400). A body that never ends stores nothing and is answered
 * as its {@link BodyStream.Aborted} says. Shared by the connections; the upload itself runs on
 * {@code work}.
 *
 * <p>On a node that pays for storage (a {@link ContractBuyer}: a node with a chain link), the upload
 * buys the object's contract before it is acknowledged, for {@code ?periods=N} or {@code ?days=D}
 * ({@link Terms#DEFAULT} when neither), and the answer carries it: 201 {"cid", "contract": {...}}.
 * When the account cannot pay the answer is 402 with the chain's reason, and nothing is kept.
 */
final class UploadHandler {
    static final long MAX_OBJECT = 1L << 40;

    private final ObjectStore objects;
    private final Executor work;
    private final UploadLimits uploads;
    private final long silenceMillis;
    private final ContractBuyer buyer;

    UploadHandler(ObjectStore objects, Executor work, UploadLimits uploads, long silenceMillis, ContractBuyer buyer) {
        this.buyer = buyer;
        this.objects = objects;
        this.work = work;
        this.uploads = uploads;
        this.silenceMillis = silenceMillis;
    }

    /**
     * Starts the upload {@code req} asks for (event loop) and returns the stream its body's
     * chunks go to, or null when it was refused (and answered). {@code ended} runs on the event
     * loop once the upload is over, with that stream.
     */
    BodyStream start(ChannelHandlerContext ctx, HttpRequest req, Consumer<BodyStream> ended) {
        long length = HttpUtil.getContentLength(req, -1L);
        if (length > MAX_OBJECT) {
            Answers.error(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "object of " + length + " bytes exceeds the limit of " + MAX_OBJECT, false);
            return null;
        }
        InetAddress client = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        UploadLimits.Refusal refused = uploads.admit(client);
        if (refused != null) {
            FullHttpResponse r = Json.error(refused.status(), refused.reason());
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            Answers.send(ctx, r, false);
            return null;
        }
        String type = MediaTypes.servedType(req.headers().get(HttpHeaderNames.CONTENT_TYPE));
        List<String> enc;
        Map<String, List<String>> query;
        try {
            query = new QueryStringDecoder(req.uri()).parameters();
            enc = query.getOrDefault("encrypt", List.of());
        } catch (IllegalArgumentException e) {
            uploads.release(client);
            Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, "the query has malformed percent-encoding", false);
            return null;
        }
        Terms terms;
        try {
            terms = terms(query);
        } catch (IllegalArgumentException e) {
            uploads.release(client);
            Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, e.getMessage(), false);
            return null;
        }
        boolean encrypt = enc.contains("true") || "true".equalsIgnoreCase(req.headers().get("X-OE-Encrypt"));
        if (HttpUtil.is100ContinueExpected(req)) {
            // curl asks before sending large bodies and would otherwise wait a second for this
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        BodyStream body = new BodyStream(ctx, silenceMillis);
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        work.execute(() -> {
            try {
                java.util.concurrent.atomic.AtomicReference<ContractBuyer.Bought> contract = new java.util.concurrent.atomic.AtomicReference<>();
                StoredHook hook = buyer == null ? StoredHook.NONE : buyer.hook(terms, contract);
                Cid cid = objects.upload(body, type, encrypt, hook);
                body.drain();
                Answers.json(ctx, HttpResponseStatus.CREATED, answer(cid, contract.get()), keepAlive);
            } catch (Throwable t) { // never leave a client waiting for an answer that will not come
                body.drain();
                BodyStream.Aborted aborted = body.failure();
                if (aborted != null) { // the body never ended: answer only if someone is there to hear it
                    if (aborted.status != null) {
                        Answers.error(ctx, aborted.status, aborted.getMessage(), false);
                    }
                } else if (t instanceof ObjectException e) {
                    Answers.refused(ctx, e, false);
                } else {
                    Answers.internalError(ctx, t, false);
                }
            } finally {
                uploads.release(client);
                ctx.executor().execute(() -> ended.accept(body));
            }
        });
        return body;
    }

    /** The terms of {@code ?periods=N} or {@code ?days=D}; the default when neither. */
    static Terms terms(Map<String, List<String>> query) {
        List<String> p = query.getOrDefault("periods", List.of());
        List<String> d = query.getOrDefault("days", List.of());
        if (p.size() > 1 || d.size() > 1) {
            throw new IllegalArgumentException("give periods or days once");
        }
        return Terms.parse(p.isEmpty() ? null : p.get(0), d.isEmpty() ? null : d.get(0));
    }

    /** {"cid"} and, when one was bought, {"contract"}. */
    static Map<String, Object> answer(Cid cid, ContractBuyer.Bought contract) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("cid", cid.toString());
        if (contract != null) {
            m.put("contract", contract.toMap());
        }
        return m;
    }
}
