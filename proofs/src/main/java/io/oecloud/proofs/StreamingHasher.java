package io.oecloud.proofs;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Hashes bytes as they pass, for uploads: callers hand over the buffers they already hold and the
 * hasher reads them in place (no copy of heap arrays or direct BLAKE3 input; SHA-256 over direct
 * buffers goes through the JDK's small reused staging array). Not thread-safe.
 *
 * <pre>{@code
 * StreamingHasher h = HashFunction.BLAKE3.newHasher();
 * while (upload has bytes) h.update(buffer);   // buffer's position moves to its limit
 * Cid cid = h.cid(ContentCodec.RAW);
 * }</pre>
 */
public sealed interface StreamingHasher permits StreamingHasher.Sha256, StreamingHasher.Blake3Hasher {
    HashFunction function();

    void update(byte[] data, int off, int len);

    /** Hashes the buffer's remaining bytes and moves its position to its limit. */
    void update(ByteBuffer data);

    /** Total bytes hashed since creation or the last {@link #reset()}. */
    long length();

    /** Returns the digest of everything hashed so far. */
    byte[] digest();

    /** Returns the CID of everything hashed so far, with the given codec. */
    default Cid cid(ContentCodec codec) {
        return Cid.of(codec, function(), digest());
    }

    void reset();

    /** SHA-256 through the JDK's intrinsified (SHA-NI) implementation. */
    final class Sha256 implements StreamingHasher {
        private final MessageDigest md;
        private long length;

        Sha256() {
            try {
                md = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }

        @Override
        public HashFunction function() {
            return HashFunction.SHA2_256;
        }

        @Override
        public void update(byte[] data, int off, int len) {
            md.update(data, off, len);
            length += len;
        }

        @Override
        public void update(ByteBuffer data) {
            length += data.remaining();
            md.update(data);
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public byte[] digest() {
            try {
                // digest() resets a MessageDigest; hash a clone so that hashing can go on.
                return ((MessageDigest) md.clone()).digest();
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void reset() {
            md.reset();
            length = 0;
        }
    }

    /** BLAKE3, vectorized where the Vector API runs. */
    final class Blake3Hasher implements StreamingHasher {
        private final Blake3 b3 = new Blake3();
        private long length;

        Blake3Hasher() {}

        @Override
        public HashFunction function() {
            return HashFunction.BLAKE3;
        }

        @Override
        public void update(byte[] data, int off, int len) {
            b3.update(data, off, len);
            length += len;
        }

        @Override
        public void update(ByteBuffer data) {
            length += data.remaining();
            b3.update(data);
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public byte[] digest() {
            return b3.digest();
        }

        @Override
        public void reset() {
            b3.reset();
            length = 0;
        }
    }
}
