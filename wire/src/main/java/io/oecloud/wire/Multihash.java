package io.oecloud.wire;

/**
 * Multihashes: {@code uvarint(function code) uvarint(digest length) digest}, the self-describing
 * digest that CIDs end with, that peer IDs are, and that the DHT files providers under (a CID's
 * multihash is its kad key, as go- and js-libp2p use it).
 *
 * <pre>{@code
 * byte[] mh = Multihash.encode(Multihash.BLAKE3, digest);   // 1e 20 + 32 bytes
 * }</pre>
 */
public final class Multihash {
    /** The identity "hash": the digest is the data itself (peer IDs of Ed25519 keys inline the key). */
    public static final int IDENTITY = 0x00;
    /** SHA-256, IPFS's default. */
    public static final int SHA2_256 = 0x12;
    /** BLAKE3 with a 32-byte digest, the network's own names. */
    public static final int BLAKE3 = 0x1e;

    private Multihash() {}

    /** Bytes the multihash of a {@code digestLength}-byte digest takes. */
    public static int size(long code, int digestLength) {
        return Uvarint.size(code) + Uvarint.size(digestLength) + digestLength;
    }

    /**
     * Writes the multihash at {@code dst[off]}.
     *
     * @return the offset just past it
     */
    public static int write(byte[] dst, int off, long code, byte[] digest) {
        off = Uvarint.write(dst, off, code);
        off = Uvarint.write(dst, off, digest.length);
        System.arraycopy(digest, 0, dst, off, digest.length);
        return off + digest.length;
    }

    /** The multihash of {@code digest}, in a new array. */
    public static byte[] encode(long code, byte[] digest) {
        byte[] out = new byte[size(code, digest.length)];
        write(out, 0, code, digest);
        return out;
    }
}
