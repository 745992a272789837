package io.oecloud.proofs;

/** The multicodec of the bytes a CID names. */
public enum ContentCodec {
    /** Plain bytes: shards, inline blocks, and what {@code oe cid} names. */
    RAW(0x55, "raw"),
    /**
     * An OE Cloud object manifest. 0x306f65 is in multicodec's private-use range (0x300000 to
     * 0x3fffff) and ends in ASCII "oe".
     */
    MANIFEST(0x306f65, "oe-manifest");

    private final long code;
    private final String label;

    ContentCodec(long code, String label) {
        this.code = code;
        this.label = label;
    }

    /** The multicodec code. */
    public long code() {
        return code;
    }

    /** The name in the multicodec table (or ours). */
    public String label() {
        return label;
    }

    static ContentCodec ofCode(long code) {
        for (ContentCodec c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        throw new CidFormatException(CidFormatException.Part.CODEC,
                "unknown content codec 0x" + Long.toHexString(code) + " (known: raw 0x55, oe-manifest 0x306f65)");
    }
}
