package io.oecloud.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UvarintTest {
    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h);
    }

    private static byte[] encode(long v) {
        byte[] b = new byte[Uvarint.size(v)];
        assertEquals(b.length, Uvarint.write(b, 0, v));
        return b;
    }

    private static WireException rejects(WireException.Kind kind, byte[] b, boolean minimal, String fragment) {
        int[] pos = {0};
        WireException e = assertThrows(WireException.class, () -> {
            if (minimal) {
                Uvarint.readMinimal(b, pos);
            } else {
                Uvarint.read(b, pos);
            }
        });
        assertEquals(kind, e.kind());
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should mention '" + fragment + "'");
        assertEquals(0, pos[0], "a failed read leaves the position alone");
        return e;
    }

    @Test
    void write_knownValues_matchTheMultiformatsSpec() {
        // the spec's examples, and the manifest codec 0x306f65 as CIDs carry it
        assertArrayEquals(hex("00"), encode(0));
        assertArrayEquals(hex("01"), encode(1));
        assertArrayEquals(hex("7f"), encode(127));
        assertArrayEquals(hex("8001"), encode(128));
        assertArrayEquals(hex("ff01"), encode(255));
        assertArrayEquals(hex("ac02"), encode(300));
        assertArrayEquals(hex("808001"), encode(16384));
        assertArrayEquals(hex("e5dec101"), encode(0x306f65));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 127, 128, 16383, 16384, (1L << 21) - 1, 1L << 21, Integer.MAX_VALUE, 1L << 32, (1L << 56) - 1, 1L << 56, Long.MAX_VALUE})
    void readMinimal_whatWriteWrote_roundTrips(long v) {
        byte[] b = encode(v);
        assertEquals(b.length, Uvarint.size(v));
        assertTrue(b.length <= Uvarint.MAX_BYTES);
        int[] pos = {0};
        assertEquals(v, Uvarint.readMinimal(b, pos));
        assertEquals(b.length, pos[0]);
    }

    @Test
    void size_negativeValues_areTenBytesUnsigned() {
        assertEquals(10, Uvarint.size(-1));
        assertEquals(10, encode(Long.MIN_VALUE).length);
    }

    @Test
    void read_atAnOffset_advancesPastEachVarint() {
        byte[] b = hex("01" + "ac02" + "e5dec101" + "ff");
        int[] pos = {0};
        assertEquals(1, Uvarint.read(b, pos));
        assertEquals(300, Uvarint.read(b, pos));
        assertEquals(0x306f65, Uvarint.readMinimal(b, pos));
        assertEquals(7, pos[0]);
    }

    @Test
    void read_truncated_namesTheByte() {
        rejects(WireException.Kind.VARINT_TRUNCATED, hex(""), false, "truncated at byte 0");
        rejects(WireException.Kind.VARINT_TRUNCATED, hex("8080"), true, "truncated at byte 2");
    }

    @Test
    void read_longerThanNineBytes_isRefusedAfterNine() {
        rejects(WireException.Kind.VARINT_TOO_LONG, hex("ffffffffffffffffff01"), false, "longer than 9 bytes");
        rejects(WireException.Kind.VARINT_TOO_LONG, hex("ffffffffffffffffff"), true, "longer than 9 bytes");
    }

    @Test
    void nonMinimalForms_readMinimalRefuses_readAccepts() {
        rejects(WireException.Kind.VARINT_NOT_MINIMAL, hex("8100"), true, "not minimally encoded");
        int[] pos = {0};
        assertEquals(1, Uvarint.read(hex("8100"), pos));
        assertEquals(2, pos[0]);
        pos[0] = 0;
        assertEquals(0, Uvarint.readMinimal(hex("00"), pos), "a single zero byte is minimal");
    }

    @Test
    void wireException_isAnIllegalArgumentException_forParsersThatRefuseAnyBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Uvarint.read(new byte[0], new int[1]));
        assertTrue(e instanceof WireException);
    }

    @Test
    void randomBytes_eitherParseOrFailTyped() {
        Random rnd = new Random(23);
        for (int i = 0; i < 10_000; i++) {
            byte[] b = new byte[rnd.nextInt(12)];
            rnd.nextBytes(b);
            int[] pos = {0};
            try {
                long v = Uvarint.readMinimal(b, pos);
                assertEquals(Uvarint.size(v), pos[0], "a minimal varint re-encodes to the bytes read");
            } catch (WireException expected) {
                assertEquals(0, pos[0]);
            }
        }
    }
}
