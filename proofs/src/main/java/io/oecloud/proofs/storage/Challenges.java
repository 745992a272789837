package io.oecloud.proofs.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * The challenges a node answers in a proving period: c of them, each from one hash of the
 * period's seed, the node's ID, the period and the challenge's number.
 *
 * <pre>{@code
 * List<Challenge> cs = Challenges.derive(seed, nodeId, period, count, Challenges.DEFAULT_PER_PERIOD);
 * for (Challenge ch : cs) {
 *     InclusionProof p = tree.prove(ch.entry());      // step 1: the entry, from the hash alone
 *     long chunk = ch.chunk(p.entry().size());        // step 2: the chunk, from the proven size
 * }
 * }</pre>
 *
 * <p>Derivation (a consensus rule; proofs/README.md, "Node roots and challenges"):
 *
 * <pre>
 * h     = BLAKE3("oe/challenge/v1" || seed (32) || u8 len(nodeId) || nodeId || u64be period || u32be j)
 * entry = floor(u128be(h[0..16))  × count           / 2^128)
 * chunk = floor(u128be(h[16..32)) × chunks(size)    / 2^128),   chunks(size) = max(1, ceil(size / 1024))
 * </pre>
 *
 * <p>The multiply-shift maps 2^128 equally likely values onto n outcomes, each outcome getting
 * {@code floor(2^128 / n)} or {@code ceil(2^128 / n)} of them: every probability is within
 * 2^-128 of 1/n, far below anything a period's 32 draws can see, and unlike rejection sampling
 * it needs a fixed number of hash bytes. Integer arithmetic only
 * ({@link Math#unsignedMultiplyHigh}), so every JVM derives the same challenges.
 *
 * <p>Draws are independent and with replacement: two challenges of a period may pick the same
 * entry (and chunk).
 */
public final class Challenges {
    /** Challenges per node per period unless the chain says otherwise. */
    public static final int DEFAULT_PER_PERIOD = 32;
    /** The most challenges a period may ask (bounds a verifier's work). */
    public static final int MAX_PER_PERIOD = 1 << 16;
    /** The seed is 32 bytes of finalized chain randomness. */
    public static final int SEED_BYTES = 32;
    /** A node ID is 1 to 255 bytes (its length is one byte of the hashed input). */
    public static final int MAX_NODE_ID_BYTES = 255;
    /** Challenged chunks are BLAKE3's 1 KiB chunks. */
    public static final int CHUNK_BYTES = 1024;

    private Challenges() {}

    /**
     * Derives challenges {@code 0..c-1} of {@code period} for the node.
     *
     * @param seed the period's (window's) 32-byte seed
     * @param nodeId the node's ID bytes, 1 to 255
     * @param period the period number, {@code >= 0}
     * @param count the committed entry count, in {@code [1, 2^32]}
     * @param c challenges to derive, in {@code [1, MAX_PER_PERIOD]}
     * @throws StorageProofException {@code ARGUMENT} naming the parameter, {@code COUNT}
     */
    public static List<Challenge> derive(byte[] seed, byte[] nodeId, long period, long count, int c) {
        check(seed, nodeId, period, count);
        if (c < 1 || c > MAX_PER_PERIOD) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "challenge count " + c + " is outside [1, " + MAX_PER_PERIOD + "]");
        }
        Domains h = Domains.local();
        byte[] d = new byte[Domains.HASH_BYTES];
        List<Challenge> out = new ArrayList<>(c);
        for (int j = 0; j < c; j++) {
            out.add(challenge(h, d, seed, nodeId, period, count, j));
        }
        return List.copyOf(out);
    }

    /**
     * Derives challenge {@code j} alone (what a verifier checking one answer needs).
     *
     * @throws StorageProofException as {@link #derive}; {@code ARGUMENT} for a negative {@code j}
     */
    public static Challenge one(byte[] seed, byte[] nodeId, long period, long count, int j) {
        check(seed, nodeId, period, count);
        if (j < 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "challenge number " + j + " is negative");
        }
        return challenge(Domains.local(), new byte[Domains.HASH_BYTES], seed, nodeId, period, count, j);
    }

    /** The number of 1 KiB chunks a challenge picks from: {@code max(1, ceil(size / 1024))} (an empty shard has one, empty, chunk). */
    public static long chunks(long size) {
        if (size < 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "size " + size + " is negative");
        }
        return Math.max(1, (size >>> 10) + ((size & (CHUNK_BYTES - 1)) == 0 ? 0 : 1));
    }

    private static Challenge challenge(Domains h, byte[] d, byte[] seed, byte[] nodeId, long period, long count, int j) {
        h.challenge(seed, nodeId, period, j, d);
        long entry = pick(Domains.longAt(d, 0), Domains.longAt(d, 8), count);
        return new Challenge(j, entry, Domains.longAt(d, 16), Domains.longAt(d, 24));
    }

    /**
     * {@code floor(x × n / 2^128)} for the unsigned 128-bit {@code x = high·2^64 + low} and
     * {@code 1 <= n < 2^63}: a value in {@code [0, n)}.
     */
    static long pick(long high, long low, long n) {
        // x·n = high·n·2^64 + low·n. The low 64 bits of low·n never carry into bit 128, so the
        // result is the top word of high·n + (low·n >> 64), carry included.
        long aHigh = Math.unsignedMultiplyHigh(high, n);
        long aLow = high * n;
        long bHigh = Math.unsignedMultiplyHigh(low, n);
        long sum = aLow + bHigh;
        return aHigh + (Long.compareUnsigned(sum, aLow) < 0 ? 1 : 0);
    }

    static void checkNodeId(byte[] nodeId) {
        if (nodeId == null || nodeId.length < 1 || nodeId.length > MAX_NODE_ID_BYTES) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "a node ID is 1 to " + MAX_NODE_ID_BYTES
                    + " bytes, was " + (nodeId == null ? "null" : nodeId.length));
        }
    }

    private static void check(byte[] seed, byte[] nodeId, long period, long count) {
        if (seed == null || seed.length != SEED_BYTES) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "a seed is " + SEED_BYTES + " bytes, was " + (seed == null ? "null" : seed.length));
        }
        checkNodeId(nodeId);
        if (period < 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "period " + period + " is negative");
        }
        NodeRoot.checkCount(count);
    }
}
