package io.oecloud.dht;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The Noise XX handshake (Noise_XX_25519_ChaChaPoly_SHA256), transport-agnostic:
 *
 * <pre>
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 * </pre>
 *
 * Written from the Noise specification (rev. 34, sections 5 and 7.5). Callers exchange the
 * messages {@link #writeMessage} and {@link #readMessage} produce and consume (libp2p frames each
 * with a 2-byte length) and then {@link #split()} into the two transport ciphers.
 */
final class NoiseXX {
    private static final byte[] PROTOCOL_NAME =
            "Noise_XX_25519_ChaChaPoly_SHA256".getBytes(StandardCharsets.US_ASCII);
    static final int DH_LEN = 32;

    private final boolean initiator;
    private final byte[] staticPrivate;
    private final byte[] staticPublic;
    private byte[] ephemeralPrivate;
    private byte[] remoteEphemeral;
    private byte[] remoteStatic;
    // symmetric state
    private byte[] ck;
    private byte[] h;
    private NoiseCipher cipher; // null until the first MixKey
    private int step;

    NoiseXX(boolean initiator, byte[] staticPrivate) {
        this.initiator = initiator;
        this.staticPrivate = staticPrivate.clone();
        this.staticPublic = Crypto.x25519PublicKey(staticPrivate);
        // The name is exactly HASHLEN bytes, so h starts as the name itself; then MixHash(empty prologue).
        this.h = PROTOCOL_NAME.clone();
        this.ck = h.clone();
        mixHash(new byte[0]);
    }

    byte[] staticPublicKey() {
        return staticPublic.clone();
    }

    /** The remote party's static X25519 key, known after its "s" token. */
    byte[] remoteStaticKey() {
        return remoteStatic == null ? null : remoteStatic.clone();
    }

    boolean isInitiator() {
        return initiator;
    }

    /** Whether the three messages have been exchanged. */
    boolean isComplete() {
        return step == 3;
    }

    /** Whether the next message is ours to write. */
    boolean isMyTurn() {
        return (step % 2 == 0) == initiator;
    }

    private void mixHash(byte[] data) {
        h = Crypto.sha256(h, data);
    }

    private void mixKey(byte[] ikm) {
        byte[][] out = Crypto.hkdf2(ck, ikm);
        ck = out[0];
        cipher = new NoiseCipher(Arrays.copyOf(out[1], 32));
    }

    private byte[] encryptAndHash(byte[] plaintext) {
        byte[] c = cipher == null ? plaintext : cipher.encrypt(h, plaintext);
        mixHash(c);
        return c;
    }

    private byte[] decryptAndHash(byte[] ciphertext) {
        byte[] p = cipher == null ? ciphertext : cipher.decrypt(h, ciphertext);
        mixHash(ciphertext);
        return p;
    }

    /** Writes the next handshake message carrying {@code payload}. */
    byte[] writeMessage(byte[] payload) {
        if (!isMyTurn() || isComplete()) {
            throw new IllegalStateException("not our turn to write (step " + step + ")");
        }
        byte[] out;
        switch (step) {
            case 0 -> { // -> e
                ephemeralPrivate = Crypto.x25519PrivateKey();
                byte[] e = Crypto.x25519PublicKey(ephemeralPrivate);
                mixHash(e);
                out = concat(e, encryptAndHash(payload));
            }
            case 1 -> { // <- e, ee, s, es
                ephemeralPrivate = Crypto.x25519PrivateKey();
                byte[] e = Crypto.x25519PublicKey(ephemeralPrivate);
                mixHash(e);
                mixKey(Crypto.x25519(ephemeralPrivate, remoteEphemeral));
                byte[] s = encryptAndHash(staticPublic);
                mixKey(Crypto.x25519(staticPrivate, remoteEphemeral));
                out = concat(e, s, encryptAndHash(payload));
            }
            default -> { // -> s, se
                byte[] s = encryptAndHash(staticPublic);
                mixKey(Crypto.x25519(staticPrivate, remoteEphemeral));
                out = concat(s, encryptAndHash(payload));
            }
        }
        step++;
        return out;
    }

    /**
     * Reads the peer's next handshake message and returns its payload.
     *
     * @throws ProtocolException if it is malformed or fails authentication
     */
    byte[] readMessage(byte[] msg) {
        if (isMyTurn() || isComplete()) {
            throw new IllegalStateException("not our turn to read (step " + step + ")");
        }
        byte[] payload;
        switch (step) {
            case 0 -> { // -> e
                need(msg, DH_LEN);
                remoteEphemeral = Arrays.copyOf(msg, DH_LEN);
                mixHash(remoteEphemeral);
                payload = decryptAndHash(Arrays.copyOfRange(msg, DH_LEN, msg.length));
            }
            case 1 -> { // <- e, ee, s, es
                need(msg, DH_LEN + DH_LEN + NoiseCipher.TAG);
                remoteEphemeral = Arrays.copyOf(msg, DH_LEN);
                mixHash(remoteEphemeral);
                mixKey(Crypto.x25519(ephemeralPrivate, remoteEphemeral));
                remoteStatic = decryptAndHash(Arrays.copyOfRange(msg, DH_LEN, 2 * DH_LEN + NoiseCipher.TAG));
                mixKey(Crypto.x25519(ephemeralPrivate, remoteStatic));
                payload = decryptAndHash(Arrays.copyOfRange(msg, 2 * DH_LEN + NoiseCipher.TAG, msg.length));
            }
            default -> { // -> s, se
                need(msg, DH_LEN + NoiseCipher.TAG);
                remoteStatic = decryptAndHash(Arrays.copyOf(msg, DH_LEN + NoiseCipher.TAG));
                mixKey(Crypto.x25519(ephemeralPrivate, remoteStatic));
                payload = decryptAndHash(Arrays.copyOfRange(msg, DH_LEN + NoiseCipher.TAG, msg.length));
            }
        }
        step++;
        return payload;
    }

    /** The transport ciphers: [0] for sending, [1] for receiving. */
    NoiseCipher[] split() {
        if (!isComplete()) {
            throw new IllegalStateException("handshake not complete");
        }
        byte[][] k = Crypto.hkdf2(ck, new byte[0]);
        NoiseCipher c1 = new NoiseCipher(k[0]);
        NoiseCipher c2 = new NoiseCipher(k[1]);
        return initiator ? new NoiseCipher[] {c1, c2} : new NoiseCipher[] {c2, c1};
    }

    private static void need(byte[] msg, int n) {
        if (msg.length < n) {
            throw new ProtocolException("Noise handshake message of " + msg.length + " bytes, need at least " + n);
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
