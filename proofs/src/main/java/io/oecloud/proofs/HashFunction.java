package io.oecloud.proofs;

import io.oecloud.wire.Multihash;

/** The multihash functions CIDs may use. */
public enum HashFunction {
    /** SHA-256 (multihash 0x12): what IPFS names raw blocks with by default. */
    SHA2_256(Multihash.SHA2_256, "sha2-256"),
    /** BLAKE3 with a 32-byte digest (multihash 0x1e): the network's own names and commitments. */
    BLAKE3(Multihash.BLAKE3, "blake3");

    /** Both functions' digests are 32 bytes. */
    public static final int DIGEST_LENGTH = 32;

    private final int code;
    private final String label;

    HashFunction(int code, String label) {
        this.code = code;
        this.label = label;
    }

    public int code() {
        return code;
    }

    /** The multihash table's name, as {@code --hash} takes it. */
    public String label() {
        return label;
    }

    /** Returns a new incremental hasher. */
    public StreamingHasher newHasher() {
        return switch (this) {
            case SHA2_256 -> new StreamingHasher.Sha256();
            case BLAKE3 -> new StreamingHasher.Blake3Hasher();
        };
    }

    /** Returns the digest of {@code data}. */
    public byte[] digest(byte[] data) {
        StreamingHasher h = newHasher();
        h.update(data, 0, data.length);
        return h.digest();
    }

    /** Parses a label ({@code sha2-256}, {@code blake3}; also {@code sha256}). */
    public static HashFunction parse(String label) {
        String l = label.strip().toLowerCase(java.util.Locale.ROOT);
        for (HashFunction f : values()) {
            if (f.label.equals(l)) {
                return f;
            }
        }
        if (l.equals("sha256") || l.equals("sha-256")) {
            return SHA2_256;
        }
        throw new IllegalArgumentException("unknown hash '" + label + "' (known: sha2-256, blake3)");
    }

    static HashFunction ofCode(long code) {
        for (HashFunction f : values()) {
            if (f.code == code) {
                return f;
            }
        }
        throw new CidFormatException(CidFormatException.Part.HASH_FUNCTION,
                "unknown multihash function 0x" + Long.toHexString(code) + " (known: sha2-256 0x12, blake3 0x1e)");
    }
}
