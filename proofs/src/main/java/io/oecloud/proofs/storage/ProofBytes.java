package io.oecloud.proofs.storage;

import io.oecloud.wire.Uvarint;
import io.oecloud.wire.WireException;
import java.util.Arrays;

/** Reading the proofs' encodings: every failure a {@link StorageProofException} naming the field. */
final class ProofBytes {
    private ProofBytes() {}

    /** A minimal uvarint at {@code pos[0]}, advancing it. */
    static long varint(byte[] b, int[] pos, String what) {
        try {
            return Uvarint.readMinimal(b, pos);
        } catch (WireException e) {
            StorageProofException.Kind kind = e.kind() == WireException.Kind.VARINT_TRUNCATED
                    ? StorageProofException.Kind.TRUNCATED : StorageProofException.Kind.VARINT;
            throw new StorageProofException(kind, what + ": " + e.getMessage(), e);
        }
    }

    /** {@code len} bytes at {@code pos[0]}, copied, advancing it. */
    static byte[] take(byte[] b, int[] pos, int len, String what) {
        if (b.length - pos[0] < len) {
            throw new StorageProofException(StorageProofException.Kind.TRUNCATED,
                    what + " needs " + len + " bytes, " + (b.length - pos[0]) + " are left");
        }
        byte[] out = Arrays.copyOfRange(b, pos[0], pos[0] + len);
        pos[0] += len;
        return out;
    }
}
