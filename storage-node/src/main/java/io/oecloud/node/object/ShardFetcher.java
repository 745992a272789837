package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One shard, from its first holder that answers with bytes matching its CID: the holders the
 * manifest lists, one after another, then the providers the DHT knows (repair moves shards to new
 * nodes). Used by downloads and repair. A range of a shard's chunks comes the same way, as a slice
 * verified against the CID ({@link #prove}).
 */
final class ShardFetcher {
    /** Providers asked for when no listed holder answers. */
    static final int PROVIDERS = 8;

    private final ShardHolders holders;
    private final Providers providers;

    ShardFetcher(ShardHolders holders, Providers providers) {
        this.holders = holders;
        this.providers = providers;
    }

    /** The shard's checked bytes; cancelling the future stops the transfer under way. */
    CompletableFuture<byte[]> fetch(Shard shard) {
        return ask(shard, (peer, cid) -> holders.get(peer, cid));
    }

    /**
     * Chunks {@code [firstChunk, firstChunk + count)} of the shard with their proof, verified
     * against its CID and {@code shardSize}, from its first holder that answers with one.
     */
    CompletableFuture<SliceProof> prove(Shard shard, long firstChunk, int count, long shardSize) {
        return ask(shard, (peer, cid) -> holders.prove(peer, cid, firstChunk, count, shardSize));
    }

    /** One request to one holder. */
    private interface Request<T> {
        CompletableFuture<T> to(PeerId peer, Cid cid);
    }

    private <T> CompletableFuture<T> ask(Shard shard, Request<T> request) {
        Cid cid = Cid.fromBytes(shard.getCid().toByteArray());
        List<PeerId> listed = new ArrayList<>();
        for (ByteString h : shard.getHoldersList()) {
            listed.add(PeerId.fromBytes(h.toByteArray()));
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        AtomicReference<CompletableFuture<?>> current = new AtomicReference<>();
        result.whenComplete((b, e) -> { // cancelled by a hedging caller: stop the transfer under way
            CompletableFuture<?> c = current.get();
            if (e != null && c != null) {
                c.cancel(true);
            }
        });
        tryHolders(cid, request, listed, 0, new HashSet<>(), result, current, true);
        return result;
    }

    /** Asks holders[i..] one after another, then (once) the DHT's providers of the CID. */
    private <T> void tryHolders(Cid cid, Request<T> request, List<PeerId> from, int i, Set<PeerId> tried,
                                CompletableFuture<T> result, AtomicReference<CompletableFuture<?>> current, boolean askDht) {
        if (result.isDone()) {
            return;
        }
        while (i < from.size() && !tried.add(from.get(i))) {
            i++;
        }
        if (i == from.size()) {
            if (!askDht) {
                result.completeExceptionally(new IOException("no reachable holder of " + cid + " (asked the DHT too)"));
                return;
            }
            CompletableFuture<List<Provider>> lookup = providers.find(cid, PROVIDERS);
            current.set(lookup);
            lookup.whenComplete((found, e) -> {
                List<PeerId> more = new ArrayList<>();
                for (Provider p : found == null ? List.<Provider>of() : found) {
                    providers.remember(p);
                    more.add(p.peer());
                }
                tryHolders(cid, request, more, 0, tried, result, current, false);
            });
            return;
        }
        int at = i;
        CompletableFuture<T> f = request.to(from.get(at), cid);
        current.set(f);
        f.whenComplete((answer, e) -> {
            if (e == null) {
                result.complete(answer);
            } else {
                tryHolders(cid, request, from, at + 1, tried, result, current, askDht);
            }
        });
    }
}
