package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import io.oecloud.wire.LengthPrefix;
import io.oecloud.wire.Uvarint;
import io.oecloud.wire.WireException;
import java.nio.charset.StandardCharsets;

/**
 * multistream-select 1.0 messages: uvarint length (counting the newline), UTF-8 text, '\n'.
 * Used to agree on the security protocol, the muxer and each stream's protocol.
 */
final class Multistream {
    static final String PROTOCOL_ID = "/multistream/1.0.0";
    static final String NA = "na";
    static final String LS = "ls";
    /** Protocol names are short; anything longer is an attack or a confused peer. */
    static final int MAX_MESSAGE = 1024;
    /** How many unsupported proposals a listener answers before giving up. */
    static final int MAX_ATTEMPTS = 16;

    private Multistream() {}

    static void write(ByteBuf out, String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        LengthPrefix.writeUvarint(out, b.length + 1L);
        out.writeBytes(b);
        out.writeByte('\n');
    }

    /**
     * Reads one message at the reader index, or returns null (buffer untouched) until it is whole.
     *
     * @throws ProtocolException on an oversized message or one without the trailing newline
     */
    static String read(ByteBuf in) {
        int start = in.readerIndex();
        long len;
        try {
            len = LengthPrefix.readUvarint(in, Uvarint.MAX_BYTES);
        } catch (WireException e) {
            throw new ProtocolException("multistream " + e.getMessage(), e);
        }
        if (len == LengthPrefix.INCOMPLETE) {
            return null;
        }
        if (len < 1 || len > MAX_MESSAGE) {
            throw new ProtocolException("multistream message of " + len + " bytes (limit " + MAX_MESSAGE + ")");
        }
        if (in.readableBytes() < len) {
            in.readerIndex(start);
            return null;
        }
        String s = in.toString(in.readerIndex(), (int) len - 1, StandardCharsets.UTF_8);
        byte nl = in.getByte(in.readerIndex() + (int) len - 1);
        in.skipBytes((int) len);
        if (nl != '\n') {
            throw new ProtocolException("multistream message does not end with a newline");
        }
        return s;
    }
}
