package io.oecloud.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits a byte stream into uvarint-length-prefixed frames ({@link LengthPrefix}), each passed on
 * as a retained slice of the cumulation without its prefix: the next handler releases it
 * ({@code SimpleChannelInboundHandler<ByteBuf>} does). The pipeline form of
 * {@link LengthPrefix#frameLength}, as Netty's {@code LengthFieldBasedFrameDecoder} is for fixed
 * length fields.
 *
 * <p>Failures are Netty's typed ones, raised from the prefix before any of the frame is buffered:
 * {@link TooLongFrameException} for a length over the limit, {@link CorruptedFrameException} for
 * a prefix longer than allowed; the channel's handler decides (ABCI closes the connection). Both
 * keep the {@link WireException} as their cause. A stream that failed has no next frame to find,
 * so everything after the failure is dropped unread: the bytes a refused length announced are
 * never taken for frames, nor is anything decoded again as the channel closes.
 */
public final class LengthPrefixDecoder extends ByteToMessageDecoder {
    private final String protocol;
    private final int maxPrefixBytes;
    private final int maxFrame;
    private boolean failed;

    /**
     * @param protocol names the protocol in error messages ("ABCI")
     * @param maxPrefixBytes the longest length prefix allowed (1 to {@link Uvarint#MAX_BYTES})
     * @param maxFrame the largest frame allowed
     */
    public LengthPrefixDecoder(String protocol, int maxPrefixBytes, int maxFrame) {
        if (maxPrefixBytes < 1 || maxPrefixBytes > Uvarint.MAX_BYTES) {
            throw new IllegalArgumentException("maxPrefixBytes must be 1 to " + Uvarint.MAX_BYTES + ", was " + maxPrefixBytes);
        }
        if (maxFrame < 0) {
            throw new IllegalArgumentException("maxFrame must not be negative, was " + maxFrame);
        }
        this.protocol = protocol;
        this.maxPrefixBytes = maxPrefixBytes;
        this.maxFrame = maxFrame;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int len;
        try {
            len = LengthPrefix.frameLength(in, maxPrefixBytes, maxFrame);
        } catch (WireException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            String message = protocol + " " + e.getMessage();
            throw e.kind() == WireException.Kind.FRAME_TOO_LONG
                    ? new TooLongFrameException(message, e)
                    : new CorruptedFrameException(message, e);
        }
        if (len != LengthPrefix.INCOMPLETE) {
            out.add(in.readRetainedSlice(len));
        }
    }
}
