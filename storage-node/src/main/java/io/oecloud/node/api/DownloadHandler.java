package io.oecloud.node.api;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.oecloud.http.ByteRange;
import io.oecloud.http.CacheHeaders;
import io.oecloud.http.Json;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectView;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET} and {@code HEAD /v1/objects/{cid}[/path]}: the bytes (one range, RFC 9110; ETag =
 * CID; immutable caching), or a directory's entries as JSON. The first segment is fetched before
 * the answer's head is written, so a missing object or too few shards is a clean 404 or 503; a
 * failure later aborts the connection (a client sees fewer bytes than Content-Length, never a
 * complete-looking truncated 200). Answers carry {@code Content-Disposition: attachment} unless
 * their type is inert ({@link MediaTypes}). An encrypted object is decrypted only for a request
 * that carried the API token. Runs on a work thread; writes wait while the socket is full.
 */
final class DownloadHandler {
    private static final System.Logger LOG = System.getLogger(DownloadHandler.class.getName());

    private final ObjectStore objects;

    DownloadHandler(ObjectStore objects) {
        this.objects = objects;
    }

    /**
     * @param cidText the root CID as sent
     * @param path the names under it (decoded), empty for the root itself
     * @param range the Range header, null when absent
     */
    void serve(ChannelHandlerContext ctx, String cidText, List<String> path, String range, boolean head, boolean keepAlive,
               boolean authenticated) {
        Cid root;
        try {
            root = Cid.parse(cidText);
        } catch (CidFormatException e) {
            Answers.malformedCid(ctx, cidText, e, keepAlive);
            return;
        }
        try {
            ObjectView target = objects.resolve(root, path);
            Cid cid = target.cid();
            if (target.encrypted() && !authenticated) {
                FullHttpResponse r = Json.error(HttpResponseStatus.UNAUTHORIZED, cid + " is encrypted: reading it needs the node's"
                        + " API token ('Authorization: Bearer TOKEN'; the token is the file api-token in the node's data directory)");
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"oe\"");
                Answers.send(ctx, r, keepAlive);
                return;
            }
            if (target.directory()) {
                FullHttpResponse listing = Json.response(HttpResponseStatus.OK, directoryListing(target));
                CacheHeaders.immutable(listing.headers(), cid);
                if (head) {
                    listing.content().clear();
                }
                Answers.send(ctx, listing, keepAlive);
                return;
            }
            long size = target.size();
            long from = 0;
            long to = size;
            HttpResponseStatus status = HttpResponseStatus.OK;
            switch (ByteRange.parse(range, size)) {
                case ByteRange.Slice slice -> {
                    from = slice.from();
                    to = slice.to();
                    status = HttpResponseStatus.PARTIAL_CONTENT;
                }
                case ByteRange.Unsatisfiable u -> {
                    FullHttpResponse resp = Json.error(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, u.reason());
                    resp.headers().set(HttpHeaderNames.CONTENT_RANGE, ByteRange.unsatisfied(size));
                    Answers.send(ctx, resp, keepAlive);
                    return;
                }
                case ByteRange.Whole w -> { }
            }
            String type = MediaTypes.servedType(target.contentType());
            HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set(HttpHeaderNames.CONTENT_LENGTH, to - from);
            CacheHeaders.immutable(resp.headers(), cid).set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
            if (!MediaTypes.inert(type)) { // websites are the edge's job, on their own origins
                resp.headers().set(HttpHeaderNames.CONTENT_DISPOSITION, "attachment");
            }
            if (status == HttpResponseStatus.PARTIAL_CONTENT) {
                resp.headers().set(HttpHeaderNames.CONTENT_RANGE, new ByteRange.Slice(from, to).contentRange(size));
            }
            if (head) {
                HttpUtil.setKeepAlive(resp, keepAlive);
                ctx.writeAndFlush(resp);
                ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                if (!keepAlive) {
                    f.addListener(ChannelFutureListener.CLOSE);
                }
                return;
            }
            ChannelOutput out = new ChannelOutput(ctx, resp);
            try {
                objects.read(target, new ObjectStore.ByteSpan(from, to), out);
            } catch (ObjectException | IOException e) {
                if (!out.started) {
                    throw e; // nothing sent yet: a clean error answer
                }
                ctx.executor().execute(ctx::close); // mid-body: abort, never a complete-looking 200
                return;
            }
            out.finish(keepAlive);
        } catch (ObjectException e) {
            Answers.refused(ctx, e, keepAlive);
        } catch (IOException e) { // the client stopped reading before the first byte
            LOG.log(System.Logger.Level.DEBUG, "download of {0} failed: {1}", cidText, e.getMessage());
            ctx.executor().execute(ctx::close);
        } catch (RuntimeException e) {
            Answers.internalError(ctx, e, keepAlive);
        }
    }

    private static Map<String, Object> directoryListing(ObjectView dir) {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (ObjectStore.DirectoryEntry e : dir.entries()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", e.name());
            o.put("cid", e.cid().toString());
            o.put("size", e.size());
            o.put("type", e.contentType());
            o.put("directory", e.directory());
            entries.add(o);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cid", dir.cid().toString());
        out.put("size", dir.size());
        out.put("entries", entries);
        return out;
    }
}
