package io.oecloud.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ByteRangeTest {
    private static ByteRange.Slice slice(String header, long size) {
        return assertInstanceOf(ByteRange.Slice.class, ByteRange.parse(header, size), header);
    }

    private static String unsatisfiable(String header, long size) {
        return assertInstanceOf(ByteRange.Unsatisfiable.class, ByteRange.parse(header, size), header).reason();
    }

    @Test
    void parse_firstLast_isInclusiveAndClampedToTheEnd() {
        assertEquals(new ByteRange.Slice(0, 10), slice("bytes=0-9", 100));
        assertEquals(new ByteRange.Slice(90, 100), slice("bytes=90-1000", 100));
        assertEquals(new ByteRange.Slice(5, 6), slice(" bytes = 5-5 ", 100));
        assertEquals("bytes 0-9/100", slice("bytes=0-9", 100).contentRange(100));
    }

    @Test
    void parse_openEndedAndSuffix() {
        assertEquals(new ByteRange.Slice(40, 100), slice("bytes=40-", 100));
        assertEquals(new ByteRange.Slice(70, 100), slice("bytes=-30", 100));
        assertEquals(new ByteRange.Slice(0, 100), slice("bytes=-1000", 100), "a suffix longer than the object is all of it");
    }

    @Test
    void parse_noHeaderOrOtherUnit_isWhole() {
        assertInstanceOf(ByteRange.Whole.class, ByteRange.parse(null, 100));
        assertInstanceOf(ByteRange.Whole.class, ByteRange.parse("items=0-5", 100), "RFC 9110: an unknown unit is ignored");
    }

    @Test
    void parse_unsatisfiable_saysWhy() {
        assertTrue(unsatisfiable("bytes=100-", 100).contains("starts past the end of the object's 100 bytes"));
        assertTrue(unsatisfiable("bytes=5-2", 100).contains("ends before it starts"));
        assertTrue(unsatisfiable("bytes=0-1,5-6", 100).contains("asks for 2 ranges"));
        assertTrue(unsatisfiable("bytes=-0", 100).contains("asks for no bytes"));
        assertTrue(unsatisfiable("bytes=-5", 0).contains("asks for no bytes of an object of 0"));
        assertTrue(unsatisfiable("bytes=", 100).contains("names no bytes"));
        for (String bad : new String[] {"bytes", "bytes=a-b", "bytes=-", "bytes=1", "bytes=0x1-2", "bytes=+1-2"}) {
            assertTrue(unsatisfiable(bad, 100).contains("is malformed"), bad);
        }
        assertEquals("bytes */100", ByteRange.unsatisfied(100));
    }

    @Test
    void parse_hugeNumbers_neverOverflow() {
        assertEquals(new ByteRange.Slice(0, 100), slice("bytes=0-99999999999999999999999999", 100));
        assertTrue(unsatisfiable("bytes=99999999999999999999999999-", 100).contains("starts past the end"));
        assertEquals(new ByteRange.Slice(0, 100), slice("bytes=-99999999999999999999999999", 100));
        assertEquals(new ByteRange.Slice(1, 2), slice("bytes=000000000000000000000000001-0000000000000000000000001", 100));
        String longHeader = "bytes=" + "1".repeat(200);
        assertTrue(unsatisfiable(longHeader, 100).length() < 200, "the header is shortened in the words");
    }

    @Test
    void slice_isValidated() {
        assertThrows(IllegalArgumentException.class, () -> new ByteRange.Slice(5, 5));
        assertThrows(IllegalArgumentException.class, () -> new ByteRange.Slice(-1, 5));
    }
}
