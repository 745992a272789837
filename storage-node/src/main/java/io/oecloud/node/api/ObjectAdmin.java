package io.oecloud.node.api;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What this node holds for its owner, answered as JSON on a work thread:
 * <pre>
 *   GET    /v1/objects          the objects uploaded through this node -> {"objects": [...]}
 *   DELETE /v1/objects/{cid}    unpin (this node's key must be the owner) -> {"cid", "unpinned"}
 *   GET    /v1/health/{cid}     healthy shards per segment (HAS probes) -> {"k", "m", "weakest", "healthy": [...]}
 * </pre>
 */
final class ObjectAdmin {
    private final ObjectStore objects;

    ObjectAdmin(ObjectStore objects) {
        this.objects = objects;
    }

    void list(ChannelHandlerContext ctx, boolean keepAlive) {
        try {
            List<Map<String, Object>> out = new ArrayList<>();
            for (ObjectStore.ObjectInfo i : objects.list()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("cid", i.cid().toString());
                o.put("size", i.size());
                o.put("type", i.contentType());
                o.put("directory", i.directory());
                o.put("encrypted", i.encrypted());
                o.put("stored", Instant.ofEpochMilli(i.storedAtMillis()).toString());
                out.add(o);
            }
            Answers.json(ctx, HttpResponseStatus.OK, Map.of("objects", out), keepAlive);
        } catch (StoreException | RuntimeException e) {
            Answers.internalError(ctx, e, keepAlive);
        }
    }

    void unpin(ChannelHandlerContext ctx, String cidText, boolean keepAlive) {
        try {
            Cid cid = Cid.parse(cidText);
            int n = objects.unpin(cid);
            Answers.json(ctx, HttpResponseStatus.OK, Map.of("cid", cid.toString(), "unpinned", n), keepAlive);
        } catch (CidFormatException e) {
            Answers.malformedCid(ctx, cidText, e, keepAlive);
        } catch (ObjectException e) {
            Answers.refused(ctx, e, keepAlive);
        } catch (RuntimeException e) {
            Answers.internalError(ctx, e, keepAlive);
        }
    }

    void health(ChannelHandlerContext ctx, String cidText, boolean keepAlive) {
        try {
            ObjectStore.Health h = objects.health(Cid.parse(cidText));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("cid", h.cid().toString());
            out.put("k", h.k());
            out.put("m", h.m());
            out.put("segments", h.healthyPerSegment().size());
            out.put("weakest", h.weakest());
            out.put("healthy", h.healthyPerSegment());
            Answers.json(ctx, HttpResponseStatus.OK, out, keepAlive);
        } catch (CidFormatException e) {
            Answers.malformedCid(ctx, cidText, e, keepAlive);
        } catch (ObjectException e) {
            Answers.refused(ctx, e, keepAlive);
        } catch (RuntimeException e) {
            Answers.internalError(ctx, e, keepAlive);
        }
    }
}
