package io.oecloud.chain;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ledger's mempool: transactions admitted against the check state and not yet in a block, in
 * the order they were admitted (an account's nonces stay in order), bounded by count and bytes.
 * Not thread-safe: {@link LedgerApp} guards it (only {@link #size} may be read from any thread).
 */
final class TxPool {
    /** A pending transaction and its hash (SHA-256 of its bytes, upper-case hex, as CometBFT names it). */
    record Pending(String hash, byte[] tx) {
    }

    private final LinkedHashMap<String, byte[]> pending = new LinkedHashMap<>();
    private final int maxTxs;
    private final long maxBytes;
    private long bytes;
    /** The count, for readers that do not hold the ledger's lock (metrics, GET /v1/chain/mempool). */
    private volatile int count;

    TxPool(int maxTxs, long maxBytes) {
        this.maxTxs = maxTxs;
        this.maxBytes = maxBytes;
    }

    boolean contains(String hash) {
        return pending.containsKey(hash);
    }

    /** Whether one more transaction of {@code size} bytes fits. */
    boolean fits(int size) {
        return pending.size() < maxTxs && bytes + size <= maxBytes;
    }

    void add(String hash, byte[] tx) {
        if (pending.putIfAbsent(hash, tx) == null) {
            bytes += tx.length;
            count = pending.size();
        }
    }

    void remove(String hash) {
        byte[] tx = pending.remove(hash);
        if (tx != null) {
            bytes -= tx.length;
            count = pending.size();
        }
    }

    int size() {
        return count;
    }

    long bytes() {
        return bytes;
    }

    /**
     * The oldest transactions whose encodings in a block (each with its protobuf field tag and
     * length prefix, as CometBFT counts them) take at most {@code maxBytes}.
     */
    List<byte[]> reap(long maxBytes) {
        List<byte[]> out = new ArrayList<>();
        long size = 0;
        for (byte[] tx : pending.values()) {
            size += blockBytes(tx.length);
            if (size > maxBytes) {
                break;
            }
            out.add(tx);
        }
        return out;
    }

    /** Every pending transaction, oldest first (a copy: the caller may remove while walking it). */
    List<Pending> all() {
        List<Pending> out = new ArrayList<>(pending.size());
        for (Map.Entry<String, byte[]> e : pending.entrySet()) {
            out.add(new Pending(e.getKey(), e.getValue()));
        }
        return out;
    }

    /** A transaction's size inside a block's data: field tag, uvarint length, bytes. */
    static long blockBytes(int length) {
        int prefix = 1;
        for (int v = length; v >= 0x80; v >>>= 7) {
            prefix++;
        }
        return 1 + prefix + (long) length;
    }
}
