package io.oecloud.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LengthPrefixTest {
    private static ByteBuf hex(String h) {
        return Unpooled.wrappedBuffer(HexFormat.of().parseHex(h));
    }

    @Test
    void writeUvarint_writesWhatUvarintWritesToArrays() {
        Random rnd = new Random(5);
        for (int i = 0; i < 1000; i++) {
            long v = rnd.nextLong() >>> rnd.nextInt(64);
            ByteBuf b = Unpooled.buffer();
            LengthPrefix.writeUvarint(b, v);
            byte[] a = new byte[Uvarint.size(v)];
            Uvarint.write(a, 0, v);
            assertArrayEquals(a, ByteBufUtil.getBytes(b));
        }
    }

    @Test
    void readUvarint_incomplete_leavesTheBufferAlone_thenReadsItWhole() {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0xac);
        assertEquals(LengthPrefix.INCOMPLETE, LengthPrefix.readUvarint(b, 5));
        assertEquals(0, b.readerIndex());
        b.writeByte(0x02).writeByte(0x07);
        assertEquals(300, LengthPrefix.readUvarint(b, 5));
        assertEquals(2, b.readerIndex(), "moved past the varint only");
        assertEquals(7, LengthPrefix.readUvarint(b, 5));
    }

    @Test
    void readUvarint_longerThanAllowed_isRefusedAsSoonAsTheLimitIsReached() {
        // five continuation bytes: a 5-byte reader refuses without waiting for a sixth
        WireException e = assertThrows(WireException.class, () -> LengthPrefix.readUvarint(hex("8080808080"), 5));
        assertEquals(WireException.Kind.VARINT_TOO_LONG, e.kind());
        assertTrue(e.getMessage().contains("longer than 5 bytes"), e.getMessage());
        // the same bytes are an incomplete varint to a 9-byte reader
        assertEquals(LengthPrefix.INCOMPLETE, LengthPrefix.readUvarint(hex("8080808080"), 9));
        assertEquals(1L << 35, LengthPrefix.readUvarint(hex("808080808001"), 9));
        assertThrows(IllegalArgumentException.class, () -> LengthPrefix.readUvarint(hex("00"), 10));
        assertThrows(IllegalArgumentException.class, () -> LengthPrefix.readUvarint(hex("00"), 0));
    }

    @Test
    void frameLength_wholeFrame_returnsItsLength_withTheReaderAtItsFirstByte() {
        ByteBuf b = hex("03616263" + "00" + "01");
        assertEquals(3, LengthPrefix.frameLength(b, 5, 3));
        assertEquals(1, b.readerIndex());
        b.skipBytes(3);
        assertEquals(0, LengthPrefix.frameLength(b, 5, 3), "an empty frame is a frame");
        assertEquals(LengthPrefix.INCOMPLETE, LengthPrefix.frameLength(b, 5, 3));
        assertEquals(5, b.readerIndex(), "an incomplete frame leaves its prefix unread");
    }

    @Test
    void frameLength_overTheLimit_isRefusedFromThePrefixAlone() {
        ByteBuf b = Unpooled.buffer();
        LengthPrefix.writeUvarint(b, 1L << 30); // 1 GiB announced, nothing of it sent
        WireException e = assertThrows(WireException.class, () -> LengthPrefix.frameLength(b, 5, 1024));
        assertEquals(WireException.Kind.FRAME_TOO_LONG, e.kind());
        assertTrue(e.getMessage().contains((1L << 30) + " bytes") && e.getMessage().contains("limit of 1024"), e.getMessage());
        assertEquals(0, b.readerIndex());
        // exactly at the limit is fine
        ByteBuf at = LengthPrefix.encode(UnpooledByteBufAllocator.DEFAULT, new byte[1024]);
        assertEquals(1024, LengthPrefix.frameLength(at, 5, 1024));
        at.release();
    }

    @Test
    void encode_prefixesTheMessage_inABufferTheCallerOwns() {
        ByteBuf b = LengthPrefix.encode(UnpooledByteBufAllocator.DEFAULT, new byte[200]);
        assertEquals(202, b.readableBytes());
        assertEquals(200, LengthPrefix.frameLength(b, 2, 200));
        assertEquals(1, b.refCnt());
        assertTrue(b.release());
    }

    @Test
    void fedInRandomPieces_framesComeOutWhole_andInOrder() {
        Random rnd = new Random(11);
        ByteBuf stream = Unpooled.buffer();
        byte[][] sent = new byte[300][];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = new byte[rnd.nextInt(i % 10 == 0 ? 20_000 : 200)];
            rnd.nextBytes(sent[i]);
            LengthPrefix.writeUvarint(stream, sent[i].length);
            stream.writeBytes(sent[i]);
        }
        ByteBuf cumulation = Unpooled.buffer();
        int got = 0;
        while (stream.isReadable()) {
            cumulation.writeBytes(stream, Math.min(stream.readableBytes(), 1 + rnd.nextInt(700)));
            for (int n; (n = LengthPrefix.frameLength(cumulation, 3, 20_000)) != LengthPrefix.INCOMPLETE; ) {
                byte[] m = new byte[n];
                cumulation.readBytes(m);
                assertArrayEquals(sent[got++], m);
            }
            cumulation.discardReadBytes();
        }
        assertEquals(sent.length, got);
        assertEquals(0, cumulation.readableBytes());
    }
}
