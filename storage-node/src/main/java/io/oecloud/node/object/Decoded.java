package io.oecloud.node.object;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A segment's checked bytes: {@code length} bytes laid out over {@code pieces} of
 * {@code pieceSize} bytes each (its data shards, which are not copied into one array).
 */
record Decoded(byte[][] pieces, int pieceSize, int length) {
    static Decoded of(byte[] bytes) {
        return new Decoded(new byte[][] {bytes}, bytes.length, bytes.length);
    }

    /** Writes bytes [from, to) of the segment, piece by piece as they are. */
    void writeTo(OutputStream out, int from, int to) throws IOException {
        for (int i = 0; i < pieces.length && from < to; i++) {
            int start = i * pieceSize;
            int end = Math.min(start + pieceSize, length);
            if (from < end) {
                int upTo = Math.min(to, end);
                out.write(pieces[i], from - start, upTo - from);
                from = upTo;
            }
        }
    }
}
