package io.oecloud.node.api;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.oecloud.chain.node.ChainRoutes;
import io.oecloud.http.HttpError;
import io.oecloud.http.Json;
import io.oecloud.http.Route;
import io.oecloud.http.Router;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The routes whose bodies arrive whole (after the aggregator): finds the route, runs it under
 * the API's deadline, and writes its answer or the one {@link Failures} gives. 404 for a path no
 * route knows, 405 with {@code Allow} for a known path under another method. The request is
 * released when {@code channelRead0} returns, so a route copies what it keeps of it.
 */
final class JsonRoutesHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final System.Logger LOG = System.getLogger(JsonRoutesHandler.class.getName());

    private final Router<Route> router;
    private final boolean superNode;
    private final long deadlineSeconds;

    /**
     * @param superNode whether the chain's routes are in {@code router}; if not, every {@code /v1/chain/} path says so
     */
    JsonRoutesHandler(Router<Route> router, boolean superNode, long deadlineSeconds) {
        this.router = router;
        this.superNode = superNode;
        this.deadlineSeconds = deadlineSeconds;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        CompletableFuture<FullHttpResponse> f;
        try {
            f = route(req);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        io.oecloud.dht.Deadlines.orTimeout(f, TimeUnit.SECONDS.toMillis(deadlineSeconds))
                .exceptionally(t -> Failures.answer(t, deadlineSeconds))
                .thenAccept(resp -> {
                    HttpUtil.setContentLength(resp, resp.content().readableBytes());
                    if (keepAlive) {
                        HttpUtil.setKeepAlive(resp, true);
                        ctx.writeAndFlush(resp);
                    } else {
                        ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
                    }
                });
    }

    private CompletableFuture<FullHttpResponse> route(FullHttpRequest req) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        String path = q.path();
        if (!superNode && path.startsWith("/v1/chain/")) {
            throw new HttpError(HttpResponseStatus.NOT_FOUND, ChainRoutes.NOT_SUPER_NODE);
        }
        return switch (router.match(req.method(), path)) {
            case Router.Found<Route> found -> found.handler().handle(new Route.Request(req, q, found.params()));
            case Router.WrongMethod<Route> w -> {
                FullHttpResponse r = Json.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                        req.method() + " is not a method of " + path + "; use " + w.allowHeader());
                r.headers().set(HttpHeaderNames.ALLOW, w.allowHeader());
                yield CompletableFuture.completedFuture(r);
            }
            case Router.NotFound<Route> n -> throw new HttpError(HttpResponseStatus.NOT_FOUND, "no route for " + req.method() + " " + path);
        };
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a handler failed on the event loop: a bug (logged), or the client went away (an I/O error, or
        // the aggregator's "closed while still aggregating"); either way the connection ends here
        if (Failures.clientWentAway(cause)) {
            LOG.log(System.Logger.Level.DEBUG, "API client went away", cause);
        } else {
            LOG.log(System.Logger.Level.ERROR, "API request failed", cause);
        }
        ctx.close();
    }
}
