package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Set;

/**
 * One multistream-select exchange, as dialler or as listener, fed bytes as they arrive. The
 * dialler pipelines the header and its single proposal in one write (as go and js do); the
 * listener writes its header at once and answers each proposal, "na" for those it lacks (and for
 * {@code ls}). Shared by connection upgrades and streams.
 */
final class Negotiation {
    enum Result { PENDING, AGREED }

    private final boolean dialler;
    private final String proposal;
    private final Set<String> supported;
    private boolean headerSeen;
    private int attempts;
    private String agreed;

    private Negotiation(boolean dialler, String proposal, Set<String> supported) {
        this.dialler = dialler;
        this.proposal = proposal;
        this.supported = supported;
    }

    static Negotiation dialler(String protocol) {
        return new Negotiation(true, protocol, Set.of());
    }

    static Negotiation listener(Set<String> supported) {
        return new Negotiation(false, null, supported);
    }

    /** What to write first: the dialler's header and proposal, or the listener's header. */
    ByteBuf opening(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(64);
        Multistream.write(out, Multistream.PROTOCOL_ID);
        if (dialler) {
            Multistream.write(out, proposal);
        }
        return out;
    }

    /** The agreed protocol, once {@link #feed} returned AGREED. */
    String agreed() {
        return agreed;
    }

    /**
     * Consumes whole messages from {@code in}; replies (listener side) go to {@code out}. Bytes
     * after the agreement stay in {@code in} for the protocol that follows.
     *
     * @throws ProtocolException when the peer refuses our protocol, speaks another version, or
     *     proposes too many we lack
     */
    Result feed(ByteBuf in, ByteBuf out) {
        while (agreed == null) {
            String msg = Multistream.read(in);
            if (msg == null) {
                return Result.PENDING;
            }
            if (!headerSeen) {
                if (!msg.equals(Multistream.PROTOCOL_ID)) {
                    throw new ProtocolException("expected " + Multistream.PROTOCOL_ID + ", got '" + msg + "'");
                }
                headerSeen = true;
                continue;
            }
            if (dialler) {
                if (msg.equals(proposal)) {
                    agreed = proposal;
                } else if (msg.equals(Multistream.NA)) {
                    throw new UnsupportedProtocolException(proposal);
                } else {
                    throw new ProtocolException("peer answered '" + msg + "' to our proposal " + proposal);
                }
            } else if (supported.contains(msg)) {
                Multistream.write(out, msg);
                agreed = msg;
            } else {
                if (++attempts > Multistream.MAX_ATTEMPTS) {
                    throw new ProtocolException("peer proposed " + attempts + " protocols we lack");
                }
                Multistream.write(out, Multistream.NA);
            }
        }
        return Result.AGREED;
    }
}
