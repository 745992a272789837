package io.oecloud.node.object;

import io.oecloud.dht.PeerId;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProofException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * {@link ShardHolders} of a storage node: its own peer ID goes to its {@link ShardStore} (on
 * {@code io}, the node's short disk tasks), every other to {@link ShardClient}. The one place that
 * tells this node from the others.
 */
final class NodeShardHolders implements ShardHolders {
    private static final System.Logger LOG = System.getLogger(NodeShardHolders.class.getName());

    private final PeerId self;
    private final ShardStore local;
    private final ShardClient remote;
    private final byte[] key;
    private final Executor io;
    private final Consumer<Cid> storedLocally;
    private final Troubled troubled;

    /**
     * @param key this node's public key: what its puts pin and its unpins remove
     * @param storedLocally called with each block stored here (to announce it in the DHT)
     * @param troubled where GETs that a peer failed are noted (this node's own store failing says
     *     nothing about the network)
     */
    NodeShardHolders(PeerId self, ShardStore local, ShardClient remote, byte[] key, Executor io,
                     Consumer<Cid> storedLocally, Troubled troubled) {
        this.self = self;
        this.local = local;
        this.remote = remote;
        this.key = key.clone();
        this.io = io;
        this.storedLocally = storedLocally;
        this.troubled = troubled;
    }

    @Override
    public PeerId self() {
        return self;
    }

    @Override
    public CompletableFuture<Void> put(PeerId peer, Cid cid, byte[] block) {
        if (!peer.equals(self)) {
            return remote.put(peer, cid, block);
        }
        // Not CompletableFuture.runAsync: cancelling that does not stop the write, and a copy
        // written after its placement gave it up would keep a pin nobody knows of. Here the
        // write that finds its future cancelled takes its own pin back.
        CompletableFuture<Void> result = new CompletableFuture<>();
        try {
            io.execute(() -> {
                if (result.isDone()) {
                    return; // cancelled before it started
                }
                try {
                    local.putComputed(cid, block, key); // the callers computed cid from block
                } catch (StoreException | RuntimeException e) {
                    result.completeExceptionally(e);
                    return;
                }
                if (result.complete(null)) {
                    storedLocally.accept(cid);
                } else {
                    unpinQuietly(cid);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new StoreException(StoreException.Code.CLOSED, "this node is shutting down"));
        }
        return result;
    }

    private void unpinQuietly(Cid cid) {
        try {
            local.unpin(cid, key);
        } catch (StoreException e) {
            LOG.log(System.Logger.Level.WARNING, "could not take back this node''s pin of {0}: {1}", cid, e.getMessage());
        }
    }

    @Override
    public CompletableFuture<Void> putRebuilt(PeerId peer, Cid cid, byte[] block, byte[] owner) {
        if (!peer.equals(self)) {
            return remote.put(peer, cid, block); // pinned by this node's key: it cannot sign for the owner
        }
        try {
            local.put(cid, block, owner);
        } catch (StoreException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        storedLocally.accept(cid);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<byte[]> get(PeerId peer, Cid cid) {
        CompletableFuture<byte[]> f = find(peer, cid); // returned itself, so cancelling it ends the transfer
        if (!peer.equals(self)) {
            f.whenComplete((b, e) -> {
                if (e != null && !(e instanceof java.util.concurrent.CancellationException)) {
                    troubled.failedGet(peer, e); // wrong bytes (caught by the CID check), an error or no answer
                }
            });
        }
        return f;
    }

    @Override
    public CompletableFuture<byte[]> find(PeerId peer, Cid cid) {
        if (!peer.equals(self)) {
            return remote.get(peer, cid);
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return local.get(cid);
            } catch (StoreException e) {
                throw new CompletionException(e);
            }
        }, io);
    }

    @Override
    public CompletableFuture<SliceProof> prove(PeerId peer, Cid cid, long firstChunk, int count, long size) {
        if (!peer.equals(self)) {
            CompletableFuture<SliceProof> f = remote.prove(peer, cid, firstChunk, count, size);
            f.whenComplete((p, e) -> {
                if (e != null && !(e instanceof java.util.concurrent.CancellationException)) {
                    troubled.failedGet(peer, e); // a proof that fails (caught by the client), an error or no answer
                }
            });
            return f;
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                SliceProof p = local.prove(cid, firstChunk, count); // verified against the CID and the stored size
                p.verify(cid, size); // and the size the caller expects
                return p;
            } catch (StoreException | SliceProofException e) {
                throw new CompletionException(e);
            }
        }, io);
    }

    @Override
    public CompletableFuture<Boolean> has(PeerId peer, Cid cid) {
        if (peer.equals(self)) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return local.has(cid);
                } catch (StoreException e) {
                    return false;
                }
            }, io);
        }
        return remote.has(peer, cid).handle((size, e) -> e == null && size >= 0);
    }

    @Override
    public CompletableFuture<Boolean> anyAnswers(List<PeerId> peers, Cid cid) {
        if (peers.isEmpty()) {
            return CompletableFuture.completedFuture(false);
        }
        if (peers.contains(self)) {
            return CompletableFuture.completedFuture(true);
        }
        CompletableFuture<Boolean> any = new CompletableFuture<>();
        AtomicInteger left = new AtomicInteger(peers.size());
        for (PeerId p : peers) {
            remote.has(p, cid).whenComplete((size, e) -> {
                if (e == null) {
                    any.complete(true);
                } else if (left.decrementAndGet() == 0) {
                    any.complete(false);
                }
            });
        }
        return any;
    }

    @Override
    public CompletableFuture<Boolean> unpin(PeerId peer, Cid cid) {
        if (peer.equals(self)) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return local.unpin(cid, key);
                } catch (StoreException e) {
                    return false;
                }
            }, io);
        }
        return remote.unpin(peer, cid).handle((ok, e) -> e == null);
    }
}
