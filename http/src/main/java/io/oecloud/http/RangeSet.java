package io.oecloud.http;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A {@code Range} header (RFC 9110, 14.2) against a representation of {@code size} bytes, with
 * several ranges allowed (answered as {@code multipart/byteranges}). Guarded as the RFC advises
 * against ranges as an amplifier: at most {@value #MAX_SPECS} ranges are read, overlapping or
 * adjacent ones are merged (so no byte is sent twice), and digits past 18 mean "beyond any
 * object", so no header overflows a long. A header in another unit is ignored (the whole body);
 * everything else that cannot be served is {@link Unsatisfiable} (416) with a reason.
 */
public sealed interface RangeSet {
    /** Ranges a request may ask for in one header. */
    int MAX_SPECS = 16;

    /** The whole representation (no Range header, another unit). */
    record Whole() implements RangeSet {}

    /** Sorted, disjoint, non-adjacent spans {@code [from, to)}; one span is a plain 206. */
    record Spans(List<long[]> spans) implements RangeSet {
        public long bytes() {
            return spans.stream().mapToLong(s -> s[1] - s[0]).sum();
        }
    }

    /** Not servable: 416 with this reason. */
    record Unsatisfiable(String reason) implements RangeSet {}

    /** The ranges {@code header} (null when absent) asks of {@code size} bytes. */
    static RangeSet parse(String header, long size) {
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
        String[] specs = h.substring(eq + 1).split(",", MAX_SPECS + 2);
        if (specs.length > MAX_SPECS) {
            return new Unsatisfiable("range '" + shown + "' asks for more than " + MAX_SPECS + " ranges");
        }
        List<long[]> spans = new ArrayList<>();
        for (String raw : specs) {
            String spec = raw.strip();
            if (spec.isEmpty()) {
                continue;
            }
            int dash = spec.indexOf('-');
            String first = dash < 0 ? spec : spec.substring(0, dash).strip();
            String last = dash < 0 ? "" : spec.substring(dash + 1).strip();
            if (dash < 0 || !RangeNumbers.digits(first) || !RangeNumbers.digits(last) || first.isEmpty() && last.isEmpty()) {
                return new Unsatisfiable("range '" + shown + "' is malformed: use bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX");
            }
            if (first.isEmpty()) {
                long n = RangeNumbers.number(last);
                if (n > 0 && size > 0) {
                    spans.add(new long[] {Math.max(0, size - n), size});
                }
                continue;
            }
            long from = RangeNumbers.number(first);
            if (!last.isEmpty() && RangeNumbers.number(last) < from) {
                return new Unsatisfiable("range '" + shown + "' has a range that ends before it starts");
            }
            if (from < size) { // ranges past the end are skipped; all of them past it is a 416
                spans.add(new long[] {from, last.isEmpty() || RangeNumbers.number(last) >= size - 1 ? size : RangeNumbers.number(last) + 1});
            }
        }
        if (spans.isEmpty()) {
            return new Unsatisfiable("range '" + shown + "' names no bytes of the " + size + " there are");
        }
        spans.sort(Comparator.comparingLong(s -> s[0]));
        List<long[]> merged = new ArrayList<>();
        for (long[] s : spans) {
            long[] prev = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (prev != null && s[0] <= prev[1]) {
                prev[1] = Math.max(prev[1], s[1]);
            } else {
                merged.add(s);
            }
        }
        return new Spans(List.copyOf(merged));
    }
}
