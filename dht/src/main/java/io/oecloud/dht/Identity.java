package io.oecloud.dht;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.dht.pb.Keys;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A node's Ed25519 identity: its libp2p peer ID (and, later, its OEChain account). Stored in the
 * data directory as libp2p's PrivateKey protobuf (Ed25519: 32-byte seed followed by the 32-byte
 * public key), readable only by its owner.
 */
public final class Identity {
    /** The key file's name inside a data directory. */
    public static final String KEY_FILE = "identity.key";

    private final byte[] seed;
    private final byte[] publicKey;
    private final PeerId peerId;

    private Identity(byte[] seed) {
        if (seed.length != 32) {
            throw new IllegalArgumentException("Ed25519 seed must be 32 bytes, was " + seed.length);
        }
        this.seed = seed.clone();
        this.publicKey = Crypto.ed25519PublicKey(seed);
        this.peerId = PeerId.fromEd25519(publicKey);
    }

    /** A new random identity. */
    public static Identity generate() {
        byte[] seed = new byte[32];
        Crypto.RANDOM.nextBytes(seed);
        return new Identity(seed);
    }

    /** The identity of a 32-byte seed (deterministic; for tests and imports). */
    public static Identity fromSeed(byte[] seed) {
        return new Identity(seed);
    }

    /**
     * Loads {@code dir/identity.key}, creating it (mode 600, written atomically) if it does not exist.
     *
     * @throws IOException if the file cannot be read or written, or holds no Ed25519 key
     */
    public static Identity loadOrCreate(Path dir) throws IOException {
        Path file = dir.resolve(KEY_FILE);
        if (Files.exists(file)) {
            return load(file);
        }
        Files.createDirectories(dir);
        Identity id = generate();
        Path tmp = dir.resolve(KEY_FILE + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, id.privateKeyProto());
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file);
        }
        return id;
    }

    /**
     * Loads a key file written by {@link #loadOrCreate} (any name).
     *
     * @throws IOException if the file cannot be read or holds no Ed25519 key
     */
    public static Identity load(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            Keys.PrivateKey pk = Keys.PrivateKey.parseFrom(bytes);
            if (pk.getType() != Keys.KeyType.Ed25519 || (pk.getData().size() != 64 && pk.getData().size() != 32)) {
                throw new IOException(file + " holds a " + pk.getType() + " key of " + pk.getData().size()
                        + " bytes; an Ed25519 key of 64 bytes is expected");
            }
            return new Identity(pk.getData().substring(0, 32).toByteArray());
        } catch (InvalidProtocolBufferException e) {
            throw new IOException(file + " is not a libp2p private key: " + e.getMessage(), e);
        }
    }

    /** libp2p's PrivateKey protobuf: seed then public key. */
    public byte[] privateKeyProto() {
        byte[] data = new byte[64];
        System.arraycopy(seed, 0, data, 0, 32);
        System.arraycopy(publicKey, 0, data, 32, 32);
        return Keys.PrivateKey.newBuilder().setType(Keys.KeyType.Ed25519).setData(ByteString.copyFrom(data)).build().toByteArray();
    }

    /** libp2p's PublicKey protobuf. */
    public byte[] publicKeyProto() {
        return Keys.PublicKey.newBuilder().setType(Keys.KeyType.Ed25519).setData(ByteString.copyFrom(publicKey)).build().toByteArray();
    }

    public byte[] publicKey() {
        return publicKey.clone();
    }

    public PeerId peerId() {
        return peerId;
    }

    /**
     * A 32-byte secret for {@code purpose} that only the holder of this identity can derive
     * (HMAC-SHA256 keyed by the seed), so callers get keys without ever seeing the seed.
     */
    public byte[] deriveSecret(String purpose) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(seed, "HmacSHA256"));
            return mac.doFinal(("oe-identity-derive/v1/" + purpose).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    public byte[] sign(byte[] message) {
        return Crypto.ed25519Sign(seed, publicKey, message);
    }

    @Override
    public String toString() {
        return "Identity(" + peerId + ")";
    }
}
