package io.oecloud.node.paying;

import io.oecloud.dht.PeerId;
import io.oecloud.node.shard.Receipts;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardException;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Receipts as a storage node gathers them for its uploads: a peer's through the shard protocol's
 * RECEIPT ({@link ShardClient#receipt}, checked before it completes), this node's own signed
 * locally ({@link Receipts#signBlocks}, on {@code io}: store reads). The payer is the key
 * {@code shards} signs with ({@link ShardClient#signerKey}): the node's own, or the S3 namespace's
 * for the gateway's objects. The chain ID both are bound to is read
 * once, at the first receipt (the chain may not answer yet when the node starts); a failed read is
 * tried again at the next.
 */
public final class NodeReceipts implements ContractBuyer.Receipts {
    /** Reads the chain's ID. */
    @FunctionalInterface
    public interface ChainId {
        String read() throws IOException;
    }

    private final PeerId self;
    private final ShardClient shards;
    private final ChainId chainId;
    private final Function<String, Receipts> signer;
    private final Executor io;
    private volatile Receipts own;

    /** @param signer this node's receipt signer for a chain ID */
    public NodeReceipts(PeerId self, ShardClient shards, ChainId chainId, Function<String, Receipts> signer, Executor io) {
        this.self = self;
        this.shards = shards;
        this.chainId = chainId;
        this.signer = signer;
        this.io = io;
    }

    @Override
    public CompletableFuture<Receipts.Signed> receipt(PeerId holder, Cid object, long period) {
        Receipts r;
        try {
            r = own();
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (!holder.equals(self)) {
            return shards.receiptBlocks(holder, object, period);
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                Receipts.Signed mine = r.signBlocks(object, shards.signerKey(), period, self);
                if (mine == null) {
                    throw new ShardException(ShardResponse.Status.NOT_FOUND, "this node holds no block of " + object
                            + " pinned by the payer's key");
                }
                return mine;
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, io);
    }

    private Receipts own() throws IOException {
        Receipts r = own;
        if (r == null) {
            synchronized (this) {
                if (own == null) {
                    String id = chainId.read();
                    shards.useChain(id);
                    own = signer.apply(id);
                }
                r = own;
            }
        }
        return r;
    }
}
