package io.oecloud.dht;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.dht.pb.Keys;
import io.oecloud.wire.Base32;
import io.oecloud.wire.Multihash;
import io.oecloud.wire.Uvarint;
import io.oecloud.wire.WireException;
import java.util.Arrays;

/**
 * A libp2p peer ID: the multihash of the peer's public key in libp2p's protobuf form. Ed25519
 * keys are short enough (36 bytes) to be inlined with the identity multihash (0x00), so the ID
 * carries the key itself and a signature can be checked against it without a lookup. Written
 * as base58btc ({@code 12D3KooW...}); also parsed from the CIDv1 form (codec libp2p-key 0x72).
 */
public final class PeerId implements Comparable<PeerId> {
    private static final int IDENTITY = Multihash.IDENTITY;
    private static final int SHA2_256 = Multihash.SHA2_256;
    private static final int LIBP2P_KEY = 0x72;
    /** go and js refuse inlined keys above 42 bytes; larger keys are hashed. */
    private static final int MAX_INLINE_KEY = 42;

    private final byte[] multihash;
    /**
     * Written out on first use: base58 is a big-number division per byte, and most IDs (parsed
     * from DHT messages and manifests by the thousand) are compared and hashed, never printed.
     */
    private volatile String base58;

    private PeerId(byte[] multihash) {
        this.multihash = multihash;
    }

    private String base58() {
        String s = base58;
        if (s == null) {
            s = Base58.encode(multihash);
            base58 = s;
        }
        return s;
    }

    /** The peer ID of an Ed25519 public key (32 raw bytes). */
    public static PeerId fromEd25519(byte[] publicKey) {
        return fromPublicKeyProto(Keys.PublicKey.newBuilder()
                .setType(Keys.KeyType.Ed25519)
                .setData(ByteString.copyFrom(publicKey))
                .build()
                .toByteArray());
    }

    /** The peer ID of a public key in libp2p's protobuf encoding. */
    public static PeerId fromPublicKeyProto(byte[] proto) {
        return new PeerId(proto.length <= MAX_INLINE_KEY
                ? Multihash.encode(IDENTITY, proto)
                : Multihash.encode(SHA2_256, Crypto.sha256(proto)));
    }

    /**
     * The peer ID these multihash bytes name, or null when they name none (a DHT key that is a CID,
     * say): for callers to whom that is an expected case, not an error.
     */
    public static PeerId tryFromBytes(byte[] multihash) {
        return problem(multihash) == null ? new PeerId(multihash.clone()) : null;
    }

    /**
     * Parses the multihash bytes of a peer ID.
     *
     * @throws IllegalArgumentException if they are not an identity or sha2-256 multihash
     */
    public static PeerId fromBytes(byte[] multihash) {
        String problem = problem(multihash);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return new PeerId(multihash.clone());
    }

    /** What keeps these bytes from being a peer ID's multihash, or null if nothing does. */
    private static String problem(byte[] multihash) {
        if (multihash.length < 2) {
            return "peer ID of " + multihash.length + " bytes is too short";
        }
        int code = multihash[0] & 0xff;
        int len = multihash[1] & 0xff;
        if (code != IDENTITY && code != SHA2_256) {
            return "peer ID multihash 0x" + Integer.toHexString(code) + " is neither identity (0x00) nor sha2-256 (0x12)";
        }
        if ((code == SHA2_256 && len != 32) || len != multihash.length - 2 || len > MAX_INLINE_KEY) {
            return "peer ID digest length " + len + " does not match its " + (multihash.length - 2) + " bytes";
        }
        return null;
    }

    /**
     * Parses {@code 12D3KooW...}/{@code Qm...} (base58btc) or the CIDv1 form {@code bafz...}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static PeerId parse(String s) {
        if (s == null || s.isEmpty()) {
            throw new IllegalArgumentException("empty peer ID");
        }
        if (s.length() > 128) {
            throw new IllegalArgumentException("peer ID of " + s.length() + " characters is too long");
        }
        if (s.charAt(0) == 'b') {
            byte[] cid;
            try {
                cid = Base32.decode(s, 1);
            } catch (WireException e) {
                throw new IllegalArgumentException("peer ID CID is not valid base32: " + e.getMessage(), e);
            }
            int[] pos = {0};
            long version = Uvarint.read(cid, pos);
            long codec = Uvarint.read(cid, pos);
            if (version != 1 || codec != LIBP2P_KEY) {
                throw new IllegalArgumentException("CID " + s + " is not a CIDv1 with codec libp2p-key (0x72)");
            }
            return fromBytes(Arrays.copyOfRange(cid, pos[0], cid.length));
        }
        return fromBytes(Base58.decode(s));
    }

    /** The Ed25519 public key inlined in this ID, or null when the ID only holds a hash of the key. */
    public byte[] ed25519PublicKey() {
        if (multihash[0] != IDENTITY) {
            return null;
        }
        try {
            Keys.PublicKey pk = Keys.PublicKey.parseFrom(Arrays.copyOfRange(multihash, 2, multihash.length));
            return pk.getType() == Keys.KeyType.Ed25519 && pk.getData().size() == 32 ? pk.getData().toByteArray() : null;
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }

    /** The multihash bytes (a copy). */
    public byte[] toBytes() {
        return multihash.clone();
    }

    byte[] bytesUnsafe() {
        return multihash;
    }

    @Override
    public String toString() {
        return base58();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PeerId p && Arrays.equals(multihash, p.multihash);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(multihash);
    }

    @Override
    public int compareTo(PeerId o) {
        return Arrays.compareUnsigned(multihash, o.multihash);
    }

    /** Short form for logs. */
    public String shortString() {
        String s = base58();
        return s.length() > 12 ? "…" + s.substring(s.length() - 8) : s;
    }

}
