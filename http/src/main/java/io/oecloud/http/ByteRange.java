package io.oecloud.http;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code Range} header (RFC 9110, section 14) against an object of {@code size} bytes: one range
 * is served (206), a header in another unit is ignored (200, as the RFC says a server must), and
 * everything else is unsatisfiable (416, with words saying why): several ranges, a malformed one,
 * one that starts past the end. Numbers are decimal digits of any length: past 18 digits they
 * count as "more than any object" (an end is clamped to the object, a start is past it), so no
 * header can overflow a {@code long}. The node's API serves one range; {@link RangeSet} reads
 * several, for fronts that answer them as multipart/byteranges (the CDN edge).
 */
public sealed interface ByteRange {
    /** Serve bytes {@code from} (inclusive) to {@code to} (exclusive). */
    record Slice(long from, long to) implements ByteRange {
        public Slice {
            if (from < 0 || to <= from) {
                throw new IllegalArgumentException("a slice is from <= to, was " + from + "-" + to);
            }
        }

        /** The {@code Content-Range} of a 206 that answers this slice of {@code size} bytes. */
        public String contentRange(long size) {
            return "bytes " + from + "-" + (to - 1) + "/" + size;
        }
    }

    /** Serve the whole object, as if there were no Range header. */
    record Whole() implements ByteRange {}

    /** Answer 416 with {@code reason} (and {@link #unsatisfied}'s {@code Content-Range}). */
    record Unsatisfiable(String reason) implements ByteRange {}

    /** The {@code Content-Range} of a 416 for a representation of {@code size} bytes (RFC 9110, 14.4). */
    static String unsatisfied(long size) {
        return "bytes */" + size;
    }

    /** Digits beyond this many may not fit a long: they mean "beyond any object". */
    int MAX_DIGITS = 18;

    /** The range {@code header} (null when absent) asks of {@code size} bytes. */
    static ByteRange parse(String header, long size) {
        if (header == null) {
            return new Whole();
        }
        String h = header.strip();
        String shown = h.length() > 80 ? h.substring(0, 80) + "..." : h;
        int eq = h.indexOf('=');
        if (eq < 0) {
            return new Unsatisfiable("range '" + shown + "' is malformed: use bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX");
        }
        if (!h.substring(0, eq).strip().equalsIgnoreCase("bytes")) {
            return new Whole();
        }
        List<String> specs = new ArrayList<>();
        for (String s : h.substring(eq + 1).split(",", -1)) {
            if (!s.isBlank()) {
                specs.add(s.strip());
            }
        }
        if (specs.size() != 1) {
            return new Unsatisfiable(specs.isEmpty() ? "range '" + shown + "' names no bytes"
                    : "range '" + shown + "' asks for " + specs.size() + " ranges; this API serves one range per request");
        }
        String spec = specs.get(0);
        int dash = spec.indexOf('-');
        String first = dash < 0 ? spec : spec.substring(0, dash).strip();
        String last = dash < 0 ? "" : spec.substring(dash + 1).strip();
        if (dash < 0 || !RangeNumbers.digits(first) || !RangeNumbers.digits(last) || first.isEmpty() && last.isEmpty()) {
            return new Unsatisfiable("range '" + shown + "' is malformed: use bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX");
        }
        if (first.isEmpty()) { // the last N bytes
            long n = RangeNumbers.number(last);
            if (n == 0 || size == 0) {
                return new Unsatisfiable("range '" + shown + "' asks for no bytes of an object of " + size);
            }
            return new Slice(Math.max(0, size - n), size);
        }
        long from = RangeNumbers.number(first);
        if (!last.isEmpty() && RangeNumbers.number(last) < from) {
            return new Unsatisfiable("range '" + shown + "' ends before it starts");
        }
        if (from >= size) {
            return new Unsatisfiable("range '" + shown + "' starts past the end of the object's " + size + " bytes");
        }
        long to = last.isEmpty() || RangeNumbers.number(last) >= size - 1 ? size : RangeNumbers.number(last) + 1;
        return new Slice(from, to);
    }
}
