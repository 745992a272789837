package io.oecloud.node.shard;

import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * The holder's side of paid storage's receipts: what this node signs when a payer asks
 * ({@code RECEIPT} on {@code /oe/shard/1.0.0}, or the node's own receipt for objects it holds blocks
 * of itself). A receipt says "I hold {@code bytes} bytes in {@code blocks} blocks of object O pinned
 * by payer P, in period p": the blocks are the object's manifest copy and every segment's shards
 * ({@link ObjectBlocks}), counted only when this store holds them AND the payer's key pins them.
 * Each signed receipt is recorded in the store ({@link ShardStore#recordReceipt}): the node's
 * coverage of its contracts is computed from these records.
 *
 * <p>The signature is Ed25519 by the node's identity over {@link #message}: the bytes
 * chain-bridge's {@code Contracts.receiptMessage} defines, so the chain accepts it in a contract.
 */
public final class Receipts {
    /** The most blocks one receipt counts (the chain's {@code Receipt.blocks} is a uint32; an object has far fewer). */
    public static final int MAX_BLOCKS = 1 << 20;
    /** An encoded receipt is at most this long (holder ≤ 60, integers ≤ 31, entries root 34, signature 66). */
    public static final int MAX_ENCODED = 512;
    /** The most bytes a RECEIPT answer's block map takes: a bit for each of at most {@link #MAX_BLOCKS} blocks. */
    public static final int MAX_BLOCK_MAP = MAX_BLOCKS / 8;

    /** The blocks an object is made of, from its manifest; {@code shard} must not depend on {@code object}. */
    @FunctionalInterface
    public interface ObjectBlocks {
        /**
         * The object's blocks: its manifest's CID first, then every segment's shards (data and
         * parity), each once. Reads this node's copy of the manifest, or fetches it (checked
         * against its CID and parsed as a manifest) from {@code asker}, who wants the receipt.
         *
         * @throws IOException when no checked manifest can be had (the words say why)
         */
        List<Cid> blocks(Cid object, PeerId asker) throws IOException;
    }

    private final ShardStore store;
    private final Identity self;
    private final String chainId;
    private final ObjectBlocks objects;
    /** The chain's current period as this node last read it, or -1 when unknown. */
    private volatile java.util.function.LongSupplier currentPeriod = () -> -1;

    /**
     * @param self the node's identity: it signs, and its peer ID is the receipt's holder
     * @param chainId the chain the receipts are for (bound into the signature)
     */
    public Receipts(ShardStore store, Identity self, String chainId, ObjectBlocks objects) {
        this.store = Objects.requireNonNull(store, "store");
        this.self = Objects.requireNonNull(self, "self");
        if (chainId == null || chainId.isEmpty()) {
            throw new IllegalArgumentException("a receipt is signed for a chain ID, was empty");
        }
        this.chainId = chainId;
        this.objects = Objects.requireNonNull(objects, "objects");
    }

    public String chainId() {
        return chainId;
    }

    /**
     * Signs only for periods within one of {@code current} (the chain's period as this node last
     * read it; -1 while unknown, when any period is signed): the chain takes a receipt in its own
     * period and the next, so a receipt for a period far ahead could only be kept for later, when
     * this node may no longer hold what it signed for.
     */
    public Receipts periodsNear(java.util.function.LongSupplier current) {
        this.currentPeriod = current;
        return this;
    }

    /**
     * The bytes a holder signs for a receipt: the ledger's own
     * {@link io.oecloud.chain.ledger.Contracts#receiptMessage} ({@code "oechain/receipt/v2"}, then
     * chain ID, object CID, payer address and holder address each as a u16 length (big-endian) and
     * bytes, then bytes (u64), blocks (u32), the 32-byte entries root and period (u64),
     * big-endian), so the chain accepts what a holder signs ({@code ReceiptMessageTest} holds the
     * layout to its description).
     *
     * @param payer the payer's address (base58 peer ID of its key)
     * @param holder the holder's address (its peer ID)
     * @param entriesRoot the {@link NodeRoot} over the receipt's (CID, size) entries in CID order
     */
    public static byte[] message(String chainId, byte[] object, String payer, String holder, long bytes, int blocks,
                                 byte[] entriesRoot, long period) {
        return io.oecloud.chain.ledger.Contracts.receiptMessage(chainId, object, payer, holder, bytes, blocks, entriesRoot, period);
    }

    /**
     * A signed receipt and which of the object's blocks it counts: bit i (byte i / 8, bit i % 8,
     * least significant first) for the i-th block of {@link ObjectBlocks#blocks} with repeats
     * skipped. The payer rebuilds the entries from its manifest and this map, and takes the
     * receipt only when they give its root, count and bytes ({@code paying.ReceiptBlocks}): a
     * holder cannot be paid for blocks that are not the object's, or at sizes that are not theirs.
     */
    public record Signed(Receipt receipt, byte[] blocks) {
        public Signed {
            Objects.requireNonNull(receipt, "receipt");
            blocks = blocks.clone();
        }

        @Override
        public byte[] blocks() {
            return blocks.clone();
        }
    }

    /** The root the chain keeps for a receipt of {@code entries}: a {@link NodeRoot} over them in CID order, repeats dropped. */
    public static NodeRoot entriesRoot(java.util.Collection<NodeEntry> entries) {
        return ShardStore.SignedReceipt.treeOf(entries);
    }

    /**
     * Signs and records a receipt for the blocks of {@code object} this store holds pinned by
     * {@code payer}, for {@code period}; null when it holds none of them (nothing recorded).
     * Runs store reads and perhaps a manifest fetch: call it off the event loop.
     *
     * @param payer the payer's 32-byte Ed25519 key
     * @param asker the peer that asked (a manifest this node lacks is fetched from it)
     * @throws IOException when the object's manifest cannot be had
     * @throws StoreException when the store fails
     * @throws IllegalArgumentException for a payer that is no 32-byte key, or a period out of range
     *     or (when this node knows the chain's) not within one of the chain's
     */
    public Receipt sign(Cid object, byte[] payer, long period, PeerId asker) throws IOException, StoreException {
        Signed s = signBlocks(object, payer, period, asker);
        return s == null ? null : s.receipt();
    }

    /** {@link #sign}, with which of the object's blocks the receipt counts (what the RECEIPT answer carries). */
    public Signed signBlocks(Cid object, byte[] payer, long period, PeerId asker) throws IOException, StoreException {
        if (payer.length != 32) {
            throw new IllegalArgumentException("a payer is a 32-byte Ed25519 key, had " + payer.length + " bytes");
        }
        if (period < 0) {
            throw new IllegalArgumentException("period " + Long.toUnsignedString(period) + " is out of range");
        }
        long now = currentPeriod.getAsLong();
        if (now >= 0 && (period < now - 1 || period > now + 1)) {
            throw new IllegalArgumentException("period " + period + " is not within one of the chain's period " + now
                    + " as this node reads it");
        }
        List<Cid> all = new ArrayList<>(new LinkedHashSet<>(objects.blocks(object, asker)));
        if (all.size() > MAX_BLOCKS) {
            throw new IOException(object + " names " + all.size() + " blocks, more than the " + MAX_BLOCKS + " a receipt counts");
        }
        byte[] map = new byte[(all.size() + 7) / 8];
        List<NodeEntry> held = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < all.size(); i++) {
            Cid block = all.get(i);
            StoredShard s = store.metadata(block);
            if (s != null && s.isPinnedBy(payer)) {
                held.add(new NodeEntry(block, s.size()));
                bytes += s.size();
                map[i >>> 3] |= (byte) (1 << (i & 7));
            }
        }
        if (held.isEmpty() || bytes == 0) {
            return null;
        }
        String holder = self.peerId().toString();
        byte[] root = entriesRoot(held).root();
        byte[] sig = self.sign(message(chainId, object.toBytes(), PeerId.fromEd25519(payer).toString(), holder, bytes,
                held.size(), root, period));
        store.recordReceipt(new ShardStore.SignedReceipt(object, payer, period, held));
        Receipt r = Receipt.newBuilder().setHolder(holder).setBytes(bytes).setBlocks(held.size()).setPeriod(period)
                .setEntriesRoot(com.google.protobuf.ByteString.copyFrom(root))
                .setSignature(com.google.protobuf.ByteString.copyFrom(sig)).build();
        return new Signed(r, map);
    }

    /** This node's own receipt for the blocks of {@code object} it holds pinned by its own key (null: none). */
    public Receipt own(Cid object, long period) throws IOException, StoreException {
        return sign(object, self.publicKey(), period, self.peerId());
    }

    /** {@link #own}, with the map of the blocks it counts (null: none). */
    public Signed ownBlocks(Cid object, long period) throws IOException, StoreException {
        return signBlocks(object, self.publicKey(), period, self.peerId());
    }

    /**
     * Null when {@code r} is a good receipt of {@code holder} for {@code object}, {@code payer}
     * and {@code period} on chain {@code chainId}; else what is wrong with it, in words.
     */
    public static String problem(Receipt r, String chainId, Cid object, PeerId payer, PeerId holder, long period) {
        if (!r.getHolder().equals(holder.toString())) {
            return "the receipt names holder " + abbreviate(r.getHolder()) + ", not " + holder;
        }
        if (r.getPeriod() != period) {
            return "the receipt is for period " + Long.toUnsignedString(r.getPeriod()) + ", not " + period;
        }
        if (r.getBytes() == 0 || r.getBlocks() == 0) {
            return "the receipt counts " + Long.toUnsignedString(r.getBytes()) + " bytes in "
                    + Integer.toUnsignedString(r.getBlocks()) + " blocks (at least 1 of each)";
        }
        if (r.getEntriesRoot().size() != 32) {
            return "the receipt's entries root is " + r.getEntriesRoot().size() + " bytes, not 32";
        }
        byte[] key = holder.ed25519PublicKey();
        if (key == null) {
            return "holder " + holder + " has no Ed25519 key in its ID";
        }
        byte[] sig = r.getSignature().toByteArray();
        byte[] m = message(chainId, object.toBytes(), payer.toString(), holder.toString(), r.getBytes(), r.getBlocks(),
                r.getEntriesRoot().toByteArray(), period);
        boolean good;
        try {
            good = sig.length == 64 && Ed25519.verify(sig, 0, key, 0, m, 0, m.length);
        } catch (RuntimeException e) {
            good = false;
        }
        return good ? null : "the receipt's signature is not " + holder + "'s over object " + object + ", payer " + payer
                + ", " + Long.toUnsignedString(r.getBytes()) + " bytes, " + Integer.toUnsignedString(r.getBlocks())
                + " blocks, period " + period + " on chain " + chainId;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }
}
