package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for segments: one random key per object, segment i under nonce 0^4 || i, so the
 * 16-byte tag also binds each segment to its place in the object. The object key travels in the
 * manifest wrapped (AES-256-GCM) under a key derived from the owner's identity: only the owner's
 * node can read the object back; holders of shards and manifests see ciphertext.
 */
final class SegmentCipher {
    static final String ALGORITHM = "AES-256-GCM";
    static final int TAG = 16;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String WRAP_PURPOSE = "object-key-wrap";

    private final SecretKeySpec key;

    private SegmentCipher(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    /** A fresh object key and its manifest entry, wrapped for {@code owner}. */
    static SegmentCipher create(Identity owner, Encryption.Builder into) {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        byte[] wrapped = gcm(Cipher.ENCRYPT_MODE, new SecretKeySpec(owner.deriveSecret(WRAP_PURPOSE), "AES"), nonce, k, 0, k.length);
        into.setAlgorithm(ALGORITHM).setWrappedKey(ByteString.copyFrom(wrapped)).setWrapNonce(ByteString.copyFrom(nonce));
        return new SegmentCipher(k);
    }

    /**
     * The object key from a manifest's entry.
     *
     * @throws ObjectException NOT_OWNER when {@code owner} cannot unwrap it (someone else's object)
     */
    static SegmentCipher open(Identity owner, Encryption e, String object) throws ObjectException {
        if (!ALGORITHM.equals(e.getAlgorithm())) {
            throw new ObjectException(ObjectException.Code.CORRUPT, object + " uses unknown encryption '" + e.getAlgorithm() + "'");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(owner.deriveSecret(WRAP_PURPOSE), "AES"),
                    new GCMParameterSpec(128, e.getWrapNonce().toByteArray()));
            byte[] k = c.doFinal(e.getWrappedKey().toByteArray());
            return new SegmentCipher(k);
        } catch (GeneralSecurityException ex) {
            throw new ObjectException(ObjectException.Code.NOT_OWNER, object
                    + " is encrypted for its owner; this node's key cannot open it");
        }
    }

    /** Ciphertext and tag of {@code data[0, len)}, segment {@code index}. */
    byte[] seal(long index, byte[] data, int len) {
        return gcm(Cipher.ENCRYPT_MODE, key, nonce(index), data, 0, len);
    }

    /** The plaintext of segment {@code index}; CORRUPT when the tag does not verify. */
    byte[] open(long index, byte[] sealed, int len, String segment) throws ObjectException {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, nonce(index)));
            return c.doFinal(sealed, 0, len);
        } catch (GeneralSecurityException e) {
            throw new ObjectException(ObjectException.Code.CORRUPT, "segment " + segment + " failed AES-GCM authentication");
        }
    }

    private static byte[] nonce(long index) {
        byte[] n = new byte[12];
        for (int i = 0; i < 8; i++) {
            n[11 - i] = (byte) (index >>> (8 * i));
        }
        return n;
    }

    private static byte[] gcm(int mode, SecretKeySpec key, byte[] nonce, byte[] data, int off, int len) {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(mode, key, new GCMParameterSpec(128, nonce));
            return c.doFinal(data, off, len);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }
}
