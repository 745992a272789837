package io.oecloud.dht;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Noise CipherState: ChaCha20-Poly1305 with a 64-bit counter nonce (4 zero bytes, then the
 * counter little-endian), on the JDK's intrinsified implementation. Not thread-safe: one per
 * direction, used on the connection's event loop.
 */
final class NoiseCipher {
    static final int TAG = 16;

    private final SecretKeySpec key;
    private final Cipher cipher;
    private final byte[] nonce = new byte[12];
    private long n;

    NoiseCipher(byte[] key) {
        this.key = new SecretKeySpec(key, "ChaCha20");
        try {
            this.cipher = Cipher.getInstance("ChaCha20-Poly1305");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks ChaCha20-Poly1305", e);
        }
    }

    private void init(int mode, byte[] ad) throws GeneralSecurityException {
        if (n == -1L) {
            throw new ProtocolException("Noise nonce exhausted");
        }
        long c = n++;
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (c >>> (8 * i));
        }
        cipher.init(mode, key, new IvParameterSpec(nonce));
        if (ad != null && ad.length > 0) {
            cipher.updateAAD(ad);
        }
    }

    byte[] encrypt(byte[] ad, byte[] plaintext) {
        try {
            init(Cipher.ENCRYPT_MODE, ad);
            return cipher.doFinal(plaintext);
        } catch (GeneralSecurityException e) {
            throw new ProtocolException("Noise encryption failed", e);
        }
    }

    byte[] decrypt(byte[] ad, byte[] ciphertext) {
        try {
            init(Cipher.DECRYPT_MODE, ad);
            return cipher.doFinal(ciphertext);
        } catch (GeneralSecurityException e) {
            throw new ProtocolException("Noise decryption failed (bad tag or key)", e);
        }
    }

    /** Encrypts {@code in}'s remaining bytes into {@code out} (which gains in.remaining() + 16 bytes). */
    void encrypt(ByteBuffer in, ByteBuffer out) {
        try {
            init(Cipher.ENCRYPT_MODE, null);
            cipher.doFinal(in, out);
        } catch (GeneralSecurityException e) {
            throw new ProtocolException("Noise encryption failed", e);
        }
    }

    /**
     * Encrypts the remaining bytes of {@code in}, in order, as one message into {@code out}: the
     * pieces of a composite buffer need not be merged (copied) first.
     */
    void encrypt(ByteBuffer[] in, ByteBuffer out) {
        try {
            init(Cipher.ENCRYPT_MODE, null);
            for (int i = 0; i < in.length - 1; i++) {
                cipher.update(in[i], out);
            }
            cipher.doFinal(in[in.length - 1], out);
        } catch (GeneralSecurityException e) {
            throw new ProtocolException("Noise encryption failed", e);
        }
    }

    /** Decrypts {@code in}'s remaining bytes into {@code out}; throws on a bad tag. */
    void decrypt(ByteBuffer in, ByteBuffer out) {
        try {
            init(Cipher.DECRYPT_MODE, null);
            cipher.doFinal(in, out);
        } catch (GeneralSecurityException e) {
            throw new ProtocolException("Noise frame failed authentication", e);
        }
    }
}
