package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class S3IndexTest {
    /** S3's order: UTF-8 bytes, unsigned (not String.compareTo, which differs above U+FFFF). */
    static final Comparator<String> BYTE_ORDER = (a, b) ->
            Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path tmp;

    static S3Model.ObjectEntry entry(String key, String cid, long size) {
        return new S3Model.ObjectEntry(key, List.of(new S3Model.Piece(cid, size)), size, "\"" + cid + "\"", 1_000 + size,
                Map.of("content-type", "text/plain"), Map.of("owner", "test"), Map.of("CRC32", "AAAAAA=="), false);
    }

    static S3Model.Upload upload(String id, String bucket, String key) {
        return new S3Model.Upload(id, bucket, key, 5_000, Map.of("content-type", "image/png"), Map.of("m", "1"), null);
    }

    static S3Model.Part part(int n, String cid) {
        return new S3Model.Part(n, new S3Model.Piece(cid, 5 << 20), "\"md5-" + cid + "\"", 7_000, Map.of());
    }

    // ---- buckets

    @Test
    void createBucket_existing_returnsFalseAndKeepsTheFirst() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            assertTrue(ix.createBucket("photos", 1, false));
            assertFalse(ix.createBucket("photos", 2, true));
            assertEquals(Optional.of(new S3Model.Bucket("photos", 1, false)), ix.bucket("photos"));
            assertEquals(Optional.empty(), ix.bucket("nope"));
            assertTrue(ix.createBucket("archive", 3, true));
            assertEquals(List.of("archive", "photos"), ix.buckets().stream().map(S3Model.Bucket::name).toList());
        }
    }

    @Test
    void setPublic_changesOnlyTheFlag() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 10, false);
            assertTrue(ix.setPublic("b", true));
            assertEquals(Optional.of(new S3Model.Bucket("b", 10, true)), ix.bucket("b"));
            assertFalse(ix.setPublic("missing", true));
        }
    }

    @Test
    void deleteBucket_withAnObjectOrAnUpload_isRefusedUntilEmpty() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            assertEquals(S3Index.DeleteBucket.NOT_FOUND, ix.deleteBucket("b"));
            ix.createBucket("b", 1, false);
            ix.createBucket("b2", 1, false); // a neighbour's objects do not count
            ix.put("b2", entry("x", "c0", 1));
            ix.put("b", entry("k", "c1", 1));
            assertEquals(S3Index.DeleteBucket.NOT_EMPTY, ix.deleteBucket("b"));
            ix.delete("b", "k");
            ix.createUpload(upload("u1", "b", "big"));
            assertEquals(S3Index.DeleteBucket.NOT_EMPTY, ix.deleteBucket("b"), "an upload in progress");
            ix.abortUpload("u1");
            assertEquals(S3Index.DeleteBucket.DELETED, ix.deleteBucket("b"));
            assertEquals(Optional.empty(), ix.bucket("b"));
            assertEquals(1, ix.objectCount("b2"));
        }
    }

    @Test
    void writesIntoAMissingBucket_areRefused() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ix.put("gone", entry("k", "c", 1)));
            assertTrue(e.getMessage().contains("gone"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> ix.createUpload(upload("u", "gone", "k")));
        }
    }

    // ---- objects

    @Test
    void put_replacesAtomically_andReturnsWhatItReplaced() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            assertEquals(Optional.empty(), ix.put("b", entry("a/1", "c1", 10)));
            assertEquals(Optional.of(entry("a/1", "c1", 10)), ix.put("b", entry("a/1", "c2", 20)));
            assertEquals(Optional.of(entry("a/1", "c2", 20)), ix.get("b", "a/1"));
            assertEquals(Optional.empty(), ix.get("b", "a/2"));
            assertEquals(Optional.of(entry("a/1", "c2", 20)), ix.delete("b", "a/1"));
            assertEquals(Optional.empty(), ix.delete("b", "a/1"));
            assertEquals(0, ix.objectCount("b"));
        }
    }

    @Test
    void anEntryWithManyPiecesAndNoChecksumAlgorithm_roundTrips() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            var e = new S3Model.ObjectEntry("multi", List.of(new S3Model.Piece("p1", 5), new S3Model.Piece("p2", 3)), 8,
                    "\"abc-2\"", 99, Map.of(), Map.of(), Map.of(), true);
            ix.put("b", e);
            assertEquals(Optional.of(e), ix.get("b", "multi"));
            ix.createUpload(upload("u", "b", "k"));
            assertEquals(Optional.of(upload("u", "b", "k")), ix.upload("u"));
        }
    }

    @Test
    void keys_longerThan1024Bytes_areRefused() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            ix.put("b", entry("é".repeat(512), "c", 1)); // 1024 bytes
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ix.put("b", entry("é".repeat(512) + "x", "c", 1)));
            assertTrue(e.getMessage().contains("1025"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ix.get("b", "\uD800")); // a lone surrogate
            assertThrows(IllegalArgumentException.class, () -> ix.createBucket("a\0b", 1, false));
        }
    }

    @Test
    void writes_surviveCloseAndReopen() throws IOException {
        Path dir = tmp.resolve("ix");
        try (S3Index ix = S3Index.open(dir)) {
            ix.createBucket("b", 1, true);
            ix.put("b", entry("k", "c1", 1));
            ix.createUpload(upload("u", "b", "m"));
            ix.putPart("u", part(1, "p1"));
        }
        try (S3Index ix = S3Index.open(dir)) {
            assertEquals(Optional.of(new S3Model.Bucket("b", 1, true)), ix.bucket("b"));
            assertEquals(Optional.of(entry("k", "c1", 1)), ix.get("b", "k"));
            assertEquals(List.of(part(1, "p1")), ix.allParts("u"));
            assertEquals(Map.of("buckets", 1L, "objects", 1L, "uploads", 1L, "parts", 1L), ix.stats());
        }
    }

    @Test
    void callsAfterClose_fail() throws IOException {
        S3Index ix = S3Index.open(tmp.resolve("ix"));
        ix.close();
        ix.close(); // twice is fine
        assertThrows(IllegalStateException.class, () -> ix.bucket("b"));
    }

    // ---- listing

    /** S3's listing over a sorted map: what {@link S3Index#list} must return. */
    static S3Model.Listing model(TreeMap<String, S3Model.ObjectEntry> objects, String prefix, String delimiter,
                                 String after, int maxKeys) {
        List<Object> items = new ArrayList<>(); // ObjectEntry or String (a common prefix)
        String lastPrefix = null;
        for (var e : objects.entrySet()) {
            String key = e.getKey();
            if ((after != null && BYTE_ORDER.compare(key, after) <= 0) || !key.startsWith(prefix)) {
                continue;
            }
            int d = delimiter == null ? -1 : key.indexOf(delimiter, prefix.length());
            if (d < 0) {
                items.add(e.getValue());
                continue;
            }
            String common = key.substring(0, d + delimiter.length());
            if (!common.equals(after) && !common.equals(lastPrefix)) {
                items.add(common);
                lastPrefix = common;
            }
        }
        if (maxKeys == 0) {
            return new S3Model.Listing(List.of(), List.of(), false, null);
        }
        List<Object> page = items.subList(0, Math.min(maxKeys, items.size()));
        List<S3Model.ObjectEntry> contents = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        String last = null;
        for (Object o : page) {
            if (o instanceof S3Model.ObjectEntry e) {
                contents.add(e);
                last = e.key();
            } else {
                prefixes.add((String) o);
                last = (String) o;
            }
        }
        return new S3Model.Listing(contents, prefixes, items.size() > maxKeys, last);
    }

    /** Characters chosen to disagree between UTF-16 and UTF-8 order (U+E000 vs U+1F600) and to include delimiters. */
    private static final String[] ALPHABET = {"a", "b", "c", "/", "/", "-", ".", "é", "中", "\uE000", "😀", "z"};

    static String randomKey(Random r) {
        StringBuilder s = new StringBuilder();
        int n = 1 + r.nextInt(8);
        for (int i = 0; i < n; i++) {
            s.append(ALPHABET[r.nextInt(ALPHABET.length)]);
        }
        return s.toString();
    }

    /** A bucket of ~2,000 random keys and the same as a model. */
    private static TreeMap<String, S3Model.ObjectEntry> fill(S3Index ix, String bucket, Random r) {
        TreeMap<String, S3Model.ObjectEntry> model = new TreeMap<>(BYTE_ORDER);
        List<S3Model.ObjectEntry> batch = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            var e = entry(randomKey(r), "cid" + i, i);
            model.put(e.key(), e);
            batch.add(e);
        }
        ix.createBucket(bucket, 1, false);
        ix.putAll(bucket, batch);
        return model;
    }

    @Test
    void list_matchesTheModel_forRandomQueries() throws IOException {
        Random r = new Random(20261207);
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("a", 1, false); // neighbours on both sides must never leak into the listing
            ix.put("a", entry("zzz", "n1", 1));
            TreeMap<String, S3Model.ObjectEntry> model = fill(ix, "b", r);
            ix.createBucket("c", 1, false);
            ix.put("c", entry("a", "n2", 1));
            assertEquals(model.size(), ix.objectCount("b"));
            List<String> keys = new ArrayList<>(model.keySet());
            String[] delimiters = {null, "/", "a", "é/", "😀"};
            int truncated = 0, rolledUp = 0, afterAPrefix = 0;
            for (int q = 0; q < 3_000; q++) {
                String delimiter = delimiters[r.nextInt(delimiters.length)];
                String prefix = switch (r.nextInt(4)) {
                    case 0 -> "";
                    case 1 -> { // a leading part of a key, cut between code points
                        String k = keys.get(r.nextInt(keys.size()));
                        yield k.substring(0, k.offsetByCodePoints(0, r.nextInt(k.codePointCount(0, k.length()) + 1)));
                    }
                    case 2 -> ALPHABET[r.nextInt(ALPHABET.length)];
                    default -> randomKey(r);
                };
                String after = switch (r.nextInt(5)) {
                    case 0 -> null;
                    case 1 -> keys.get(r.nextInt(keys.size()));
                    case 2 -> randomKey(r);
                    case 3 -> { // a common prefix returned before
                        var l = model(model, prefix, delimiter, null, 50);
                        yield l.commonPrefixes().isEmpty() ? null : l.commonPrefixes().get(r.nextInt(l.commonPrefixes().size()));
                    }
                    default -> prefix + randomKey(r);
                };
                int maxKeys = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(r.nextBoolean() ? 5 : 300);
                var want = model(model, prefix, delimiter, after, maxKeys);
                var got = ix.list("b", prefix, delimiter, after, maxKeys);
                assertEquals(want, got, "query " + q + ": prefix=" + prefix + " delimiter=" + delimiter + " after=" + after
                        + " maxKeys=" + maxKeys);
                truncated += got.truncated() ? 1 : 0;
                rolledUp += got.commonPrefixes().isEmpty() ? 0 : 1;
                afterAPrefix += after != null && delimiter != null && after.endsWith(delimiter) && !got.contents().isEmpty() ? 1 : 0;
            }
            // the queries reached the cases that matter, not only empty pages
            assertTrue(truncated > 300 && rolledUp > 300 && afterAPrefix > 50,
                    "truncated " + truncated + ", with common prefixes " + rolledUp + ", after a prefix " + afterAPrefix);
        }
    }

    @Test
    void list_followingNextMarker_givesEveryItemOnceInOrder() throws IOException {
        Random r = new Random(7);
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            TreeMap<String, S3Model.ObjectEntry> model = fill(ix, "b", r);
            for (String delimiter : new String[] {null, "/", "é"}) {
                for (String prefix : new String[] {"", "a", "/", "中", "a/"}) {
                    var whole = model(model, prefix, delimiter, null, Integer.MAX_VALUE);
                    for (int pageSize : new int[] {1, 2, 7, 100, 1000}) {
                        List<String> seen = new ArrayList<>();
                        List<S3Model.ObjectEntry> contents = new ArrayList<>();
                        List<String> prefixes = new ArrayList<>();
                        String after = null;
                        int pages = 0;
                        while (true) {
                            var page = ix.list("b", prefix, delimiter, after, pageSize);
                            assertTrue(page.contents().size() + page.commonPrefixes().size() <= pageSize);
                            contents.addAll(page.contents());
                            prefixes.addAll(page.commonPrefixes());
                            List<String> items = new ArrayList<>(page.commonPrefixes()); // a page's two lists, merged
                            page.contents().forEach(e -> items.add(e.key()));
                            items.sort(BYTE_ORDER);
                            seen.addAll(items);
                            if (page.truncated()) {
                                assertEquals(items.get(items.size() - 1), page.nextMarker());
                            }
                            assertTrue(++pages <= model.size() + 1, "pagination does not end");
                            if (!page.truncated()) {
                                break;
                            }
                            after = page.nextMarker();
                        }
                        String what = "prefix=" + prefix + " delimiter=" + delimiter + " pageSize=" + pageSize;
                        assertEquals(whole.contents(), contents, what);
                        assertEquals(whole.commonPrefixes(), prefixes, what);
                        assertEquals(seen.size(), new HashSet<>(seen).size(), "a duplicate: " + what);
                        List<String> sorted = new ArrayList<>(seen);
                        sorted.sort(BYTE_ORDER);
                        assertEquals(sorted, seen, "out of order: " + what);
                    }
                }
            }
        }
    }

    @Test
    void list_withADelimiterOver100000Keys_seeksPastEachCommonPrefix() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            for (int p = 0; p < 10; p++) {
                List<S3Model.ObjectEntry> batch = new ArrayList<>();
                for (int i = 0; i < 10_000; i++) {
                    batch.add(entry("p" + p + "/k" + i, "c", i));
                }
                ix.putAll("b", batch);
            }
            ix.put("b", entry("top", "c", 1));
            long before = ix.listSteps.get();
            var l = ix.list("b", "", "/", null, 1000);
            List<String> want = new ArrayList<>();
            for (int p = 0; p < 10; p++) {
                want.add("p" + p + "/");
            }
            assertEquals(want, l.commonPrefixes());
            assertEquals(List.of("top"), l.contents().stream().map(S3Model.ObjectEntry::key).toList());
            assertFalse(l.truncated());
            assertEquals(11, ix.listSteps.get() - before, "one step per common prefix and per key");

            before = ix.listSteps.get();
            var rest = ix.list("b", "", "/", "p4/", 3); // continuing after a common prefix skips its keys
            assertEquals(List.of("p5/", "p6/", "p7/"), rest.commonPrefixes());
            assertTrue(rest.truncated());
            assertEquals("p7/", rest.nextMarker());
            assertEquals(4, ix.listSteps.get() - before);
        }
    }

    @Test
    void list_maxKeysZero_isEmptyAndNotTruncated() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            ix.put("b", entry("k", "c", 1));
            assertEquals(new S3Model.Listing(List.of(), List.of(), false, null), ix.list("b", "", null, null, 0));
            assertEquals(new S3Model.Listing(List.of(), List.of(), false, null), ix.list("b", "zz", "/", "zzz", 10));
            var one = ix.list("b", "", null, null, 1);
            assertFalse(one.truncated());
            assertEquals("k", one.nextMarker());
        }
    }

    @Test
    void list_aMarkerInsideACommonPrefix_returnsThatPrefixAgain() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            for (String k : List.of("a/1", "a/2", "a/3", "b")) {
                ix.put("b", entry(k, "c", 1));
            }
            var l = ix.list("b", "", "/", "a/1", 10);
            assertEquals(List.of("a/"), l.commonPrefixes());
            assertEquals(List.of("b"), l.contents().stream().map(S3Model.ObjectEntry::key).toList());
            var skip = ix.list("b", "", "/", "a/", 10);
            assertEquals(List.of(), skip.commonPrefixes());
        }
    }

    // ---- multipart

    @Test
    void putPart_sameNumberAgain_returnsTheReplacedPart_andPartsPage() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            ix.createUpload(upload("u1", "b", "big"));
            assertThrows(IllegalStateException.class, () -> ix.createUpload(upload("u1", "b", "other")));
            for (int n : new int[] {3, 1, 10_000, 2, 256}) {
                assertEquals(Optional.empty(), ix.putPart("u1", part(n, "c" + n)));
            }
            assertEquals(Optional.of(part(2, "c2")), ix.putPart("u1", part(2, "again")));
            assertEquals(List.of(1, 2, 3, 256, 10_000), ix.allParts("u1").stream().map(S3Model.Part::number).toList());
            assertEquals(List.of(part(2, "again"), part(3, "c3")), ix.parts("u1", 1, 2));
            assertEquals(List.of(10_000), ix.parts("u1", 256, 100).stream().map(S3Model.Part::number).toList());
            assertEquals(List.of(), ix.parts("u1", 10_000, 100));
            assertEquals(List.of(), ix.parts("unknown", 0, 100));
            assertThrows(IllegalArgumentException.class, () -> ix.putPart("u1", part(10_001, "x")));
            assertThrows(IllegalStateException.class, () -> ix.putPart("unknown", part(1, "x")));
        }
    }

    @Test
    void uploads_listByKeyThenId_withMarkersAndPrefix() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            ix.createBucket("c", 1, false);
            ix.createUpload(upload("x9", "c", "a")); // another bucket's
            for (String[] u : new String[][] {{"u3", "b/2"}, {"u1", "a"}, {"u2", "a"}, {"u0", "b/1"}, {"u4", "c"}}) {
                ix.createUpload(upload(u[0], "b", u[1]));
            }
            assertEquals(List.of("u1", "u2", "u0", "u3", "u4"), ids(ix.uploads("b", "", null, null, 100)));
            assertEquals(List.of("u0", "u3"), ids(ix.uploads("b", "b/", null, null, 100)));
            assertEquals(List.of("u0", "u3", "u4"), ids(ix.uploads("b", "", "a", null, 100)));
            assertEquals(List.of("u2", "u0"), ids(ix.uploads("b", "", "a", "u1", 2)));
            assertEquals(List.of("u3"), ids(ix.uploads("b", "b/", "b/1", "", 10)));
            assertEquals(List.of("x9"), ids(ix.uploads("c", null, null, null, 10)));
        }
    }

    private static List<String> ids(List<S3Model.Upload> uploads) {
        return uploads.stream().map(S3Model.Upload::uploadId).toList();
    }

    @Test
    void abortUpload_removesItAndReturnsItsParts() throws IOException {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            ix.createUpload(upload("u1", "b", "big"));
            ix.createUpload(upload("u2", "b", "big"));
            ix.putPart("u1", part(1, "p1"));
            ix.putPart("u1", part(2, "p2"));
            ix.putPart("u2", part(1, "q1"));
            assertEquals(List.of(part(1, "p1"), part(2, "p2")), ix.abortUpload("u1"));
            assertEquals(Optional.empty(), ix.upload("u1"));
            assertEquals(List.of(), ix.allParts("u1"));
            assertEquals(List.of("u2"), ids(ix.uploads("b", "", null, null, 10)));
            assertEquals(List.of(part(1, "q1")), ix.allParts("u2"), "another upload's parts stay");
            assertEquals(List.of(), ix.abortUpload("u1"), "unknown: nothing");
        }
    }

    @Test
    void completeUpload_removesUploadAndParts_andStoresTheEntryInOneWrite() throws IOException {
        Path dir = tmp.resolve("ix");
        var old = entry("big", "old", 1);
        var joined = new S3Model.ObjectEntry("big", List.of(new S3Model.Piece("p1", 5 << 20), new S3Model.Piece("p2", 5 << 20)),
                10 << 20, "\"abc-2\"", 9_000, Map.of("content-type", "image/png"), Map.of("m", "1"), Map.of(), false);
        try (S3Index ix = S3Index.open(dir)) {
            ix.createBucket("b", 1, false);
            ix.put("b", old);
            ix.createUpload(upload("u1", "b", "big"));
            ix.putPart("u1", part(1, "p1"));
            ix.putPart("u1", part(2, "p2"));
            ix.putPart("u1", part(3, "unused"));
            assertThrows(IllegalArgumentException.class, () -> ix.completeUpload("u1", entry("other", "x", 1)));
            assertEquals(3, ix.allParts("u1").size(), "a refused completion changes nothing");
            assertEquals(Optional.of(old), ix.completeUpload("u1", joined));
            assertThrows(IllegalStateException.class, () -> ix.completeUpload("u1", joined));
        }
        try (S3Index ix = S3Index.open(dir)) {
            assertEquals(Optional.empty(), ix.upload("u1"));
            assertEquals(List.of(), ix.allParts("u1"));
            assertEquals(List.of(), ix.uploads("b", "", null, null, 10));
            assertEquals(Optional.of(joined), ix.get("b", "big"));
            assertEquals(Map.of("buckets", 1L, "objects", 1L, "uploads", 0L, "parts", 0L), ix.stats());
            assertEquals(S3Index.DeleteBucket.NOT_EMPTY, ix.deleteBucket("b"));
        }
    }

    // ---- dump

    private static byte[] dump(S3Index ix) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ix.exportTo(out);
        return out.toByteArray();
    }

    @Test
    void exportThenImport_givesTheSameIndex() throws IOException {
        Random r = new Random(99);
        byte[] bytes;
        List<S3Model.Listing> listings = new ArrayList<>();
        try (S3Index ix = S3Index.open(tmp.resolve("a"))) {
            fill(ix, "b", r);
            ix.createBucket("pub", 2, true);
            ix.createUpload(upload("u1", "b", "big"));
            ix.putPart("u1", part(1, "p1"));
            for (String d : new String[] {null, "/"}) {
                listings.add(ix.list("b", "", d, null, 5_000));
                listings.add(ix.list("b", "a", d, "a/", 17));
            }
            bytes = dump(ix);
        }
        assertArrayEquals(S3Index.DUMP_MAGIC, Arrays.copyOf(bytes, S3Index.DUMP_MAGIC.length));
        Path copy = tmp.resolve("b");
        S3Index.importFrom(new ByteArrayInputStream(bytes), copy);
        try (S3Index ix = S3Index.open(copy)) {
            List<S3Model.Listing> again = new ArrayList<>();
            for (String d : new String[] {null, "/"}) {
                again.add(ix.list("b", "", d, null, 5_000));
                again.add(ix.list("b", "a", d, "a/", 17));
            }
            assertEquals(listings, again);
            assertEquals(List.of(new S3Model.Bucket("b", 1, false), new S3Model.Bucket("pub", 2, true)), ix.buckets());
            assertEquals(List.of(part(1, "p1")), ix.allParts("u1"));
            assertEquals(Optional.of(upload("u1", "b", "big")), ix.upload("u1"));
            assertArrayEquals(bytes, dump(ix), "a dump of the copy is the same dump");
        }
    }

    @Test
    void importFrom_aTruncatedOrForeignDump_isRefusedAndLeavesNothing() throws IOException {
        byte[] bytes;
        try (S3Index ix = S3Index.open(tmp.resolve("a"))) {
            ix.createBucket("b", 1, false);
            ix.put("b", entry("k1", "c1", 1));
            ix.put("b", entry("k2", "c2", 2));
            bytes = dump(ix);
        }
        // cut inside the magic, after it, inside a record, between records (at the end marker), before the count
        for (int cut : new int[] {5, S3Index.DUMP_MAGIC.length, S3Index.DUMP_MAGIC.length + 3, bytes.length - 2, bytes.length - 1}) {
            Path dir = tmp.resolve("cut" + cut);
            IOException e = assertThrows(IOException.class,
                    () -> S3Index.importFrom(new ByteArrayInputStream(Arrays.copyOf(bytes, cut)), dir));
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("not an S3 index dump"),
                    cut + ": " + e.getMessage());
            assertTrue(isEmpty(dir), "nothing left after a refused import (cut " + cut + ")");
        }
        byte[] foreign = bytes.clone();
        foreign[3] = 'X';
        IOException e = assertThrows(IOException.class,
                () -> S3Index.importFrom(new ByteArrayInputStream(foreign), tmp.resolve("foreign")));
        assertTrue(e.getMessage().contains("not an S3 index dump"), e.getMessage());

        Path full = tmp.resolve("full");
        Files.createDirectories(full);
        Files.writeString(full.resolve("x"), "x");
        e = assertThrows(IOException.class, () -> S3Index.importFrom(new ByteArrayInputStream(bytes), full));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
    }

    @Test
    void importFrom_aDumpWithAnUnknownRecord_isRefused() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(S3Index.DUMP_MAGIC);
        out.write(new byte[] {3, 'x', '/', 'k', 1, 0, 0, 1});
        IOException e = assertThrows(IOException.class,
                () -> S3Index.importFrom(new ByteArrayInputStream(out.toByteArray()), tmp.resolve("ix")));
        assertTrue(e.getMessage().contains("no known kind"), e.getMessage());
        assertTrue(isEmpty(tmp.resolve("ix")));
    }

    private static boolean isEmpty(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return true;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    @Test
    void concurrentPutsOfOneKey_eachReplaceExactlyOneOther() throws Exception {
        try (S3Index ix = S3Index.open(tmp.resolve("ix"))) {
            ix.createBucket("b", 1, false);
            List<Thread> threads = new ArrayList<>();
            Set<String> replaced = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (int t = 0; t < 8; t++) {
                int id = t;
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 20; i++) {
                        ix.put("b", entry("k", "c" + id + "-" + i, 1)).ifPresent(e -> replaced.add(e.pieces().get(0).cid()));
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            String last = ix.get("b", "k").orElseThrow().pieces().get(0).cid();
            assertEquals(159, replaced.size(), "every put but the last was replaced once");
            assertFalse(replaced.contains(last));
            assertNull(ix.list("b", "", null, "k", 10).nextMarker());
        }
    }
}
