package io.oecloud.node.proving;

import java.util.HexFormat;

/**
 * What a node commits to for a proving period: the root of its {@code NodeRoot} and the entry
 * count (what the ledger records).
 *
 * @param period the proving period
 * @param root the 32-byte node root; copied in and out
 * @param count the entries under it (0: the empty root, no challenge can be answered or asked)
 * @param unprovable pinned blocks left out because their CIDs are not BLAKE3
 */
public record Commitment(long period, byte[] root, long count, long unprovable) {
    public Commitment {
        if (root == null || root.length != 32) {
            throw new IllegalArgumentException("a node root is 32 bytes, was " + (root == null ? "null" : root.length));
        }
        if (period < 0 || count < 0 || unprovable < 0) {
            throw new IllegalArgumentException("period " + period + ", count " + count + ", unprovable " + unprovable
                    + ": none may be negative");
        }
        root = root.clone();
    }

    @Override
    public byte[] root() {
        return root.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Commitment c && c.period == period && c.count == count && c.unprovable == unprovable
                && java.util.Arrays.equals(c.root, root);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(root) * 31 + Long.hashCode(period);
    }

    @Override
    public String toString() {
        return "period " + period + ": root " + HexFormat.of().formatHex(root) + " over " + count + " entries"
                + (unprovable > 0 ? " (" + unprovable + " unprovable left out)" : "");
    }
}
