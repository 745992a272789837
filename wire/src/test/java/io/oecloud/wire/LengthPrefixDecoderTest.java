package io.oecloud.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** In memory, as Netty tests its LengthFieldBasedFrameDecoder: bytes in, frames (or typed failures) out. */
class LengthPrefixDecoderTest {
    private static ByteBuf hex(String h) {
        return Unpooled.wrappedBuffer(HexFormat.of().parseHex(h));
    }

    private static byte[] readFrame(EmbeddedChannel ch) {
        ByteBuf f = ch.readInbound();
        if (f == null) {
            return null;
        }
        byte[] b = ByteBufUtil.getBytes(f);
        f.release(); // a retained slice: its reference is the reader's to drop
        return b;
    }

    @Test
    void framesSplitAnywhere_comeOutWhole_withoutTheirPrefix() {
        EmbeddedChannel ch = new EmbeddedChannel(new LengthPrefixDecoder("TEST", 5, 1000));
        ByteBuf all = hex("03616263" + "00" + "8001" + "ab".repeat(128));
        ByteBuf[] pieces = new ByteBuf[all.readableBytes()];
        for (int i = 0; i < pieces.length; i++) { // one byte at a time: every split point
            pieces[i] = all.retainedSlice(i, 1);
        }
        all.release();
        for (ByteBuf p : pieces) {
            ch.writeInbound(p);
        }
        assertArrayEquals("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII), readFrame(ch));
        assertArrayEquals(new byte[0], readFrame(ch));
        assertEquals(128, readFrame(ch).length);
        assertNull(readFrame(ch));
        assertFalse(ch.finish());
    }

    @Test
    void severalFramesInOneRead_areEachPassedOn() {
        EmbeddedChannel ch = new EmbeddedChannel(new LengthPrefixDecoder("TEST", 5, 1000));
        ByteBuf in = hex("0101" + "020202" + "03030303");
        ch.writeInbound(in);
        assertEquals(3, in.refCnt(), "the three frames are retained slices of the input: one reference each");
        assertArrayEquals(new byte[] {1}, readFrame(ch));
        assertArrayEquals(new byte[] {2, 2}, readFrame(ch));
        assertArrayEquals(new byte[] {3, 3, 3}, readFrame(ch));
        assertFalse(ch.finish());
        assertEquals(0, in.refCnt(), "the input is released once its frames are taken");
    }

    @Test
    void anOversizedLength_failsFromThePrefix_beforeTheFrameArrives() {
        EmbeddedChannel ch = new EmbeddedChannel(new LengthPrefixDecoder("ABCI", 5, 1 << 20));
        ByteBuf prefix = hex("8080808004"); // 1 GiB announced
        TooLongFrameException e = assertThrows(TooLongFrameException.class, () -> ch.writeInbound(prefix));
        assertTrue(e.getMessage().startsWith("ABCI frame of 1073741824 bytes exceeds the limit of 1048576"), e.getMessage());
        assertInstanceOf(WireException.class, e.getCause());
        assertNull(ch.readInbound());
        // what follows (the announced body, say) is dropped, never taken for frames
        ByteBuf more = hex("0101" + "0101");
        ch.writeInbound(more);
        assertNull(ch.readInbound());
        assertEquals(0, more.refCnt());
        assertFalse(ch.finish(), "nothing is decoded again as the channel closes");
    }

    @Test
    void aPrefixLongerThanAllowed_isACorruptFrame() {
        EmbeddedChannel ch = new EmbeddedChannel(new LengthPrefixDecoder("ABCI", 5, Integer.MAX_VALUE));
        CorruptedFrameException e = assertThrows(CorruptedFrameException.class, () -> ch.writeInbound(hex("8080808080")));
        assertTrue(e.getMessage().contains("ABCI length varint is longer than 5 bytes"), e.getMessage());
        assertFalse(ch.finish());
    }

    @Test
    void constructor_badLimits_nameTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LengthPrefixDecoder("T", 10, 1))
                .getMessage().contains("was 10"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LengthPrefixDecoder("T", 5, -1))
                .getMessage().contains("was -1"));
    }
}
