package io.oecloud.proofs;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * BLAKE3 (hash mode, 32-byte digests and extendable output), incremental.
 *
 * <p>BLAKE3 splits its input into 1 KiB chunks, hashes each chunk into an 8-word chaining value
 * and combines those pairwise in a left-balanced binary tree; the root is the digest, so the
 * digest also commits to every 1 KiB chunk (what proofs and verified range reads use).
 *
 * <p>Two engines: whole aligned subtrees of 16 or more chunks go to {@link Blake3Simd} (16 chunks
 * per vector, one lane each, then parents 16 at a time) when the Vector API runs with 16 int
 * lanes; everything else (short inputs, the last chunk, the tree's right edge) runs here, one
 * chunk at a time. Both produce the same chaining values, so the split never shows in the output.
 *
 * <p>Tree bookkeeping: a stack of pending subtree chaining values, merged lazily (only once more
 * input is known to follow), so that an input ending on a subtree boundary still gets its root
 * flagged ROOT by {@link #digest()}; subtrees are pushed as the two children of their root.
 *
 * <p>Not thread-safe. Reusable after {@link #reset()}.
 */
public final class Blake3 {
    static final int CHUNK_LEN = 1024;
    static final int BLOCK_LEN = 64;
    static final int CHUNK_START = 1;
    static final int CHUNK_END = 2;
    static final int PARENT = 4;
    static final int ROOT = 8;

    static final int[] IV = {
        0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19
    };
    private static final int[] PERMUTATION = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};
    /** SCHEDULE[r * 16 + i]: the message word that position i of round r reads. */
    static final int[] SCHEDULE = new int[7 * 16];

    static {
        for (int i = 0; i < 16; i++) {
            SCHEDULE[i] = i;
        }
        for (int r = 1; r < 7; r++) {
            for (int i = 0; i < 16; i++) {
                SCHEDULE[r * 16 + i] = SCHEDULE[(r - 1) * 16 + PERMUTATION[i]];
            }
        }
    }

    private static final ValueLayout.OfInt LE_INT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // chunk state
    private final int[] chunkCv = new int[8];
    private final byte[] block = new byte[BLOCK_LEN];
    private int blockLen;
    private int blocksCompressed;
    private long chunkCounter;
    // pending subtrees, left to right; 54 levels cover 2^64 bytes
    private final int[] stack = new int[54 * 8];
    private int stackLen;
    // scratch
    private final int[] words = new int[16];
    private final int[] out = new int[16];
    private final int[] parentMsg = new int[16];
    private final int[] rootCv = new int[8];
    private final int[] rootMsg = new int[16];
    private static final boolean SIMD = detectSimd();
    private final Blake3Simd simd;

    public Blake3() {
        this(SIMD);
    }

    /** With {@code vectorized} false, everything runs on the scalar path (tests compare the two). */
    Blake3(boolean vectorized) {
        if (vectorized && !SIMD) {
            throw new IllegalStateException("the Vector API with 16 int lanes is not available");
        }
        simd = vectorized ? new Blake3Simd() : null;
        reset();
    }

    private static boolean detectSimd() {
        if (Boolean.getBoolean("oe.blake3.scalar")
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return false;
        }
        try {
            return Blake3Simd.hardwareSupported();
        } catch (Throwable e) { // LinkageError if the module is present but unusable
            return false;
        }
    }

    /** Returns the 32-byte BLAKE3 digest of {@code data}. */
    public static byte[] hash(byte[] data) {
        Blake3 h = new Blake3();
        h.update(data, 0, data.length);
        return h.digest();
    }

    /** Whether whole subtrees are hashed with the Vector API in this JVM. */
    public static boolean isVectorized() {
        return SIMD;
    }

    public void reset() {
        System.arraycopy(IV, 0, chunkCv, 0, 8);
        blockLen = 0;
        blocksCompressed = 0;
        chunkCounter = 0;
        stackLen = 0;
    }

    public void update(byte[] data, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, data.length);
        update(MemorySegment.ofArray(data), off, len);
    }

    /** Hashes {@code buf}'s remaining bytes, heap or direct, in place; the position moves to the limit. */
    public void update(ByteBuffer buf) {
        int len = buf.remaining();
        update(MemorySegment.ofBuffer(buf), 0, len);
        buf.position(buf.limit());
    }

    /** Hashes {@code len} bytes of {@code seg} from {@code off}. */
    public void update(MemorySegment seg, long off, long len) {
        if (chunkBytes() > 0) {
            int take = (int) Math.min(len, CHUNK_LEN - chunkBytes());
            chunkUpdate(seg, off, take);
            off += take;
            len -= take;
            if (len == 0) {
                return; // a full chunk may still be the last one: keep it
            }
            finishChunk(words);
            pushCv(words, chunkCounter);
            startChunk(chunkCounter + 1);
        }
        // Whole subtrees while more than one chunk remains: the largest power of two that fits and
        // is aligned to its own size in the tree.
        while (len > CHUNK_LEN) {
            long chunks = Math.min(Blake3Simd.MAX_SUBTREE_CHUNKS, Long.highestOneBit(len / CHUNK_LEN));
            while ((chunkCounter & (chunks - 1)) != 0) {
                chunks >>>= 1;
            }
            if (simd != null && chunks >= Blake3Simd.LANES) {
                // Two CVs, the children of the subtree's root: that root may be the whole input's.
                simd.subtree(seg, off, (int) chunks, chunkCounter, words);
                pushCv(words, chunkCounter);
                System.arraycopy(words, 8, words, 0, 8);
                pushCv(words, chunkCounter + chunks / 2);
            } else {
                chunks = 1;
                chunkUpdate(seg, off, CHUNK_LEN);
                finishChunk(words);
                pushCv(words, chunkCounter);
            }
            startChunk(chunkCounter + chunks);
            off += chunks * CHUNK_LEN;
            len -= chunks * CHUNK_LEN;
        }
        if (len > 0) {
            chunkUpdate(seg, off, (int) len);
            mergeStack(chunkCounter); // more input came, so the stack's top is no longer the root's child
        }
    }

    /** Returns the 32-byte digest; the hasher can keep absorbing input afterwards. */
    public byte[] digest() {
        byte[] d = new byte[32];
        digest(d, 0, 32);
        return d;
    }

    /** Writes {@code len} bytes of extendable output (the first 32 are the digest). */
    public void digest(byte[] dst, int off, int len) {
        // The root node, not yet compressed: (cv, msg, counter, blockLen, flags).
        int[] cv = rootCv;
        int[] msg = rootMsg;
        long counter = 0;
        int bLen = BLOCK_LEN;
        int flags = PARENT;
        int remaining = stackLen;
        if (stackLen == 0 || chunkBytes() > 0) {
            System.arraycopy(chunkCv, 0, cv, 0, 8);
            loadBlockWords(msg);
            counter = chunkCounter;
            bLen = blockLen;
            flags = chunkFlags() | CHUNK_END;
        } else {
            // The input ended on a subtree boundary: the top two CVs are the last parent's children.
            System.arraycopy(IV, 0, cv, 0, 8);
            System.arraycopy(stack, (remaining - 2) * 8, msg, 0, 16);
            remaining -= 2;
        }
        int[] node = out;
        while (remaining > 0) {
            compress(cv, msg, counter, bLen, flags, node);
            System.arraycopy(stack, (remaining - 1) * 8, msg, 0, 8);
            System.arraycopy(node, 0, msg, 8, 8);
            System.arraycopy(IV, 0, cv, 0, 8);
            counter = 0;
            bLen = BLOCK_LEN;
            flags = PARENT;
            remaining--;
        }
        for (long outBlock = 0; len > 0; outBlock++) {
            compress(cv, msg, outBlock, bLen, flags | ROOT, node);
            for (int i = 0; i < 16 && len > 0; i++) {
                for (int b = 0; b < 4 && len > 0; b++, len--) {
                    dst[off++] = (byte) (node[i] >>> (8 * b));
                }
            }
        }
    }

    private int chunkBytes() {
        return blocksCompressed * BLOCK_LEN + blockLen;
    }

    private int chunkFlags() {
        return blocksCompressed == 0 ? CHUNK_START : 0;
    }

    private void startChunk(long counter) {
        System.arraycopy(IV, 0, chunkCv, 0, 8);
        chunkCounter = counter;
        blockLen = 0;
        blocksCompressed = 0;
    }

    private void chunkUpdate(MemorySegment seg, long off, int len) {
        while (len > 0) {
            if (blockLen == BLOCK_LEN) {
                // A full block with more bytes after it is never the chunk's last: compress it.
                loadBlockWords(words);
                compress(chunkCv, words, chunkCounter, BLOCK_LEN, chunkFlags(), out);
                System.arraycopy(out, 0, chunkCv, 0, 8);
                blocksCompressed++;
                blockLen = 0;
            }
            int take = Math.min(len, BLOCK_LEN - blockLen);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, block, blockLen, take);
            blockLen += take;
            off += take;
            len -= take;
        }
    }

    /** Writes the chaining value of the (full) current chunk into cv[0..8). */
    private void finishChunk(int[] cv) {
        loadBlockWords(words);
        compress(chunkCv, words, chunkCounter, blockLen, chunkFlags() | CHUNK_END, out);
        System.arraycopy(out, 0, cv, 0, 8);
    }

    /** Pushes the CV of the subtree that starts at chunk {@code start}, after merging what completes before it. */
    private void pushCv(int[] cv, long start) {
        mergeStack(start);
        System.arraycopy(cv, 0, stack, stackLen * 8, 8);
        stackLen++;
    }

    /**
     * Merges completed siblings until the stack holds one subtree per set bit of {@code chunks}
     * (the chunk count so far). Called lazily, only once more input is known to follow, so the
     * top two entries can still become the root's children.
     */
    private void mergeStack(long chunks) {
        int keep = Long.bitCount(chunks);
        while (stackLen > keep) {
            stackLen -= 2;
            System.arraycopy(stack, stackLen * 8, parentMsg, 0, 16);
            compress(IV, parentMsg, 0, BLOCK_LEN, PARENT, out);
            System.arraycopy(out, 0, stack, stackLen * 8, 8);
            stackLen++;
        }
    }

    private void loadBlockWords(int[] w) {
        java.util.Arrays.fill(block, blockLen, BLOCK_LEN, (byte) 0);
        for (int i = 0; i < 16; i++) {
            w[i] = (block[4 * i] & 0xff) | (block[4 * i + 1] & 0xff) << 8
                    | (block[4 * i + 2] & 0xff) << 16 | (block[4 * i + 3] & 0xff) << 24;
        }
    }

    static int readLe(MemorySegment seg, long off) {
        return seg.get(LE_INT, off);
    }

    /** The compression function: writes all 16 output words (the first 8 are the new chaining value). */
    static void compress(int[] cv, int[] m, long counter, int blockLen, int flags, int[] out) {
        int v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7];
        int v8 = IV[0], v9 = IV[1], v10 = IV[2], v11 = IV[3];
        int v12 = (int) counter, v13 = (int) (counter >>> 32), v14 = blockLen, v15 = flags;
        for (int r = 0; r < 7; r++) {
            int s = r * 16;
            // columns
            v0 += v4 + m[SCHEDULE[s]]; v12 = Integer.rotateRight(v12 ^ v0, 16); v8 += v12; v4 = Integer.rotateRight(v4 ^ v8, 12);
            v0 += v4 + m[SCHEDULE[s + 1]]; v12 = Integer.rotateRight(v12 ^ v0, 8); v8 += v12; v4 = Integer.rotateRight(v4 ^ v8, 7);
            v1 += v5 + m[SCHEDULE[s + 2]]; v13 = Integer.rotateRight(v13 ^ v1, 16); v9 += v13; v5 = Integer.rotateRight(v5 ^ v9, 12);
            v1 += v5 + m[SCHEDULE[s + 3]]; v13 = Integer.rotateRight(v13 ^ v1, 8); v9 += v13; v5 = Integer.rotateRight(v5 ^ v9, 7);
            v2 += v6 + m[SCHEDULE[s + 4]]; v14 = Integer.rotateRight(v14 ^ v2, 16); v10 += v14; v6 = Integer.rotateRight(v6 ^ v10, 12);
            v2 += v6 + m[SCHEDULE[s + 5]]; v14 = Integer.rotateRight(v14 ^ v2, 8); v10 += v14; v6 = Integer.rotateRight(v6 ^ v10, 7);
            v3 += v7 + m[SCHEDULE[s + 6]]; v15 = Integer.rotateRight(v15 ^ v3, 16); v11 += v15; v7 = Integer.rotateRight(v7 ^ v11, 12);
            v3 += v7 + m[SCHEDULE[s + 7]]; v15 = Integer.rotateRight(v15 ^ v3, 8); v11 += v15; v7 = Integer.rotateRight(v7 ^ v11, 7);
            // diagonals
            v0 += v5 + m[SCHEDULE[s + 8]]; v15 = Integer.rotateRight(v15 ^ v0, 16); v10 += v15; v5 = Integer.rotateRight(v5 ^ v10, 12);
            v0 += v5 + m[SCHEDULE[s + 9]]; v15 = Integer.rotateRight(v15 ^ v0, 8); v10 += v15; v5 = Integer.rotateRight(v5 ^ v10, 7);
            v1 += v6 + m[SCHEDULE[s + 10]]; v12 = Integer.rotateRight(v12 ^ v1, 16); v11 += v12; v6 = Integer.rotateRight(v6 ^ v11, 12);
            v1 += v6 + m[SCHEDULE[s + 11]]; v12 = Integer.rotateRight(v12 ^ v1, 8); v11 += v12; v6 = Integer.rotateRight(v6 ^ v11, 7);
            v2 += v7 + m[SCHEDULE[s + 12]]; v13 = Integer.rotateRight(v13 ^ v2, 16); v8 += v13; v7 = Integer.rotateRight(v7 ^ v8, 12);
            v2 += v7 + m[SCHEDULE[s + 13]]; v13 = Integer.rotateRight(v13 ^ v2, 8); v8 += v13; v7 = Integer.rotateRight(v7 ^ v8, 7);
            v3 += v4 + m[SCHEDULE[s + 14]]; v14 = Integer.rotateRight(v14 ^ v3, 16); v9 += v14; v4 = Integer.rotateRight(v4 ^ v9, 12);
            v3 += v4 + m[SCHEDULE[s + 15]]; v14 = Integer.rotateRight(v14 ^ v3, 8); v9 += v14; v4 = Integer.rotateRight(v4 ^ v9, 7);
        }
        out[0] = v0 ^ v8; out[1] = v1 ^ v9; out[2] = v2 ^ v10; out[3] = v3 ^ v11;
        out[4] = v4 ^ v12; out[5] = v5 ^ v13; out[6] = v6 ^ v14; out[7] = v7 ^ v15;
        out[8] = v8 ^ cv[0]; out[9] = v9 ^ cv[1]; out[10] = v10 ^ cv[2]; out[11] = v11 ^ cv[3];
        out[12] = v12 ^ cv[4]; out[13] = v13 ^ cv[5]; out[14] = v14 ^ cv[6]; out[15] = v15 ^ cv[7];
    }
}
