package io.oecloud.proofs.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** {@link EntriesProof}: against NodeRoot's single paths and an independent sibling set, tampering, the canonical form, fuzzing. */
class EntriesProofTest {
    private static List<NodeEntry> entries;

    @BeforeAll
    static void build() {
        entries = Reference.entries(1100, 11);
    }

    private static StorageProofException.Kind kindOf(Executable e) {
        return assertThrows(StorageProofException.class, e).kind();
    }

    /**
     * The siblings a multiproof of {@code idx} must carry, computed apart from the walk: every
     * sibling of every path (from the single InclusionProofs, keyed by level and position), less
     * the nodes lying on some proven path; ordered by level, then position.
     */
    private static byte[] expectedSiblings(NodeRoot tree, long[] idx) {
        long n = tree.count();
        Map<Long, Map<Long, byte[]>> sib = new TreeMap<>();
        Map<Long, java.util.Set<Long>> onPath = new HashMap<>();
        for (long index : idx) {
            InclusionProof p = tree.prove(index);
            int k = 0;
            long i = index;
            long level = 0;
            for (long width = n; width > 1; width = (width + 1) / 2, i >>>= 1, level++) {
                onPath.computeIfAbsent(level, x -> new java.util.HashSet<>()).add(i);
                if ((i ^ 1) < width) {
                    sib.computeIfAbsent(level, x -> new TreeMap<>()).put(i ^ 1, p.sibling(k++));
                }
            }
            assertEquals(p.siblingCount(), k);
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (var lv : sib.entrySet()) {
            for (var e : lv.getValue().entrySet()) {
                if (!onPath.get(lv.getKey()).contains(e.getKey())) {
                    out.writeBytes(e.getValue());
                }
            }
        }
        return out.toByteArray();
    }

    private static void checkAgainstReference(NodeRoot tree, long[] challenged) {
        byte[] root = tree.root();
        long[] idx = EntriesProof.distinctSorted(challenged);
        EntriesProof p = tree.proveEntries(challenged);
        String what = "count " + tree.count() + " indices " + Arrays.toString(idx);
        assertArrayEquals(idx, p.indices(), what);
        assertArrayEquals(expectedSiblings(tree, idx), p.siblings(), what);
        assertEquals(p.siblingCount(), EntriesProof.siblingCount(idx, tree.count()), what);
        for (int a = 0; a < idx.length; a++) {
            assertEquals(tree.entries().get((int) idx[a]), p.entries().get(a));
            assertEquals(tree.entries().get((int) idx[a]), p.entry(idx[a]));
        }
        p.verify(root, tree.count(), challenged);
        byte[] enc = p.encode();
        EntriesProof back = EntriesProof.decode(enc, enc.length, idx.length);
        assertEquals(p, back, what);
        assertArrayEquals(enc, back.encode());
        back.verify(root, tree.count(), idx);
        if (idx.length == 1) { // one index: exactly the inclusion proof's path
            assertArrayEquals(tree.prove(idx[0]).siblings(), p.siblings(), what);
        }
    }

    @Test
    void everySubsetOfSmallTrees_matchesTheReference() {
        for (int n = 1; n <= 10; n++) {
            NodeRoot tree = NodeRoot.build(entries.subList(0, n));
            assertArrayEquals(Reference.root(entries.subList(0, n)), tree.root());
            for (int mask = 1; mask < 1 << n; mask++) {
                long[] idx = new long[Integer.bitCount(mask)];
                for (int i = 0, a = 0; i < n; i++) {
                    if ((mask >>> i & 1) == 1) {
                        idx[a++] = i;
                    }
                }
                checkAgainstReference(tree, idx);
            }
        }
    }

    @Test
    void randomSubsetsOfCountsUpTo70_andDuplicatedChallenges_matchTheReference() {
        Random r = new Random(70);
        for (int n = 1; n <= 70; n++) {
            NodeRoot tree = NodeRoot.build(entries.subList(0, n));
            for (int round = 0; round < 60; round++) {
                long[] challenged = new long[1 + r.nextInt(Math.min(40, 2 * n))];
                for (int a = 0; a < challenged.length; a++) {
                    challenged[a] = r.nextInt(n); // with replacement, unsorted, as challenges are
                }
                checkAgainstReference(tree, challenged);
            }
            long[] all = new long[n];
            Arrays.setAll(all, i -> i);
            EntriesProof p = tree.proveEntries(all);
            assertEquals(0, p.siblingCount(), "every entry proven: no sibling needed");
            p.verify(tree.root(), n);
        }
    }

    @Test
    void largeCounts_thirtyTwoChallenges_shareTheUpperLevels() {
        for (int n : new int[] {1000, 1024, 1025, 1099}) {
            NodeRoot tree = NodeRoot.build(entries.subList(0, n));
            Random r = new Random(n);
            for (int round = 0; round < 20; round++) {
                long[] ch = new long[32];
                for (int a = 0; a < 32; a++) {
                    ch[a] = r.nextInt(n);
                }
                checkAgainstReference(tree, ch);
            }
        }
        // 100,000 entries: 32 challenges from a real derivation, against 32 single paths
        List<NodeEntry> big = Reference.entries(100_000, 5);
        NodeRoot tree = NodeRoot.build(big);
        List<Challenge> cs = Challenges.derive(new byte[32], "node".getBytes(), 1, tree.count(), 32);
        long[] ch = cs.stream().mapToLong(Challenge::entry).toArray();
        checkAgainstReference(tree, ch);
        EntriesProof p = tree.proveEntries(ch);
        int single = 0;
        for (long i : ch) {
            single += tree.prove(i).encode().length;
        }
        System.out.printf("entries proof: 32 challenges over 100,000 entries: %d siblings, %d bytes; 32 inclusion proofs %d bytes%n",
                p.siblingCount(), p.encode().length, single);
        assertTrue(p.encode().length < single * 3 / 4, p.encode().length + " against " + single);
    }

    @Test
    void siblingCount_atTheMaximumCount_noOverflow() {
        long[] idx = {0, 1, 12345, NodeRoot.MAX_COUNT / 2, NodeRoot.MAX_COUNT - 1};
        int n = EntriesProof.siblingCount(idx, NodeRoot.MAX_COUNT);
        assertTrue(n > 0 && n <= 5 * 32, "siblings " + n);
        assertEquals(32, EntriesProof.siblingCount(new long[] {7}, NodeRoot.MAX_COUNT));
        assertEquals(StorageProofException.Kind.INDEX, kindOf(() -> EntriesProof.siblingCount(new long[] {5}, 5)));
        assertEquals(StorageProofException.Kind.COUNT, kindOf(() -> EntriesProof.siblingCount(new long[] {0}, 0)));
    }

    @Test
    void verify_tamperedEveryByteOfTheEncoding_refused() {
        NodeRoot tree = NodeRoot.build(entries.subList(0, 70));
        long[] ch = {3, 4, 17, 17, 40, 69, 68, 0};
        byte[] enc = tree.proveEntries(ch).encode();
        byte[] root = tree.root();
        for (int at = 0; at < enc.length; at++) {
            for (int bit : new int[] {0x01, 0x80, 0xff}) {
                byte[] b = enc.clone();
                b[at] ^= (byte) bit;
                int where = at;
                StorageProofException e = assertThrows(StorageProofException.class,
                        () -> EntriesProof.decode(b, b.length, ch.length).verify(root, 70, ch), "byte " + where + " ^ " + bit);
                assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
            }
        }
        // every truncation, and one byte more
        for (int len = 0; len < enc.length; len++) {
            byte[] b = Arrays.copyOf(enc, len);
            assertThrows(StorageProofException.class, () -> EntriesProof.decode(b, enc.length, ch.length).verify(root, 70, ch));
        }
        assertEquals(StorageProofException.Kind.TRAILING_BYTES, kindOf(() -> EntriesProof.decode(Arrays.copyOf(enc, enc.length + 1),
                enc.length + 1, ch.length)));
    }

    @Test
    void verify_wrongSetsCountsRootsAndSiblings_typed() {
        NodeRoot tree = NodeRoot.build(entries.subList(0, 1000));
        byte[] root = tree.root();
        long[] ch = {10, 500, 511, 512, 999};
        EntriesProof p = tree.proveEntries(ch);
        assertEquals(StorageProofException.Kind.WRONG_INDEX, kindOf(() -> p.verify(root, 1000, new long[] {10, 500, 511, 512})));
        assertEquals(StorageProofException.Kind.WRONG_INDEX, kindOf(() -> p.verify(root, 1000, new long[] {10, 500, 511, 512, 999, 3})));
        assertEquals(StorageProofException.Kind.WRONG_INDEX, kindOf(() -> p.verify(root, 1000, new long[] {11, 500, 511, 512, 999})));
        StorageProofException lacks = assertThrows(StorageProofException.class, () -> tree.proveEntries(10).verify(root, 1000, new long[] {10, 20}));
        assertTrue(lacks.getMessage().contains("lacks challenged entry 20"), lacks.getMessage());
        assertEquals(StorageProofException.Kind.WRONG_INDEX, kindOf(() -> p.entry(11)));
        byte[] other = root.clone();
        other[5] ^= 1;
        assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> p.verify(other, 1000)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> p.verify(new byte[31], 1000)));
        assertEquals(StorageProofException.Kind.COUNT, kindOf(() -> p.verify(root, 0)));
        assertEquals(StorageProofException.Kind.INDEX, kindOf(() -> p.verify(root, 999)));
        // the count is bound into the root: a count with the same sibling shape still fails
        for (long count : new long[] {1001, 1023, 1024}) {
            if (EntriesProof.siblingCount(p.indices(), count) == p.siblingCount()) {
                assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> p.verify(root, count)), "count " + count);
            } else {
                assertEquals(StorageProofException.Kind.PATH_LENGTH, kindOf(() -> p.verify(root, count)), "count " + count);
            }
        }
        byte[] s = p.siblings();
        for (byte[] t : List.of(Arrays.copyOf(s, s.length - 32), Arrays.copyOf(s, s.length + 32), new byte[0])) {
            StorageProofException e = assertThrows(StorageProofException.class,
                    () -> new EntriesProof(p.indices(), p.entries(), t).verify(root, 1000));
            assertEquals(StorageProofException.Kind.PATH_LENGTH, e.kind());
            assertTrue(e.getMessage().contains("need " + p.siblingCount()), e.getMessage());
        }
        for (int a = 0; a + 1 < p.siblingCount(); a++) { // swapped neighbours
            byte[] t = s.clone();
            System.arraycopy(s, a * 32, t, (a + 1) * 32, 32);
            System.arraycopy(s, (a + 1) * 32, t, a * 32, 32);
            if (!Arrays.equals(t, s)) {
                assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> new EntriesProof(p.indices(), p.entries(), t).verify(root, 1000)));
            }
        }
        // two entries swapped between indices, an index moved to a neighbour with the same shape
        List<NodeEntry> swapped = new ArrayList<>(p.entries());
        java.util.Collections.swap(swapped, 0, 1);
        assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> new EntriesProof(p.indices(), swapped, s).verify(root, 1000)));
        long[] moved = p.indices();
        moved[0] = 11;
        assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> new EntriesProof(moved, p.entries(), s).verify(root, 1000)));
        // the form
        assertEquals(StorageProofException.Kind.INDEX_ORDER, kindOf(() -> new EntriesProof(new long[] {5, 5}, List.of(entries.get(0), entries.get(1)), new byte[0])));
        assertEquals(StorageProofException.Kind.INDEX_ORDER, kindOf(() -> new EntriesProof(new long[] {6, 5}, List.of(entries.get(0), entries.get(1)), new byte[0])));
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> new EntriesProof(new long[] {NodeRoot.MAX_COUNT}, List.of(entries.get(0)), new byte[0])));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new EntriesProof(new long[0], List.of(), new byte[0])));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new EntriesProof(new long[] {1}, List.of(), new byte[0])));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new EntriesProof(new long[] {1}, java.util.Arrays.asList((NodeEntry) null), new byte[0])));
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> new EntriesProof(new long[] {1}, List.of(entries.get(0)), new byte[33])));
        assertEquals(StorageProofException.Kind.INDEX, kindOf(() -> tree.proveEntries(1000)));
        assertEquals(StorageProofException.Kind.INDEX, kindOf(() -> tree.proveEntries(-1, 3)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> tree.proveEntries()));
    }

    @Test
    void decode_limitsAndNonCanonicalForms_typed() {
        NodeRoot tree = NodeRoot.build(entries.subList(0, 300));
        byte[] enc = tree.proveEntries(1, 2, 200).encode();
        assertEquals(StorageProofException.Kind.TOO_LARGE, kindOf(() -> EntriesProof.decode(enc, enc.length - 1, 3)));
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> EntriesProof.decode(enc, enc.length, 2)), "more entries than allowed");
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> EntriesProof.decode(enc, enc.length, 0)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> EntriesProof.decode(null, 10, 1)));
        assertEquals(StorageProofException.Kind.TRUNCATED, kindOf(() -> EntriesProof.decode(new byte[0], 10, 1)));
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> EntriesProof.decode(new byte[] {0}, 10, 1)), "no entries");
        // a count that would allocate much: refused from the remaining length first
        assertEquals(StorageProofException.Kind.TRUNCATED, kindOf(() -> EntriesProof.decode(new byte[] {(byte) 0x80, (byte) 0x80, 4}, 10, 65536)));
        // a non-minimal varint for the entry count
        byte[] padded = new byte[enc.length + 1];
        padded[0] = (byte) (enc[0] | 0x80);
        padded[1] = 0;
        System.arraycopy(enc, 1, padded, 2, enc.length - 1);
        assertEquals(StorageProofException.Kind.VARINT, kindOf(() -> EntriesProof.decode(padded, padded.length, 3)));
        // indices out of order and repeated, written by hand
        EntriesProof p = tree.proveEntries(1, 2);
        byte[] e = p.encode();
        byte[] swapped = e.clone();
        swapped[1] = 2; // index 2 first ...
        int second = 1 + 1 + 1 + 36 + sizeBytes(p.entries().get(0).size());
        assertEquals(2, swapped[second]);
        swapped[second] = 1; // ... then 1 (the CIDs left as they are)
        assertEquals(StorageProofException.Kind.INDEX_ORDER, kindOf(() -> EntriesProof.decode(swapped, swapped.length, 2)));
        byte[] repeated = e.clone();
        repeated[second] = 1;
        assertEquals(StorageProofException.Kind.INDEX_ORDER, kindOf(() -> EntriesProof.decode(repeated, repeated.length, 2)));
        // a sibling count above 32 an entry
        byte[] many = e.clone();
        int sc = e.length - 32 * p.siblingCount() - 1;
        assertEquals(p.siblingCount(), many[sc]);
        many[sc] = 65;
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> EntriesProof.decode(many, many.length, 2)));
        assertTrue(EntriesProof.maxEncodedBytes(32) >= tree.proveEntries(new long[] {0, 9, 99, 199, 299}).encode().length);
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> EntriesProof.maxEncodedBytes(0)));
    }

    private static int sizeBytes(long v) {
        return io.oecloud.wire.Uvarint.size(v);
    }

    @Test
    void decodeAndVerify_fuzzedInputs_onlyTypedErrors_onlyTheOriginalsVerify() {
        Random r = new Random(0x5eed_24c1L);
        NodeRoot tree = NodeRoot.build(entries.subList(0, 57));
        byte[] root = tree.root();
        long[][] sets = new long[16][];
        byte[][] seeds = new byte[16][];
        for (int i = 0; i < seeds.length; i++) {
            sets[i] = new long[1 + r.nextInt(12)];
            for (int a = 0; a < sets[i].length; a++) {
                sets[i][a] = r.nextInt(57);
            }
            seeds[i] = tree.proveEntries(sets[i]).encode();
        }
        int decoded = 0;
        int verified = 0;
        long t0 = System.nanoTime();
        for (int iter = 0; iter < 100_000; iter++) {
            int which = r.nextInt(seeds.length);
            byte[] b = mutate(r, seeds[which]);
            boolean original = Arrays.equals(b, seeds[which]);
            try {
                EntriesProof p = EntriesProof.decode(b, 4096, 12);
                decoded++;
                p.verify(root, 57, sets[which]);
                verified++;
                if (!original) {
                    fail("a mutated input verified: " + HexFormat.of().formatHex(b));
                }
            } catch (StorageProofException expected) {
                if (original) {
                    fail("the original " + which + " was refused: " + expected.getMessage());
                }
            } catch (RuntimeException | Error e) {
                fail("input " + HexFormat.of().formatHex(b) + " threw " + e, e);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("entries proof fuzz: 100,000 inputs, " + decoded + " decoded, " + verified + " verified (unchanged), " + ms + " ms");
        assertTrue(decoded > 1000, "the mutations should leave some inputs decodable: " + decoded);
    }

    private static byte[] mutate(Random r, byte[] seed) {
        byte[] b = seed.clone();
        switch (r.nextInt(9)) {
            case 0 -> { // random bytes of random length
                b = new byte[r.nextInt(2 * seed.length + 8)];
                r.nextBytes(b);
            }
            case 1 -> { // flip 1 to 4 bits
                for (int k = 1 + r.nextInt(4); k > 0 && b.length > 0; k--) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length + 1)); // truncate
            case 3 -> { // append random bytes
                int n = 1 + r.nextInt(40);
                b = Arrays.copyOf(b, b.length + n);
                for (int i = b.length - n; i < b.length; i++) {
                    b[i] = (byte) r.nextInt(256);
                }
            }
            case 4 -> { // overwrite a header byte (entry count, first index, CID length, CID)
                b[r.nextInt(Math.min(b.length, 48))] = (byte) r.nextInt(256);
            }
            case 5 -> { // insert a byte
                int i = r.nextInt(b.length + 1);
                byte[] t = new byte[b.length + 1];
                System.arraycopy(b, 0, t, 0, i);
                t[i] = (byte) r.nextInt(256);
                System.arraycopy(b, i, t, i + 1, b.length - i);
                b = t;
            }
            case 6 -> { // delete a 32-byte run (a sibling's worth) or a byte
                int len = b.length >= 33 && r.nextBoolean() ? 32 : 1;
                int i = r.nextInt(b.length - len + 1);
                byte[] t = new byte[b.length - len];
                System.arraycopy(b, 0, t, 0, i);
                System.arraycopy(b, i + len, t, i, b.length - i - len);
                b = t;
            }
            case 7 -> { // the last varint before the siblings (the sibling count) changed by one
                int sc = findSiblingCount(seed);
                if (sc >= 0) {
                    b[sc] += (byte) (r.nextBoolean() ? 1 : -1);
                }
            }
            default -> { } // unchanged: must verify
        }
        return b;
    }

    private static int findSiblingCount(byte[] enc) {
        try {
            EntriesProof p = EntriesProof.decode(enc, enc.length, 64);
            return enc.length - 32 * p.siblingCount() - 1;
        } catch (StorageProofException e) {
            return -1;
        }
    }
}
