package io.oecloud.wire;

/**
 * Bytes or text that break a wire format; {@link #kind()} says how. The message names the value
 * (the length, the byte, the position) in words a peer or a user may be shown.
 *
 * <p>An {@link IllegalArgumentException}, as the parse errors of the formats built on these
 * primitives always were (multiaddrs, peer IDs, CIDs), so callers that refuse any bad input keep
 * working. Each protocol maps it once at its boundary: Kademlia and multistream reset the stream
 * ({@code ProtocolException}), the shard protocol answers {@code BAD_REQUEST}, the chain's gossip
 * answers 400, the ABCI decoder closes the connection, CIDs name the part
 * ({@code CidFormatException}).
 */
public final class WireException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** What is wrong. */
    public enum Kind {
        /** The input ends inside a varint. */
        VARINT_TRUNCATED,
        /** A varint runs past the bytes its reader allows. */
        VARINT_TOO_LONG,
        /** A varint has a trailing zero group where multiformats requires the shortest form. */
        VARINT_NOT_MINIMAL,
        /** A length prefix announces more than the frame limit. */
        FRAME_TOO_LONG,
        /** A base32 string whose length no byte count encodes to. */
        BASE32_LENGTH,
        /** A character outside the base32 alphabet. */
        BASE32_CHARACTER,
        /** Base32 whose unused last bits are not zero (so two strings would name the same bytes). */
        BASE32_PADDING
    }

    private final Kind kind;

    WireException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
