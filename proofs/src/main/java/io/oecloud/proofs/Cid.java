package io.oecloud.proofs;

import io.oecloud.wire.Base32;
import io.oecloud.wire.Multihash;
import io.oecloud.wire.Uvarint;
import io.oecloud.wire.WireException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A content identifier: CIDv1 = version 1, content codec, multihash (function, length, digest),
 * written as multibase base32 lower case ({@code b...}).
 *
 * <p>The raw SHA-256 CID of some bytes is what IPFS prints for them as a CIDv1 raw leaf
 * ({@code ipfs add --cid-version 1 --raw-leaves}); with BLAKE3 it is what
 * {@code --hash blake3} prints. Inside the network shards and manifests are named with BLAKE3.
 *
 * <p>Immutable; equal when codec, function and digest are equal; ordered by binary form.
 */
public final class Cid implements Comparable<Cid> {
    /** No CID we accept is longer: bounds parsing work on hostile input. */
    public static final int MAX_STRING_LENGTH = 128;

    private final ContentCodec codec;
    private final HashFunction function;
    private final byte[] digest;
    private final byte[] bytes;
    private String string;

    private Cid(ContentCodec codec, HashFunction function, byte[] digest) {
        this.codec = codec;
        this.function = function;
        this.digest = digest;
        byte[] b = new byte[1 + Uvarint.size(codec.code()) + Multihash.size(function.code(), digest.length)];
        int o = Uvarint.write(b, 0, 1);
        o = Uvarint.write(b, o, codec.code());
        Multihash.write(b, o, function.code(), digest);
        this.bytes = b;
    }

    /**
     * Returns the CID with the given digest.
     *
     * @throws IllegalArgumentException if the digest is not 32 bytes
     */
    public static Cid of(ContentCodec codec, HashFunction function, byte[] digest) {
        if (codec == null || function == null || digest == null) {
            throw new IllegalArgumentException("codec, function and digest must not be null");
        }
        if (digest.length != HashFunction.DIGEST_LENGTH) {
            throw new CidFormatException(CidFormatException.Part.DIGEST_LENGTH, function.label()
                    + " digest must be " + HashFunction.DIGEST_LENGTH + " bytes, was " + digest.length);
        }
        return new Cid(codec, function, digest.clone());
    }

    /** Hashes {@code data} and returns its CID. */
    public static Cid compute(ContentCodec codec, HashFunction function, byte[] data) {
        return new Cid(codec, function, function.digest(data));
    }

    /** The raw CID with SHA-256, as IPFS names the same bytes by default. */
    public static Cid raw(byte[] data) {
        return compute(ContentCodec.RAW, HashFunction.SHA2_256, data);
    }

    /**
     * Parses the multibase base32 form ({@code b...}), or the base36 form ({@code k...}) that
     * subdomains use (a DNS label holds 63 characters; a BLAKE3 manifest CID is 64 in base32, 60
     * in base36: {@link #toBase36()}).
     *
     * @throws CidFormatException naming the part that is wrong
     */
    public static Cid parse(String s) {
        if (s == null || s.isEmpty()) {
            throw new CidFormatException(CidFormatException.Part.MULTIBASE, "empty CID");
        }
        if (s.length() > MAX_STRING_LENGTH) {
            throw new CidFormatException(CidFormatException.Part.DIGEST_LENGTH,
                    "CID is " + s.length() + " characters, longer than any supported CID (" + MAX_STRING_LENGTH + ")");
        }
        char prefix = s.charAt(0);
        if (prefix == 'k') {
            return fromBytes(base36(s));
        }
        if (prefix != 'b' && prefix != 'B') {
            throw new CidFormatException(CidFormatException.Part.MULTIBASE, "multibase prefix '" + prefix + "'"
                    + multibaseName(s) + " is not supported; CIDs are base32 and start with 'b'");
        }
        byte[] b;
        try {
            b = Base32.decode(s, 1);
        } catch (WireException e) {
            throw new CidFormatException(CidFormatException.Part.BASE32, e.getMessage(), e);
        }
        return fromBytes(b);
    }

    private static final String BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";

    /** The bytes of a multibase base36 string (after its 'k'): a big-endian number, each leading '0' a zero byte. */
    private static byte[] base36(String s) {
        int zeros = 0;
        while (1 + zeros < s.length() && s.charAt(1 + zeros) == '0') {
            zeros++;
        }
        java.math.BigInteger n = java.math.BigInteger.ZERO;
        java.math.BigInteger radix = java.math.BigInteger.valueOf(36);
        for (int i = 1 + zeros; i < s.length(); i++) {
            int d = BASE36.indexOf(s.charAt(i));
            if (d < 0) {
                throw new CidFormatException(CidFormatException.Part.BASE36, "character '" + s.charAt(i) + "' at " + i
                        + " is not base36 (0-9, a-z)");
            }
            n = n.multiply(radix).add(java.math.BigInteger.valueOf(d));
        }
        byte[] v = n.signum() == 0 ? new byte[0] : n.toByteArray();
        if (v.length > 1 && v[0] == 0) {
            v = Arrays.copyOfRange(v, 1, v.length); // BigInteger's sign byte
        }
        byte[] out = new byte[zeros + v.length];
        System.arraycopy(v, 0, out, zeros, v.length);
        return out;
    }

    /**
     * The multibase base36 form, {@code k...} (lower case): what a subdomain carries, since a DNS
     * label holds at most 63 characters and this CID's base32 form may not fit.
     */
    public String toBase36() {
        int zeros = 0;
        while (zeros < bytes.length && bytes[zeros] == 0) {
            zeros++;
        }
        String digits = new java.math.BigInteger(1, bytes).toString(36);
        return "k" + "0".repeat(zeros) + (zeros == bytes.length ? "" : digits);
    }

    private static String multibaseName(String s) {
        if (s.startsWith("Qm") && s.length() == 46) {
            return " (a CIDv0; convert it with 'ipfs cid base32')";
        }
        return switch (s.charAt(0)) {
            case 'z' -> " (base58btc)";
            case 'f', 'F' -> " (base16)";
            case 'm', 'M', 'u', 'U' -> " (base64)";
            case 'K' -> " (base36 upper case; use lower case)";
            default -> "";
        };
    }

    /**
     * Parses the binary form.
     *
     * @throws CidFormatException naming the part that is wrong
     */
    public static Cid fromBytes(byte[] b) {
        int[] pos = {0};
        long version = varint(b, pos, "version");
        if (version != 1) {
            throw new CidFormatException(CidFormatException.Part.VERSION,
                    "CID version " + version + " is not supported; only CIDv1");
        }
        ContentCodec codec = ContentCodec.ofCode(varint(b, pos, "codec"));
        HashFunction function = HashFunction.ofCode(varint(b, pos, "multihash function"));
        long length = varint(b, pos, "digest length");
        int left = b.length - pos[0];
        if (length != HashFunction.DIGEST_LENGTH) {
            throw new CidFormatException(CidFormatException.Part.DIGEST_LENGTH, function.label()
                    + " digest length must be " + HashFunction.DIGEST_LENGTH + ", the multihash says " + length);
        }
        if (left != length) {
            throw new CidFormatException(CidFormatException.Part.DIGEST_LENGTH, (left < length ? "truncated" : "overlong")
                    + " digest: " + left + " bytes follow, the multihash says " + length);
        }
        return new Cid(codec, function, Arrays.copyOfRange(b, pos[0], b.length));
    }

    /** A varint in its shortest form, as multiformats requires; {@code what} names the field. */
    private static long varint(byte[] b, int[] pos, String what) {
        try {
            return Uvarint.readMinimal(b, pos);
        } catch (WireException e) {
            throw new CidFormatException(CidFormatException.Part.VARINT, what + " " + e.getMessage(), e);
        }
    }

    public ContentCodec codec() {
        return codec;
    }

    public HashFunction function() {
        return function;
    }

    /** A copy of the digest. */
    public byte[] digest() {
        return digest.clone();
    }

    /** A copy of the binary form. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /**
     * The multihash (function, length, digest) this CID ends with, in a new array: the key the DHT
     * files the CID's providers under, as go- and js-libp2p do.
     */
    public byte[] multihash() {
        return Multihash.encode(function.code(), digest);
    }

    /** Returns whether {@code data} hashes to this CID's digest. */
    public boolean verify(byte[] data) {
        return MessageDigest.isEqual(digest, function.digest(data));
    }

    /** Returns whether the buffer's remaining bytes hash to this CID's digest; the buffer is not moved. */
    public boolean verify(ByteBuffer data) {
        StreamingHasher h = function.newHasher();
        h.update(data.duplicate());
        return MessageDigest.isEqual(digest, h.digest());
    }

    /** Returns whether a hasher that has seen all the bytes produced this CID's digest. */
    public boolean verify(StreamingHasher hasher) {
        return hasher.function() == function && MessageDigest.isEqual(digest, hasher.digest());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cid c && Arrays.equals(bytes, c.bytes);
    }

    @Override
    public int hashCode() {
        // The digest is uniformly distributed already.
        return (digest[0] & 0xff) << 24 | (digest[1] & 0xff) << 16 | (digest[2] & 0xff) << 8 | (digest[3] & 0xff);
    }

    @Override
    public int compareTo(Cid o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    /** The multibase base32 form, {@code b...}. */
    @Override
    public String toString() {
        String s = string;
        if (s == null) {
            s = "b" + Base32.encode(bytes);
            string = s;
        }
        return s;
    }
}
