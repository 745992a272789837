package io.oecloud.node.shard;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.oecloud.dht.Deadlines;
import io.oecloud.dht.Host;
import io.oecloud.dht.Identity;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.ShardProto.ShardRequest;
import io.oecloud.node.pb.ShardProto.ShardResponse;
import io.oecloud.node.pb.ShardProto.ShardResponse.Status;
import io.oecloud.proofs.Cid;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProofException;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Asks other nodes for shards over {@code /oe/shard/1.0.0}. Every call has a deadline; a GET of a
 * whole shard is checked against its CID before it is returned (a range cannot be, and says so);
 * a PROVE's slice is decoded within a cap and verified against the CID before it is returned.
 * Pins and deletes are signed by {@code signer} for the one holder they are sent to
 * ({@link ShardServer#pinMessage}, {@link ShardServer#deleteMessage}).
 */
public final class ShardClient {
    /** How long a pin or delete signature stays valid: time for the transfer, within the holders' windows. */
    static final long SIGNATURE_VALIDITY_MILLIS = TimeUnit.MINUTES.toMillis(5);
    private static final SecureRandom NONCES = new SecureRandom();

    private final Host host;
    private final Identity signer;
    private final long timeoutMillis;
    private final InstantSource clock;
    /** The chain receipts are checked for ({@link #useChain}); null until set. */
    private volatile String chainId;

    /**
     * @param signer the key that pins what this client puts and signs its deletes (the node's own)
     */
    public ShardClient(Host host, Identity signer, long timeoutMillis) {
        this(host, signer, timeoutMillis, InstantSource.system());
    }

    /** @param clock what signatures' expiries count from (the node's clock) */
    public ShardClient(Host host, Identity signer, long timeoutMillis, InstantSource clock) {
        this.host = host;
        this.signer = signer;
        this.timeoutMillis = timeoutMillis;
        this.clock = clock;
    }

    /** The public key this client pins, deletes and asks receipts for. */
    public byte[] signerKey() {
        return signer.publicKey();
    }

    /** Stores a shard on {@code peer}, pinned by the signer's key; completes once durable there. */
    public CompletableFuture<Void> put(PeerId peer, Cid cid, byte[] data) {
        long notAfter = clock.millis() + SIGNATURE_VALIDITY_MILLIS;
        byte[] sig = signer.sign(ShardServer.pinMessage(peer, cid, notAfter));
        ShardRequest r = ShardRequest.newBuilder().setOp(ShardRequest.Op.PUT)
                .setCid(ByteString.copyFrom(cid.toBytes())).setSize(data.length)
                .setOwner(ByteString.copyFrom(signer.publicKey())).setSignature(ByteString.copyFrom(sig)).setNotAfter(notAfter)
                .build();
        return linked(call(peer, r, data), a -> null);
    }

    /**
     * {@code fn} applied to {@code src}'s result, as a future whose cancellation reaches
     * {@code src} (and so resets the stream), unlike {@code thenApply}'s.
     */
    private static <A, B> CompletableFuture<B> linked(CompletableFuture<A> src, java.util.function.Function<A, B> fn) {
        CompletableFuture<B> out = new CompletableFuture<>();
        src.whenComplete((a, e) -> {
            if (e != null) {
                out.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                return;
            }
            try {
                out.complete(fn.apply(a));
            } catch (CompletionException x) {
                out.completeExceptionally(x.getCause() != null ? x.getCause() : x);
            } catch (RuntimeException x) {
                out.completeExceptionally(x);
            }
        });
        out.whenComplete((b, e) -> {
            if (e != null) {
                src.cancel(true);
            }
        });
        return out;
    }

    /** The whole shard, verified against its CID. */
    public CompletableFuture<byte[]> get(PeerId peer, Cid cid) {
        return linked(call(peer, ShardRequest.newBuilder().setOp(ShardRequest.Op.GET)
                .setCid(ByteString.copyFrom(cid.toBytes())).build(), null), a -> {
                    if (!cid.verify(a.data)) {
                        throw new CompletionException(new ShardException(Status.CORRUPT,
                                peer + " answered bytes that do not match " + cid));
                    }
                    return a.data;
                });
    }

    /** {@code length} bytes of the shard from {@code offset} (not verifiable on their own). */
    public CompletableFuture<byte[]> getRange(PeerId peer, Cid cid, long offset, long length) {
        return linked(call(peer, ShardRequest.newBuilder().setOp(ShardRequest.Op.GET)
                .setCid(ByteString.copyFrom(cid.toBytes())).setOffset(offset).setLength(length).build(), null), a -> a.data);
    }

    /**
     * Chunks {@code [firstChunk, firstChunk + count)} of the shard, with their proof, verified
     * against {@code cid} (and against {@code shardSize} when it is known, ≥ 0: a proof that
     * leaves out the last chunk does not prove the length on its own) before the future completes.
     * A holder that answers anything else fails the future with {@link Status#CORRUPT}, as a GET
     * with bad bytes does.
     *
     * @param shardSize the shard's size in bytes, or -1 when the caller does not know it
     * @throws IllegalArgumentException for a count outside [1, {@link ShardStore#MAX_PROVE_CHUNKS}] or a negative first chunk
     */
    public CompletableFuture<SliceProof> prove(PeerId peer, Cid cid, long firstChunk, int count, long shardSize) {
        if (count < 1 || count > ShardStore.MAX_PROVE_CHUNKS || firstChunk < 0) {
            throw new IllegalArgumentException("a PROVE asks for 1 to " + ShardStore.MAX_PROVE_CHUNKS
                    + " chunks from chunk 0 on, not " + count + " from " + firstChunk);
        }
        return linked(call(peer, ShardRequest.newBuilder().setOp(ShardRequest.Op.PROVE)
                .setCid(ByteString.copyFrom(cid.toBytes())).setFirstChunk(firstChunk).setChunkCount(count).build(), null), a -> {
                    try {
                        SliceProof p = SliceProof.decode(a.data, ShardServer.maxProofBytes(count));
                        if (p.firstChunk() != firstChunk || p.chunkCount() != count) {
                            throw new ShardException(Status.CORRUPT, peer + " answered a proof of chunks [" + p.firstChunk()
                                    + ", " + (p.firstChunk() + p.chunkCount()) + ") of " + cid + " for [" + firstChunk
                                    + ", " + (firstChunk + count) + ")");
                        }
                        if (shardSize >= 0) {
                            p.verify(cid, shardSize);
                        } else {
                            p.verify(cid);
                        }
                        return p;
                    } catch (SliceProofException e) {
                        throw new CompletionException(new ShardException(Status.CORRUPT, peer + " answered a proof of chunks ["
                                + firstChunk + ", " + (firstChunk + count) + ") of " + cid + " that fails: " + e.getMessage()));
                    } catch (ShardException e) {
                        throw new CompletionException(e);
                    }
                });
    }

    /** Sets the chain ID receipts ({@link #receipt}) are signed and checked for (the node's chain). */
    public ShardClient useChain(String chainId) {
        if (chainId == null || chainId.isEmpty()) {
            throw new IllegalArgumentException("a chain ID must not be empty");
        }
        this.chainId = chainId;
        return this;
    }

    /**
     * A receipt of {@code holder} for the blocks of {@code object} (a manifest CID) it holds pinned
     * by this client's signer key (the payer), for chain period {@code period}; the future
     * completes only once the receipt is checked: its holder, period, counts and its signature by
     * the holder's key over the object, the payer, the counts and the period on this client's chain
     * ({@link Receipts#problem}). A holder that answers anything else fails the future with
     * {@link Status#CORRUPT}; one that holds nothing of the object with {@link Status#NOT_FOUND}.
     *
     * @throws IllegalStateException when no chain was set ({@link #useChain})
     */
    public CompletableFuture<io.oecloud.chain.pb.ChainProto.Receipt> receipt(PeerId holder, Cid object, long period) {
        return receiptBlocks(holder, object, period).thenApply(Receipts.Signed::receipt);
    }

    /**
     * {@link #receipt}, with the map of the object's blocks the receipt counts (the answer's body,
     * at most {@link Receipts#MAX_BLOCK_MAP} bytes): the payer checks the entries root against it.
     */
    public CompletableFuture<Receipts.Signed> receiptBlocks(PeerId holder, Cid object, long period) {
        String chain = chainId;
        if (chain == null) {
            throw new IllegalStateException("receipts are checked for a chain: call useChain first");
        }
        if (period < 0) {
            throw new IllegalArgumentException("period must not be negative, was " + period);
        }
        PeerId payer = PeerId.fromEd25519(signer.publicKey());
        return linked(call(holder, ShardRequest.newBuilder().setOp(ShardRequest.Op.RECEIPT)
                .setCid(ByteString.copyFrom(object.toBytes())).setOwner(ByteString.copyFrom(signer.publicKey()))
                .setPeriod(period).build(), null), a -> {
                    ByteString bytes = a.response.getReceipt();
                    String problem;
                    io.oecloud.chain.pb.ChainProto.Receipt r = null;
                    if (bytes.size() > Receipts.MAX_ENCODED) {
                        problem = "a receipt of " + bytes.size() + " bytes (at most " + Receipts.MAX_ENCODED + ")";
                    } else {
                        try {
                            r = io.oecloud.chain.pb.ChainProto.Receipt.parseFrom(bytes);
                            problem = Receipts.problem(r, chain, object, payer, holder, period);
                        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                            problem = "bytes that are not a receipt";
                        }
                    }
                    if (problem != null) {
                        throw new CompletionException(new ShardException(Status.CORRUPT, holder + " answered " + object
                                + " with " + problem));
                    }
                    return new Receipts.Signed(r, a.data);
                });
    }

    /** The shard's size at {@code peer}, or -1 when it does not hold a good copy. */
    public CompletableFuture<Long> has(PeerId peer, Cid cid) {
        return call(peer, ShardRequest.newBuilder().setOp(ShardRequest.Op.HAS)
                .setCid(ByteString.copyFrom(cid.toBytes())).build(), null)
                .thenApply(a -> {
                    long size = a.response.getSize();
                    if (Long.compareUnsigned(size, ShardServer.MAX_SHARD) > 0) {
                        throw new CompletionException(new ShardException(Status.BAD_REQUEST,
                                peer + " claims a shard of " + Long.toUnsignedString(size) + " bytes"));
                    }
                    return size;
                })
                .exceptionally(e -> {
                    Throwable c = e instanceof CompletionException ? e.getCause() : e;
                    if (c instanceof ShardException se && se.status() == Status.NOT_FOUND) {
                        return -1L;
                    }
                    throw e instanceof CompletionException ce ? ce : new CompletionException(e);
                });
    }

    /** Removes one of the signer's pins of the shard at {@code peer}, by a delete signed for that peer and usable once. */
    public CompletableFuture<Void> unpin(PeerId peer, Cid cid) {
        long notAfter = clock.millis() + SIGNATURE_VALIDITY_MILLIS;
        byte[] nonce = new byte[ShardServer.NONCE];
        NONCES.nextBytes(nonce);
        byte[] sig = signer.sign(ShardServer.deleteMessage(peer, cid, notAfter, nonce));
        return call(peer, ShardRequest.newBuilder().setOp(ShardRequest.Op.DELETE)
                .setCid(ByteString.copyFrom(cid.toBytes())).setOwner(ByteString.copyFrom(signer.publicKey()))
                .setSignature(ByteString.copyFrom(sig)).setNotAfter(notAfter).setNonce(ByteString.copyFrom(nonce))
                .build(), null).thenApply(a -> null);
    }

    private record Answer(ShardResponse response, byte[] data) {}

    private CompletableFuture<Answer> call(PeerId peer, ShardRequest request, byte[] body) {
        CompletableFuture<Answer> result = new CompletableFuture<>();
        host.newStream(peer, ShardServer.PROTOCOL_ID, new StreamHandler() {
            private ByteBuf buf;
            private ShardResponse response;
            private byte[] data;
            private int at;

            @Override
            public void onOpen(P2pStream s) {
                // A caller that cancels (or times out) ends the transfer: the peer drops a partial PUT.
                result.whenComplete((a, e) -> {
                    if (e != null) {
                        s.reset();
                    }
                });
                s.write(Frames.encode(s.alloc(), request.toByteArray(), body));
                s.closeWrite();
            }

            @Override
            public void onData(P2pStream s, ByteBuf in) {
                try {
                    if (response == null) {
                        if (buf == null) {
                            buf = s.alloc().buffer(256);
                        }
                        buf.writeBytes(in);
                        byte[] m = Frames.read(buf, ShardServer.MAX_REQUEST);
                        if (m == null) {
                            return;
                        }
                        response = ShardResponse.parseFrom(m);
                        if (response.getStatus() != Status.OK) {
                            result.completeExceptionally(new ShardException(response.getStatus(), response.getMessage()));
                            s.reset();
                            return;
                        }
                        boolean proof = request.getOp() == ShardRequest.Op.PROVE;
                        boolean receipt = request.getOp() == ShardRequest.Op.RECEIPT; // its body: the map of the blocks it counts
                        boolean withBody = request.getOp() == ShardRequest.Op.GET || proof || receipt;
                        long size = response.getSize();
                        if (receipt && Long.compareUnsigned(size, Receipts.MAX_BLOCK_MAP) > 0) {
                            throw new ShardException(Status.CORRUPT, peer + " announced a block map of " + Long.toUnsignedString(size)
                                    + " bytes with its receipt, more than " + Receipts.MAX_BLOCK_MAP);
                        }
                        if (proof && Long.compareUnsigned(size, ShardServer.maxProofBytes((int) request.getChunkCount())) > 0) {
                            throw new ShardException(Status.CORRUPT, peer + " announced a proof of " + Long.toUnsignedString(size)
                                    + " bytes for " + request.getChunkCount() + " chunks, more than "
                                    + ShardServer.maxProofBytes((int) request.getChunkCount()));
                        }
                        if (withBody && Long.compareUnsigned(size, ShardServer.MAX_SHARD) > 0) {
                            throw new ShardException(Status.BAD_REQUEST, peer + " announced an answer of "
                                    + Long.toUnsignedString(size) + " bytes, more than " + ShardServer.MAX_SHARD);
                        }
                        if (withBody && request.getLength() != 0 && size != request.getLength()) {
                            throw new ShardException(Status.BAD_REQUEST, peer + " announced " + size + " bytes for a range of "
                                    + Long.toUnsignedString(request.getLength()));
                        }
                        data = new byte[withBody ? (int) response.getSize() : 0];
                        take(s, buf);
                    } else {
                        take(s, in);
                    }
                } catch (Exception e) {
                    result.completeExceptionally(e);
                    s.reset();
                } finally {
                    in.release();
                }
            }

            private void take(P2pStream s, ByteBuf from) {
                int n = Math.min(from.readableBytes(), data.length - at);
                from.readBytes(data, at, n);
                at += n;
                if (at == data.length) {
                    result.complete(new Answer(response, data));
                }
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                if (buf != null) {
                    buf.release();
                    buf = null;
                }
                if (!result.isDone()) {
                    result.completeExceptionally(error != null ? error
                            : new ShardException(Status.ERROR, peer + " closed the stream before answering"));
                }
            }
        }).whenComplete((s, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            }
        });
        return Deadlines.orTimeout(result, timeoutMillis);
    }
}
