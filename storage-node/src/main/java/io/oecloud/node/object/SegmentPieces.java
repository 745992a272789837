package io.oecloud.node.object;

import java.io.IOException;
import java.io.InputStream;

/**
 * One segment's bytes as they are read, laid out over k arrays of the shard size, so that a
 * whole unencrypted segment's arrays are its data shards as they are (no copy). The arrays are
 * fresh: past the last byte read they hold zeros, the shards' padding. Owned by the upload that
 * reads into it, then by the task that codes and places it.
 */
final class SegmentPieces {
    final byte[][] pieces;
    final int pieceSize;
    final int capacity;

    SegmentPieces(int capacity, int k) {
        this.capacity = capacity;
        this.pieceSize = (capacity + k - 1) / k;
        this.pieces = new byte[k][pieceSize];
    }

    /** Reads up to the capacity; fewer bytes only at the end of the stream. */
    int readFrom(InputStream in) throws IOException {
        int total = 0;
        for (byte[] p : pieces) {
            int want = Math.min(pieceSize, capacity - total);
            int got = in.readNBytes(p, 0, want);
            total += got;
            if (got < want) {
                break;
            }
        }
        return total;
    }

    /** The first {@code len} bytes in one array (a copy). */
    byte[] join(int len) {
        return join(pieces, pieceSize, len);
    }

    /** The first {@code len} bytes laid end to end over {@code pieces} of {@code pieceSize}, in one array. */
    static byte[] join(byte[][] pieces, int pieceSize, int len) {
        byte[] out = new byte[len];
        for (int i = 0, at = 0; at < len; i++) {
            int c = Math.min(pieceSize, len - at);
            System.arraycopy(pieces[i], 0, out, at, c);
            at += c;
        }
        return out;
    }
}
