package io.oecloud.proofs.storage;

import io.oecloud.proofs.Cid;
import io.oecloud.wire.Uvarint;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Proof that an entry sits at {@code index} in a node root: the entry and the sibling hashes on
 * its path, leaf level first (bottom-up), 32 bytes each.
 *
 * <p>Encoded form ({@link #encode()}; every varint unsigned LEB128 in its shortest form, as
 * {@code wire}'s {@link Uvarint#readMinimal} reads it):
 *
 * <pre>
 * uvarint index            < 2^32 (NodeRoot.MAX_COUNT)
 * uvarint cidLength        1..64 (NodeEntry.MAX_CID_BYTES)
 * cid bytes                the CID's binary form (CIDv1)
 * uvarint size             the entry's size in bytes, < 2^63
 * uvarint siblingCount     0..32 (NodeRoot.MAX_DEPTH)
 * siblingCount × 32 bytes  the siblings, leaf level first
 * </pre>
 *
 * Nothing may follow. For 100,000 entries a proof has at most 17 siblings: 3 + 1 + 36 + size's
 * 1 to 9 + 1 + 544 ≈ 590 bytes with a BLAKE3 raw CID.
 *
 * @param index the entry's position in CID order
 * @param entry the entry
 * @param siblings the sibling hashes, leaf level first, concatenated (a multiple of 32 bytes);
 *     copied in and out
 */
public record InclusionProof(long index, NodeEntry entry, byte[] siblings) {
    /** No valid proof encodes to more: 5 + 1 + 64 + 9 + 1 + 32 × 32 bytes. */
    public static final int MAX_ENCODED_BYTES = 5 + 1 + NodeEntry.MAX_CID_BYTES + Uvarint.MAX_BYTES + 1
            + NodeRoot.MAX_DEPTH * Domains.HASH_BYTES;

    public InclusionProof {
        if (index < 0 || index >= NodeRoot.MAX_COUNT) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                    "entry index " + index + " is outside [0, " + NodeRoot.MAX_COUNT + ")");
        }
        if (entry == null || siblings == null) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "entry and siblings must not be null");
        }
        if (siblings.length % Domains.HASH_BYTES != 0 || siblings.length > NodeRoot.MAX_DEPTH * Domains.HASH_BYTES) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE, "siblings are " + siblings.length
                    + " bytes; a path is a multiple of 32 bytes up to " + NodeRoot.MAX_DEPTH + " hashes");
        }
        siblings = siblings.clone();
    }

    /** A copy of the siblings, leaf level first. */
    @Override
    public byte[] siblings() {
        return siblings.clone();
    }

    /** The number of sibling hashes. */
    public int siblingCount() {
        return siblings.length / Domains.HASH_BYTES;
    }

    /** A copy of sibling {@code k} (0 = the leaf's). */
    public byte[] sibling(int k) {
        return Arrays.copyOfRange(siblings, k * Domains.HASH_BYTES, (k + 1) * Domains.HASH_BYTES);
    }

    /**
     * Checks this proof against the commitment (root, count) and that it proves the entry at
     * {@code expectedIndex} (the challenged one).
     *
     * @throws StorageProofException {@code WRONG_INDEX}, or what {@link #verify(byte[], long)} throws
     */
    public void verify(byte[] root, long count, long expectedIndex) {
        if (index != expectedIndex) {
            throw new StorageProofException(StorageProofException.Kind.WRONG_INDEX,
                    "the proof is for entry " + index + ", the challenge asks for entry " + expectedIndex);
        }
        verify(root, count);
    }

    /**
     * Checks that the entry is entry {@link #index()} of the tree committed to by ({@code root},
     * {@code count}): the index is below the count, the path has the length they imply, and
     * hashing the entry up the path, then with the count, gives the root (compared in constant
     * time).
     *
     * @throws StorageProofException {@code COUNT} (0 or above 2^32), {@code INDEX} (index ≥ count),
     *     {@code PATH_LENGTH}, {@code ROOT_MISMATCH}, or {@code ARGUMENT} for a root that is not 32 bytes
     */
    public void verify(byte[] root, long count) {
        if (root == null || root.length != Domains.HASH_BYTES) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "a node root is 32 bytes, was " + (root == null ? "null" : root.length));
        }
        NodeRoot.checkCount(count);
        if (index >= count) {
            throw new StorageProofException(StorageProofException.Kind.INDEX,
                    "entry index " + index + " is outside [0, " + count + ")");
        }
        int expected = NodeRoot.pathLength(index, count);
        if (siblingCount() != expected) {
            throw new StorageProofException(StorageProofException.Kind.PATH_LENGTH, "the proof has " + siblingCount()
                    + " siblings; entry " + index + " of " + count + " has a path of " + expected);
        }
        Domains h = Domains.local();
        byte[] node = new byte[Domains.HASH_BYTES];
        h.leaf(entry, node, 0);
        int k = 0;
        for (long i = index, width = count; width > 1; i >>>= 1, width = (width + 1) >>> 1) {
            if ((i & 1) == 1) {
                h.node(siblings, k++ * Domains.HASH_BYTES, node, 0, node, 0);
            } else if (i + 1 < width) {
                h.node(node, 0, siblings, k++ * Domains.HASH_BYTES, node, 0);
            }
        }
        h.root(count, node, node);
        if (!MessageDigest.isEqual(node, root)) {
            throw new StorageProofException(StorageProofException.Kind.ROOT_MISMATCH, "entry " + index + " ("
                    + entry + ") and its path hash to " + HexFormat.of().formatHex(node) + ", not the committed root "
                    + HexFormat.of().formatHex(root));
        }
    }

    /** The encoded form (see the class comment). */
    public byte[] encode() {
        byte[] cid = entry.cid().toBytes();
        byte[] out = new byte[Uvarint.size(index) + Uvarint.size(cid.length) + cid.length + Uvarint.size(entry.size())
                + Uvarint.size(siblingCount()) + siblings.length];
        int o = Uvarint.write(out, 0, index);
        o = Uvarint.write(out, o, cid.length);
        System.arraycopy(cid, 0, out, o, cid.length);
        o += cid.length;
        o = Uvarint.write(out, o, entry.size());
        o = Uvarint.write(out, o, siblingCount());
        System.arraycopy(siblings, 0, out, o, siblings.length);
        return out;
    }

    /**
     * Decodes a proof, refusing anything but the exact canonical form; checks only the form (call
     * {@link #verify} next).
     *
     * @param bytes the encoded proof, read in place
     * @param maxBytes the reader's limit, at most {@link #MAX_ENCODED_BYTES} is useful
     * @throws StorageProofException {@code TOO_LARGE} (from the length alone), {@code TRUNCATED},
     *     {@code VARINT}, {@code FIELD_RANGE}, {@code CID}, {@code TRAILING_BYTES}
     */
    public static InclusionProof decode(byte[] bytes, int maxBytes) {
        if (bytes == null) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "bytes must not be null");
        }
        if (bytes.length > maxBytes) {
            throw new StorageProofException(StorageProofException.Kind.TOO_LARGE,
                    "an inclusion proof of " + bytes.length + " bytes is over the limit of " + maxBytes);
        }
        int[] pos = {0};
        long index = ProofBytes.varint(bytes, pos, "entry index");
        if (index >= NodeRoot.MAX_COUNT) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                    "entry index " + index + " is at or above " + NodeRoot.MAX_COUNT);
        }
        long cidLength = ProofBytes.varint(bytes, pos, "CID length");
        if (cidLength < 1 || cidLength > NodeEntry.MAX_CID_BYTES) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                    "CID length " + cidLength + " is outside [1, " + NodeEntry.MAX_CID_BYTES + "]");
        }
        byte[] cidBytes = ProofBytes.take(bytes, pos, (int) cidLength, "CID");
        Cid cid;
        try {
            cid = Cid.fromBytes(cidBytes);
        } catch (IllegalArgumentException e) { // CidFormatException
            throw new StorageProofException(StorageProofException.Kind.CID, "entry CID: " + e.getMessage(), e);
        }
        long size = ProofBytes.varint(bytes, pos, "entry size");
        long count = ProofBytes.varint(bytes, pos, "sibling count");
        if (count > NodeRoot.MAX_DEPTH) {
            throw new StorageProofException(StorageProofException.Kind.FIELD_RANGE,
                    "sibling count " + count + " is above " + NodeRoot.MAX_DEPTH);
        }
        byte[] siblings = ProofBytes.take(bytes, pos, (int) count * Domains.HASH_BYTES, "siblings");
        if (pos[0] != bytes.length) {
            throw new StorageProofException(StorageProofException.Kind.TRAILING_BYTES,
                    (bytes.length - pos[0]) + " bytes follow the last sibling");
        }
        return new InclusionProof(index, new NodeEntry(cid, size), siblings);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InclusionProof p && index == p.index && entry.equals(p.entry)
                && Arrays.equals(siblings, p.siblings);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 + entry.hashCode() * 17 + Arrays.hashCode(siblings);
    }

    @Override
    public String toString() {
        return "InclusionProof[index=" + index + ", entry=" + entry + ", siblings=" + siblingCount() + "]";
    }
}
