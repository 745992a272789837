package io.oecloud.proofs.slice;

import io.oecloud.wire.Uvarint;
import io.oecloud.wire.WireException;
import java.util.Arrays;

/**
 * {@link SliceProof}'s binary form: {@code uvarint(version) uvarint(contentLength)
 * uvarint(firstChunk) uvarint(chunkCount) siblings chunks}, varints minimal (multiformats' rule,
 * so one proof has one encoding). The sibling and chunk sizes follow from the header; the decoder
 * computes them, checks them against the caller's limit and the input's length, and only then
 * copies.
 */
final class SliceCodec {
    private SliceCodec() {}

    static int headerSize(long contentLength, long firstChunk, int chunkCount) {
        return Uvarint.size(SliceProof.FORMAT_VERSION) + Uvarint.size(contentLength) + Uvarint.size(firstChunk)
                + Uvarint.size(chunkCount);
    }

    static byte[] encode(SliceProof p, byte[] chunks, byte[] siblings) {
        int header = headerSize(p.contentLength(), p.firstChunk(), p.chunkCount());
        byte[] out = new byte[Math.addExact(header, Math.addExact(siblings.length, chunks.length))];
        int o = Uvarint.write(out, 0, SliceProof.FORMAT_VERSION);
        o = Uvarint.write(out, o, p.contentLength());
        o = Uvarint.write(out, o, p.firstChunk());
        o = Uvarint.write(out, o, p.chunkCount());
        System.arraycopy(siblings, 0, out, o, siblings.length);
        System.arraycopy(chunks, 0, out, o + siblings.length, chunks.length);
        return out;
    }

    static SliceProof decode(byte[] b, int maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
        }
        if (b.length > maxBytes) {
            throw new SliceProofException(SliceProofException.Kind.TOO_LARGE,
                    "slice proof is " + b.length + " bytes, over the limit of " + maxBytes);
        }
        int[] pos = {0};
        long version = varint(b, pos, "version");
        if (version != SliceProof.FORMAT_VERSION) {
            throw new SliceProofException(SliceProofException.Kind.VERSION,
                    "slice proof format " + version + " is not supported; only " + SliceProof.FORMAT_VERSION);
        }
        long contentLength = varint(b, pos, "content length");
        if (contentLength > SliceProof.MAX_CONTENT_LENGTH) {
            throw new SliceProofException(SliceProofException.Kind.CONTENT_LENGTH,
                    "content length " + contentLength + " is over " + SliceProof.MAX_CONTENT_LENGTH);
        }
        long first = varint(b, pos, "first chunk");
        long count = varint(b, pos, "chunk count");
        if (count < 1 || count > SliceProof.MAX_CHUNK_COUNT) {
            throw new SliceProofException(SliceProofException.Kind.BAD_RANGE,
                    "chunk count " + count + " is outside [1, " + SliceProof.MAX_CHUNK_COUNT + "]");
        }
        long total = TreeShape.chunks(contentLength);
        if (first >= total || first + count > total) { // first < 2^63 and count <= 2^20: no overflow
            throw new SliceProofException(SliceProofException.Kind.RANGE_OUTSIDE_CONTENT, "chunks [" + first + ", "
                    + (first + count) + ") are outside content of " + contentLength + " bytes (" + total + " chunks)");
        }
        long siblingBytes = (long) TreeShape.siblingCount(total, first, count) * SliceProof.CV_LEN;
        long chunkBytes = TreeShape.rangeBytes(contentLength, first, count);
        long size = pos[0] + siblingBytes + chunkBytes;
        if (size > maxBytes) {
            throw new SliceProofException(SliceProofException.Kind.TOO_LARGE, "chunks [" + first + ", " + (first + count)
                    + ") of " + contentLength + " bytes make a " + size + "-byte proof, over the limit of " + maxBytes);
        }
        if (b.length < size) {
            throw new SliceProofException(SliceProofException.Kind.TRUNCATED, "slice proof is " + b.length
                    + " bytes, its header says " + size + " (" + siblingBytes / SliceProof.CV_LEN + " siblings, "
                    + chunkBytes + " chunk bytes)");
        }
        if (b.length > size) {
            throw new SliceProofException(SliceProofException.Kind.TRAILING_BYTES, "slice proof is " + b.length
                    + " bytes, its header says " + size);
        }
        int o = pos[0];
        byte[] siblings = Arrays.copyOfRange(b, o, o + (int) siblingBytes);
        byte[] chunks = Arrays.copyOfRange(b, o + (int) siblingBytes, (int) size);
        return new SliceProof(contentLength, first, (int) count, chunks, siblings);
    }

    private static long varint(byte[] b, int[] pos, String what) {
        try {
            return Uvarint.readMinimal(b, pos);
        } catch (WireException e) {
            throw new SliceProofException(SliceProofException.Kind.VARINT, what + ": " + e.getMessage(), e);
        }
    }
}
