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
 *   DELETE /v1/objects/{cid}    unpin (this node's key must be the owner) -> {"cid", "unpinned"}; on a node that
 *                               pays, its contract ends first -> {"cid", "unpinned", "contract": {"refund", "paidThrough"}}
 *   GET    /v1/health/{cid}     healthy shards per segment (HAS probes) -> {"k", "m", "weakest", "healthy": [...]}
 * </pre>
 */
final class ObjectAdmin {
    private final ObjectStore objects;
    private final io.oecloud.node.paying.ContractBuyer buyer;

    ObjectAdmin(ObjectStore objects, io.oecloud.node.paying.ContractBuyer buyer) {
        this.objects = objects;
        this.buyer = buyer;
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
        byCid(ctx, cidText, keepAlive, cid -> {
            // The contract ends first: an unpinned object whose contract could not be ended would
            // keep paying holders for blocks they are about to drop. Ended, the unpin follows; an
            // object already unpinned here whose contract was still running counts as deleted.
            io.oecloud.node.paying.ContractBuyer.Ended ended = buyer == null ? null : buyer.end(cid);
            int unpinned;
            try {
                unpinned = objects.unpin(cid);
            } catch (ObjectException e) {
                if (ended == null || e.code() != ObjectException.Code.NOT_FOUND) {
                    throw e;
                }
                unpinned = 0;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cid", cid.toString());
            m.put("unpinned", unpinned);
            if (ended != null) {
                m.put("contract", ended.toMap());
            }
            return m;
        });
    }

    void health(ChannelHandlerContext ctx, String cidText, boolean keepAlive) {
        byCid(ctx, cidText, keepAlive, cid -> {
            ObjectStore.Health h = objects.health(cid);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("cid", h.cid().toString());
            out.put("k", h.k());
            out.put("m", h.m());
            out.put("segments", h.healthyPerSegment().size());
            out.put("weakest", h.weakest());
            out.put("healthy", h.healthyPerSegment());
            return out;
        });
    }

    /** What a route answers about one object. */
    private interface ByCid {
        Object answer(Cid cid) throws ObjectException;
    }

    /** 200 with {@code route}'s answer for the CID in {@code cidText}; 400 for a malformed CID, the code's status for a refusal. */
    private static void byCid(ChannelHandlerContext ctx, String cidText, boolean keepAlive, ByCid route) {
        try {
            Answers.json(ctx, HttpResponseStatus.OK, route.answer(Cid.parse(cidText)), keepAlive);
        } catch (CidFormatException e) {
            Answers.malformedCid(ctx, cidText, e, keepAlive);
        } catch (ObjectException e) {
            Answers.refused(ctx, e, keepAlive);
        } catch (RuntimeException e) {
            Answers.internalError(ctx, e, keepAlive);
        }
    }
}
