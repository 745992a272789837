package io.oecloud.proofs.slice;

import io.oecloud.proofs.Blake3Nodes;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Makes {@link SliceProof}s: from the whole content (hashing every subtree outside the range, so
 * about one BLAKE3 pass over the content), or from an {@link Outboard} and the groups the range
 * touches (reading the stored CVs on the path and hashing one or two groups).
 *
 * <p>Both walk the tree from the root in the same order and give byte-identical proofs. Below a
 * group (16 chunks here when proving from the content) the walk hashes the group's chunks once,
 * on the SIMD path when the group is whole, and forms the siblings inside it from those chunk CVs.
 *
 * <pre>{@code
 * Outboard ob = Outboard.build(shard);                 // once, stored beside the shard
 * Outboard.DataRange r = ob.dataRange(chunk, 1);       // read only these bytes of the shard
 * SliceProof p = SliceProver.prove(ob, bytesOf(r), chunk, 1);
 * }</pre>
 *
 * <p>The caller's buffers are read, never kept or moved.
 */
public final class SliceProver {
    private static final int CONTENT_GROUP_CHUNKS = Outboard.DEFAULT_GROUP_CHUNKS;

    private final long contentLength;
    private final long dataFirstChunk;
    private final MemorySegment data;
    private final long first;
    private final long end;
    private final Outboard outboard;
    private final int groupChunks;
    private final Blake3Nodes nodes = new Blake3Nodes();
    private final ByteArrayOutputStream siblings = new ByteArrayOutputStream();

    private SliceProver(long contentLength, MemorySegment data, long dataFirstChunk, long first, int count, Outboard outboard) {
        this.contentLength = contentLength;
        this.data = data;
        this.dataFirstChunk = dataFirstChunk;
        this.first = first;
        this.end = first + count;
        this.outboard = outboard;
        this.groupChunks = outboard == null ? CONTENT_GROUP_CHUNKS : outboard.groupChunks();
    }

    /**
     * Proves chunks {@code [firstChunk, firstChunk + count)} of {@code content} (all of it).
     *
     * @throws IllegalArgumentException if the range is not inside the content
     */
    public static SliceProof prove(MemorySegment content, long firstChunk, int count) {
        long n = content.byteSize();
        checkRange(n, firstChunk, count);
        return new SliceProver(n, content, 0, firstChunk, count, null).run();
    }

    /** As {@link #prove(MemorySegment, long, int)}, over the buffer's remaining bytes (not moved). */
    public static SliceProof prove(ByteBuffer content, long firstChunk, int count) {
        return prove(MemorySegment.ofBuffer(content), firstChunk, count);
    }

    /** As {@link #prove(MemorySegment, long, int)}. */
    public static SliceProof prove(byte[] content, long firstChunk, int count) {
        return prove(MemorySegment.ofArray(content), firstChunk, count);
    }

    /**
     * Proves chunks {@code [firstChunk, firstChunk + count)} from an outboard and the content's
     * bytes in {@link Outboard#dataRange(long, int)} (exactly those).
     *
     * @throws IllegalArgumentException if the range is not inside the content or {@code data} is
     *     not the data range's length
     */
    public static SliceProof prove(Outboard outboard, MemorySegment data, long firstChunk, int count) {
        Outboard.DataRange r = outboard.dataRange(firstChunk, count);
        if (data.byteSize() != r.length()) {
            throw new IllegalArgumentException("data for chunks [" + firstChunk + ", " + (firstChunk + count)
                    + ") must be the " + r.length() + " bytes from offset " + r.offset() + ", got " + data.byteSize());
        }
        return new SliceProver(outboard.contentLength(), data, r.offset() / Blake3Nodes.CHUNK_LEN, firstChunk, count,
                outboard).run();
    }

    /** As {@link #prove(Outboard, MemorySegment, long, int)}, over the buffer's remaining bytes (not moved). */
    public static SliceProof prove(Outboard outboard, ByteBuffer data, long firstChunk, int count) {
        return prove(outboard, MemorySegment.ofBuffer(data), firstChunk, count);
    }

    static void checkRange(long contentLength, long firstChunk, int count) {
        long total = TreeShape.chunks(contentLength);
        if (count < 1 || count > SliceProof.MAX_CHUNK_COUNT) {
            throw new IllegalArgumentException("count must be in [1, " + SliceProof.MAX_CHUNK_COUNT + "], was " + count);
        }
        if (firstChunk < 0 || firstChunk >= total || count > total - firstChunk) {
            throw new IllegalArgumentException("chunks [" + firstChunk + ", " + (firstChunk + count)
                    + ") are not inside content of " + contentLength + " bytes (" + total + " chunks)");
        }
        if (contentLength > SliceProof.MAX_CONTENT_LENGTH) {
            throw new IllegalArgumentException("content of " + contentLength + " bytes is over "
                    + SliceProof.MAX_CONTENT_LENGTH);
        }
    }

    private SliceProof run() {
        walk(0, TreeShape.chunks(contentLength), null, 0);
        long from = offset(first);
        long len = TreeShape.rangeBytes(contentLength, first, end - first);
        byte[] chunks = new byte[Math.toIntExact(len)];
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, from, chunks, 0, chunks.length);
        return new SliceProof(contentLength, first, (int) (end - first), chunks, siblings.toByteArray());
    }

    /**
     * Node [a, b): its CV when the outboard gave it, else null; {@code p} its pair in the
     * outboard when it is above the groups.
     */
    private void walk(long a, long b, byte[] cv, long p) {
        if (b <= first || a >= end) {
            siblings.writeBytes(cv != null ? cv : nodes.subtreeCv(data, offset(a), length(a, b), a, false));
            return;
        }
        if (first <= a && b <= end) {
            return;
        }
        long size = b - a;
        if (size > groupChunks) {
            long left = TreeShape.leftChunks(size);
            if (outboard != null) {
                walk(a, a + left, outboard.cv(p, 0), p + 1);
                walk(a + left, b, outboard.cv(p, 1), p + left / groupChunks);
            } else {
                walk(a, a + left, null, 0);
                walk(a + left, b, null, 0);
            }
        } else {
            byte[] chunkCvs = new byte[(int) size * Blake3Nodes.CV_LEN];
            nodes.levelCvs(data, offset(a), length(a, b), a, 1, chunkCvs, 0);
            walkChunks(a, b, a, chunkCvs);
        }
    }

    /** Node [a, b) inside a group whose chunk CVs (from chunk {@code base}) are known. */
    private void walkChunks(long a, long b, long base, byte[] chunkCvs) {
        if (b <= first || a >= end) {
            siblings.writeBytes(merkle(chunkCvs, (int) (a - base), (int) (b - a)));
            return;
        }
        if (first <= a && b <= end) {
            return;
        }
        long left = TreeShape.leftChunks(b - a);
        walkChunks(a, a + left, base, chunkCvs);
        walkChunks(a + left, b, base, chunkCvs);
    }

    /** The CV of the node over {@code count} chunk CVs from index {@code from} (never the root). */
    private static byte[] merkle(byte[] chunkCvs, int from, int count) {
        if (count == 1) {
            return Arrays.copyOfRange(chunkCvs, from * Blake3Nodes.CV_LEN, (from + 1) * Blake3Nodes.CV_LEN);
        }
        int left = (int) TreeShape.leftChunks(count);
        return Blake3Nodes.parentCv(merkle(chunkCvs, from, left), merkle(chunkCvs, from + left, count - left), false);
    }

    private long offset(long chunk) {
        return (chunk - dataFirstChunk) * Blake3Nodes.CHUNK_LEN;
    }

    private long length(long a, long b) {
        return Math.max(0, Math.min(b * Blake3Nodes.CHUNK_LEN, contentLength) - a * Blake3Nodes.CHUNK_LEN);
    }
}
