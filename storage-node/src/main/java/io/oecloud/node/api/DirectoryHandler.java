package io.oecloud.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.http.Json;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.CidFormatException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/directories}: {"entries": [{"name", "cid"}]} -> 201 {"cid"}. The body arrives
 * whole (at most {@link #MAX_DIRECTORY_BODY}, held within the node-wide {@link BodyBudget}:
 * {@link ObjectsHttpHandler} gathers it); this parses and stores it on a work thread.
 */
final class DirectoryHandler {
    /** Directory listings sent in one request (100,000 entries of long names fit). */
    static final int MAX_DIRECTORY_BODY = 32 << 20;

    private final ObjectStore objects;
    private final io.oecloud.node.paying.ContractBuyer buyer;

    DirectoryHandler(ObjectStore objects, io.oecloud.node.paying.ContractBuyer buyer) {
        this.objects = objects;
        this.buyer = buyer;
    }

    /**
     * Stores the listing in {@code body} (read, not released: the caller owns it). On a node that
     * pays, the directory's manifest gets a contract of its own, for {@code terms}: it is a block
     * the holders keep only while a contract covers it, like any other (its entries' objects have
     * theirs from their uploads).
     */
    void put(ChannelHandlerContext ctx, ByteBuf body, boolean keepAlive, io.oecloud.node.paying.Terms terms) {
        try {
            JsonNode doc;
            try {
                doc = Json.MAPPER.readTree(new ByteBufInputStream(body));
            } catch (JsonProcessingException e) {
                var at = e.getLocation();
                Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, "directory body is not JSON"
                        + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), keepAlive);
                return;
            } catch (IOException e) {
                Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, "directory body is not JSON", keepAlive);
                return;
            }
            if (doc == null || !doc.path("entries").isArray()) {
                Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, "directory body must be {\"entries\": [{\"name\", \"cid\"}, ...]}", keepAlive);
                return;
            }
            List<ObjectStore.NewEntry> entries = new ArrayList<>();
            for (JsonNode e : doc.get("entries")) {
                String name = e.path("name").asText(null);
                String cidText = e.path("cid").asText("");
                try {
                    entries.add(new ObjectStore.NewEntry(name, Cid.parse(cidText)));
                } catch (CidFormatException x) {
                    Answers.error(ctx, HttpResponseStatus.BAD_REQUEST, "entry '" + name + "': malformed CID '"
                            + cidText + "': " + x.getMessage(), keepAlive);
                    return;
                }
            }
            java.util.concurrent.atomic.AtomicReference<io.oecloud.node.paying.ContractBuyer.Bought> contract =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Cid cid = objects.putDirectory(entries, buyer == null ? io.oecloud.node.object.StoredHook.NONE : buyer.hook(terms, contract));
            Answers.json(ctx, HttpResponseStatus.CREATED, UploadHandler.answer(cid, contract.get()), keepAlive);
        } catch (ObjectException e) {
            Answers.refused(ctx, e, keepAlive);
        } catch (RuntimeException e) {
            Answers.internalError(ctx, e, keepAlive);
        }
    }
}
