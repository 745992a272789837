package io.oecloud.node.object;

import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.node.shard.ShardException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@link ShardHolders} in memory for tests of the object parts: each peer stores what it is given,
 * unless told to refuse ({@link Mode#FULL}), to be busy once, or never to answer
 * ({@link Mode#SILENT}: its futures complete only when cancelled).
 */
final class FakeHolders implements ShardHolders {
    enum Mode { OK, FULL, BUSY_ONCE, SILENT, UNPAID }

    final PeerId self = Identity.generate().peerId();
    final Map<PeerId, Mode> modes = new ConcurrentHashMap<>();
    final Map<PeerId, Map<Cid, byte[]>> stored = new ConcurrentHashMap<>();
    /** Every put asked for, in order: (peer, cid). */
    final List<Pin> asked = new CopyOnWriteArrayList<>();
    final List<Pin> unpinned = new CopyOnWriteArrayList<>();
    /** Futures of silent peers, so tests can see they were cancelled. */
    final List<CompletableFuture<?>> silent = new CopyOnWriteArrayList<>();

    static List<PeerId> peers(int n) {
        List<PeerId> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(Identity.generate().peerId());
        }
        return l;
    }

    FakeHolders set(PeerId peer, Mode mode) {
        modes.put(peer, mode);
        return this;
    }

    private Mode mode(PeerId peer) {
        return modes.getOrDefault(peer, Mode.OK);
    }

    @Override
    public PeerId self() {
        return self;
    }

    @Override
    public CompletableFuture<Void> put(PeerId peer, Cid cid, byte[] block) {
        asked.add(new Pin(peer, cid));
        return switch (mode(peer)) {
            case OK -> {
                stored.computeIfAbsent(peer, p -> new ConcurrentHashMap<>()).put(cid, block);
                yield CompletableFuture.completedFuture(null);
            }
            case FULL -> CompletableFuture.failedFuture(new ShardException(Status.FULL, "no space left"));
            case UNPAID -> CompletableFuture.failedFuture(new ShardException(Status.PAYMENT_REQUIRED, "the owner's account cannot pay"));
            case BUSY_ONCE -> {
                modes.put(peer, Mode.OK);
                yield CompletableFuture.failedFuture(new ShardException(Status.BUSY, "too many transfers"));
            }
            case SILENT -> {
                CompletableFuture<Void> f = new CompletableFuture<>();
                silent.add(f);
                yield f;
            }
        };
    }

    @Override
    public CompletableFuture<Void> putRebuilt(PeerId peer, Cid cid, byte[] block, byte[] owner) {
        return put(peer, cid, block);
    }

    @Override
    public CompletableFuture<byte[]> get(PeerId peer, Cid cid) {
        return find(peer, cid);
    }

    @Override
    public CompletableFuture<byte[]> find(PeerId peer, Cid cid) {
        if (mode(peer) == Mode.SILENT) {
            CompletableFuture<byte[]> f = new CompletableFuture<>();
            silent.add(f);
            return f;
        }
        byte[] b = stored.getOrDefault(peer, Map.of()).get(cid);
        return b == null ? CompletableFuture.failedFuture(new IOException(peer + " has no " + cid))
                : CompletableFuture.completedFuture(b);
    }

    /** Every PROVE asked for, in order: (peer, cid). */
    final List<Pin> proved = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<SliceProof> prove(PeerId peer, Cid cid, long firstChunk, int count, long size) {
        proved.add(new Pin(peer, cid));
        if (mode(peer) == Mode.SILENT) {
            CompletableFuture<SliceProof> f = new CompletableFuture<>();
            silent.add(f);
            return f;
        }
        byte[] b = stored.getOrDefault(peer, Map.of()).get(cid);
        if (b == null) {
            return CompletableFuture.failedFuture(new IOException(peer + " has no " + cid));
        }
        try {
            SliceProof p = SliceProver.prove(b, firstChunk, count);
            p.verify(cid, size);
            return CompletableFuture.completedFuture(p);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletableFuture<Boolean> has(PeerId peer, Cid cid) {
        return CompletableFuture.completedFuture(stored.getOrDefault(peer, Map.of()).containsKey(cid));
    }

    @Override
    public CompletableFuture<Boolean> anyAnswers(List<PeerId> peers, Cid cid) {
        return CompletableFuture.completedFuture(peers.stream().anyMatch(p -> mode(p) != Mode.SILENT));
    }

    @Override
    public CompletableFuture<Boolean> unpin(PeerId peer, Cid cid) {
        unpinned.add(new Pin(peer, cid));
        return CompletableFuture.completedFuture(stored.getOrDefault(peer, Map.of()).remove(cid) != null);
    }
}
