package io.oecloud.proofs.slice;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Slice proofs over content of the lengths where BLAKE3's tree changes shape, checked against
 * {@link Blake3#hash} and, where the length has one, the reference implementation's digest in
 * {@code blake3-vectors.txt} (what b3sum prints for the same bytes, {@code i % 251}). The same
 * sizes are also checked against Debian's {@code b3sum} binary itself by
 * {@link SliceProofAgainstB3sumTest} (installed by {@code .ci/run} or the test's setup).
 */
class SliceProofTest {
    private static final int[] GROUPS = {1, 16, 64};
    private static final Map<Integer, String> REFERENCE = reference();

    static Map<Integer, String> reference() {
        Map<Integer, String> m = new HashMap<>();
        try (var r = new BufferedReader(new InputStreamReader(
                SliceProofTest.class.getResourceAsStream("/blake3-vectors.txt"), StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                String[] f = line.split(" ");
                m.put(Integer.parseInt(f[0]), f[1]);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return m;
    }

    static byte[] content(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    static Stream<Integer> sizes() {
        Set<Integer> s = new LinkedHashSet<>(List.of(0, 1, 1023, 1024, 1025, 2047, 2048, 2049));
        for (int p = 4096; p <= 1 << 20; p <<= 1) {
            s.add(p - 1);
            s.add(p);
            s.add(p + 1);
        }
        s.add(16 * 1024 + 17 * 1024 + 5); // groups of 16 and a short last group
        s.add(3145745); // a reference vector off every boundary
        s.add(2 << 20);
        s.add(8 << 20);
        return s.stream();
    }

    /** First, last, middle, whole, single chunks, and ranges across the root's and smaller splits. */
    static List<long[]> shapes(long chunks) {
        Set<List<Long>> s = new LinkedHashSet<>();
        s.add(List.of(0L, 1L));
        s.add(List.of(chunks - 1, 1L));
        s.add(List.of(chunks / 2, 1L));
        s.add(List.of(0L, chunks));
        s.add(List.of(chunks / 3, 1L));
        if (chunks > 1) {
            long l = TreeShape.leftChunks(chunks);
            s.add(List.of(l - 1, 2L)); // across the root's split
            s.add(List.of(l, chunks - l)); // the root's right subtree
            s.add(List.of(0L, l)); // its left subtree
            s.add(List.of(1L, chunks - 1));
            s.add(List.of(0L, chunks - 1));
            if (l >= 4) {
                s.add(List.of(l / 2 - 1, 3L)); // across the left child's split
                s.add(List.of(l / 4 + 1, l - 3)); // from inside one subtree into the right subtree
            }
            if (chunks > 40) {
                s.add(List.of(7L, 33L)); // across 16-chunk groups, ragged at both ends
                s.add(List.of(16L, 16L)); // exactly one group
            }
        }
        List<long[]> out = new ArrayList<>();
        for (List<Long> r : s) {
            long f = r.get(0);
            long c = r.get(1);
            if (f >= 0 && c >= 1 && f + c <= chunks && c <= 1 << 13) {
                out.add(new long[] {f, c});
            }
        }
        return out;
    }

    private static MemorySegment dataFor(Outboard ob, byte[] content, long first, int count) {
        Outboard.DataRange r = ob.dataRange(first, count);
        return MemorySegment.ofArray(content).asSlice(r.offset(), r.length());
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("sizes")
    void prove_everyRangeShape_verifiesAgainstTheDigestAndAllProversAgree(int n) {
        byte[] content = content(n);
        byte[] root = Blake3.hash(content);
        String ref = REFERENCE.get(n);
        if (ref != null) {
            assertEquals(ref, HexFormat.of().formatHex(root), "reference digest of " + n + " bytes");
        }
        Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, content);
        Outboard[] outboards = new Outboard[GROUPS.length];
        for (int g = 0; g < GROUPS.length; g++) {
            outboards[g] = Outboard.build(content, GROUPS[g]);
            assertArrayEquals(root, outboards[g].root(), "outboard root, groups of " + GROUPS[g]);
            assertEquals(Outboard.sizeOf(n, GROUPS[g]), outboards[g].bytes().length);
        }
        long chunks = TreeShape.chunks(n);
        for (long[] shape : shapes(chunks)) {
            long first = shape[0];
            int count = (int) shape[1];
            String what = n + " bytes, chunks [" + first + ", " + (first + count) + ")";
            SliceProof p = SliceProver.prove(content, first, count);
            p.verify(root);
            p.verify(cid);
            assertEquals(TreeShape.siblingCount(chunks, first, count), p.siblingCount(), what);
            assertEquals(p, SliceProof.decode(p.encode(), p.encodedSize()), what);
            assertEquals(p.encodedSize(), p.encode().length, what);
            assertEquals(p, SliceProver.prove(ByteBuffer.wrap(content), first, count), what + " from a ByteBuffer");
            for (Outboard ob : outboards) {
                SliceProof fromOutboard = SliceProver.prove(ob, dataFor(ob, content, first, count), first, count);
                assertArrayEquals(p.encode(), fromOutboard.encode(), what + ", outboard groups of " + ob.groupChunks());
            }
        }
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("sizes")
    void verify_tamperedAtEveryLevel_throwsTyped(int n) {
        if (n > 1 << 20 && n != 8 << 20) {
            return; // the 8 MiB tree has every level the others have
        }
        byte[] content = content(n);
        byte[] root = Blake3.hash(content);
        long chunks = TreeShape.chunks(n);
        Random rnd = new Random(n);
        List<long[]> ranges = List.of(new long[] {chunks / 2, 1}, new long[] {Math.max(0, chunks / 2 - 2), (int) Math.min(chunks, 5)},
                new long[] {chunks - 1, 1}, new long[] {Math.max(0, chunks - 3), (int) Math.min(chunks, 3)});
        for (long[] range : ranges) {
            long first = Math.min(range[0], chunks - range[1]);
            SliceProof p = SliceProver.prove(content, first, (int) range[1]);
            byte[] sib = p.siblings();
            byte[] ch = p.chunks();
            // every sibling, one bit each
            for (int i = 0; i < p.siblingCount(); i++) {
                byte[] t = sib.clone();
                t[i * 32 + rnd.nextInt(32)] ^= (byte) (1 << rnd.nextInt(8));
                expect(SliceProofException.Kind.ROOT_MISMATCH, () -> new SliceProof(n, p.firstChunk(), p.chunkCount(), ch, t), root);
            }
            // swapped siblings
            for (int i = 0; i + 1 < p.siblingCount(); i++) {
                byte[] t = sib.clone();
                System.arraycopy(sib, (i + 1) * 32, t, i * 32, 32);
                System.arraycopy(sib, i * 32, t, (i + 1) * 32, 32);
                expect(SliceProofException.Kind.ROOT_MISMATCH, () -> new SliceProof(n, p.firstChunk(), p.chunkCount(), ch, t), root);
            }
            // chunk bytes: one bit at the start, the end and somewhere
            if (ch.length > 0) {
                for (int at : new int[] {0, ch.length - 1, rnd.nextInt(ch.length)}) {
                    byte[] t = ch.clone();
                    t[at] ^= (byte) (1 << rnd.nextInt(8));
                    expect(SliceProofException.Kind.ROOT_MISMATCH, () -> new SliceProof(n, p.firstChunk(), p.chunkCount(), t, sib), root);
                }
            }
            // chunk bytes of the wrong length
            expect(SliceProofException.Kind.CHUNK_BYTES_LENGTH,
                    () -> new SliceProof(n, p.firstChunk(), p.chunkCount(), java.util.Arrays.copyOf(ch, ch.length + 1), sib), root);
            if (ch.length > 0) {
                expect(SliceProofException.Kind.CHUNK_BYTES_LENGTH,
                        () -> new SliceProof(n, p.firstChunk(), p.chunkCount(), java.util.Arrays.copyOf(ch, ch.length - 1), sib), root);
            }
            // too few, too many siblings
            if (sib.length > 0) {
                expect(SliceProofException.Kind.TOO_FEW_SIBLINGS,
                        () -> new SliceProof(n, p.firstChunk(), p.chunkCount(), ch, java.util.Arrays.copyOf(sib, sib.length - 32)), root);
            }
            expect(SliceProofException.Kind.TOO_MANY_SIBLINGS,
                    () -> new SliceProof(n, p.firstChunk(), p.chunkCount(), ch, java.util.Arrays.copyOf(sib, sib.length + 32)), root);
            // content length: refused against the known length; without it only when the range
            // includes the last chunk (the class comment says why)
            for (long len : new long[] {n - 1L, n + 1L, n - 1024L, n + 1024L, 2L * n + 1, n / 2}) {
                if (len >= 0 && len != n) {
                    SliceProofException e = assertThrows(SliceProofException.class,
                            () -> new SliceProof(len, p.firstChunk(), p.chunkCount(), ch, sib).verify(root, n));
                    assertEquals(SliceProofException.Kind.LENGTH_MISMATCH, e.kind());
                    if (p.includesLastChunk()) {
                        expectAny(() -> new SliceProof(len, p.firstChunk(), p.chunkCount(), ch, sib), root, "length " + len);
                    } else {
                        try { // may pass (same path shape) or fail typed, never anything else
                            new SliceProof(len, p.firstChunk(), p.chunkCount(), ch, sib).verify(root);
                        } catch (SliceProofException expected) {
                            assertTrue(expected.kind() != null);
                        }
                    }
                }
            }
            p.verify(root, n);
            for (long f : new long[] {p.firstChunk() - 1, p.firstChunk() + 1, chunks, Long.MAX_VALUE - 1}) {
                if (f >= 0) {
                    expectAny(() -> new SliceProof(n, f, p.chunkCount(), ch, sib), root, "first chunk " + f);
                }
            }
            expectAny(() -> new SliceProof(n, p.firstChunk(), p.chunkCount() + 1, ch, sib), root, "count + 1");
            // a different root
            expect(SliceProofException.Kind.ROOT_MISMATCH, () -> p, Blake3.hash(content(n + 1)));
        }
    }

    private static void expect(SliceProofException.Kind kind, Supplier<SliceProof> proof, byte[] root) {
        SliceProofException e = assertThrows(SliceProofException.class, () -> proof.get().verify(root));
        assertEquals(kind, e.kind(), e.getMessage());
    }

    private static void expectAny(Supplier<SliceProof> proof, byte[] root, String what) {
        SliceProofException e = assertThrows(SliceProofException.class, () -> proof.get().verify(root), what);
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), what);
    }

    @Test
    void oneChunkOf8MiB_is1KiBPlus13SiblingsPlusAnEightByteHeader() {
        byte[] content = content(8 << 20);
        SliceProof p = SliceProver.prove(content, 4321, 1);
        assertEquals(13, p.siblingCount());
        assertEquals(1024, p.chunks().length);
        // version 1, length 2^23 (4 bytes), chunk 4321 (2 bytes), count 1
        assertEquals(1024 + 13 * 32 + 8, p.encode().length);
    }

    @Test
    void siblings_ofOneChunk_areItsPathTopDown() {
        byte[] content = content(5 * 1024); // chunks 0..4: root = [0,4) + [4]; [0,4) = [0,2) + [2,4)
        SliceProof p = SliceProver.prove(content, 1, 1);
        assertEquals(3, p.siblingCount());
        var nodes = new io.oecloud.proofs.Blake3Nodes();
        MemorySegment seg = MemorySegment.ofArray(content);
        assertArrayEquals(nodes.chunkCv(seg, 0, 1024, 0, false), p.sibling(0)); // left of chunk 1, first in order
        assertArrayEquals(nodes.subtreeCv(seg, 2048, 2048, 2, false), p.sibling(1));
        assertArrayEquals(nodes.subtreeCv(seg, 4096, 1024, 4, false), p.sibling(2));
    }

    @Test
    void verify_otherLengthOfTheSameShape_passesAloneAndFailsAgainstTheKnownLength() {
        byte[] content = content(4096);
        byte[] root = Blake3.hash(content);
        SliceProof p = SliceProver.prove(content, 1, 1);
        SliceProof claims4095 = new SliceProof(4095, 1, 1, p.chunks(), p.siblings());
        claims4095.verify(root); // chunk 1 and its position are proven; the length is not
        SliceProofException e = assertThrows(SliceProofException.class, () -> claims4095.verify(root, 4096));
        assertEquals(SliceProofException.Kind.LENGTH_MISMATCH, e.kind());
        assertTrue(e.getMessage().contains("4095") && e.getMessage().contains("4096"), e.getMessage());
        // with the last chunk in the range, the length is proven
        SliceProof last = SliceProver.prove(content, 3, 1);
        assertTrue(last.includesLastChunk());
        for (long len : new long[] {4095, 4097, 3073, 5 * 1024}) {
            assertThrows(SliceProofException.class, () -> new SliceProof(len, 3, 1, last.chunks(), last.siblings()).verify(root));
        }
    }

    @Test
    void verify_cidOfAnotherHash_throwsNotBlake3_butAnyBlake3CodecVerifies() {
        byte[] content = content(3000);
        SliceProof p = SliceProver.prove(content, 1, 1);
        SliceProofException e = assertThrows(SliceProofException.class, () -> p.verify(Cid.raw(content)));
        assertEquals(SliceProofException.Kind.NOT_BLAKE3_CID, e.kind());
        assertTrue(e.getMessage().contains(Cid.raw(content).toString()), e.getMessage());
        p.verify(Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, content)); // a manifest copy is proven as a shard is
        p.verify(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, content));
        byte[] other = content.clone();
        other[1500] ^= 1;
        assertThrows(SliceProofException.class, () -> p.verify(Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, other)));
        assertThrows(IllegalArgumentException.class, () -> p.verify(new byte[31]));
    }

    @Test
    void constructor_valuesOutOfRange_throwTyped() {
        byte[] none = new byte[0];
        assertEquals(SliceProofException.Kind.CONTENT_LENGTH, assertThrows(SliceProofException.class,
                () -> new SliceProof(-1, 0, 1, none, none)).kind());
        assertEquals(SliceProofException.Kind.CONTENT_LENGTH, assertThrows(SliceProofException.class,
                () -> new SliceProof(SliceProof.MAX_CONTENT_LENGTH + 1, 0, 1, none, none)).kind());
        assertEquals(SliceProofException.Kind.BAD_RANGE, assertThrows(SliceProofException.class,
                () -> new SliceProof(10, -1, 1, none, none)).kind());
        assertEquals(SliceProofException.Kind.BAD_RANGE, assertThrows(SliceProofException.class,
                () -> new SliceProof(10, 0, 0, none, none)).kind());
        assertEquals(SliceProofException.Kind.SIBLING_BYTES, assertThrows(SliceProofException.class,
                () -> new SliceProof(10, 0, 1, none, new byte[33])).kind());
        SliceProofException e = assertThrows(SliceProofException.class,
                () -> new SliceProof(2048, 2, 1, new byte[1024], none).verify(new byte[32]));
        assertEquals(SliceProofException.Kind.RANGE_OUTSIDE_CONTENT, e.kind());
        assertTrue(e.getMessage().contains("[2, 3)"), e.getMessage());
    }

    @Test
    void prove_fromDirectBuffers_equalsFromTheHeap() {
        byte[] content = content(300_001);
        ByteBuffer direct = ByteBuffer.allocateDirect(content.length).put(content).flip();
        Outboard heapOb = Outboard.build(content);
        Outboard directOb = Outboard.build(direct, Outboard.DEFAULT_GROUP_CHUNKS);
        assertArrayEquals(heapOb.bytes(), directOb.bytes());
        assertEquals(0, direct.position(), "the buffer is not moved");
        for (long c : new long[] {0, 17, 100, 290}) {
            SliceProof p = SliceProver.prove(content, c, 3);
            assertEquals(p, SliceProver.prove(direct, c, 3));
            Outboard.DataRange r = directOb.dataRange(c, 3);
            ByteBuffer slice = direct.slice((int) r.offset(), (int) r.length());
            assertEquals(p, SliceProver.prove(directOb, slice, c, 3));
        }
    }

    @Test
    void siblingCount_matchesTheTree() {
        assertEquals(0, TreeShape.siblingCount(1, 0, 1));
        assertEquals(1, TreeShape.siblingCount(2, 0, 1));
        assertEquals(3, TreeShape.siblingCount(5, 1, 1)); // [0], [2,4), [4]
        assertEquals(1, TreeShape.siblingCount(5, 4, 1)); // [0,4)
        assertEquals(13, TreeShape.siblingCount(8192, 4321, 1));
        assertEquals(0, TreeShape.siblingCount(8192, 0, 8192));
        assertEquals(4, TreeShape.siblingCount(8, 3, 2)); // [0,2), [2], [5], [6,8)
    }

    @Test
    void accessors_returnCopies() {
        SliceProof p = SliceProver.prove(content(5000), 2, 1);
        p.chunks()[0] ^= 1;
        p.siblings()[0] ^= 1;
        p.verify(Blake3.hash(content(5000)));
    }

    @Test
    void decode_badEncodings_throwTheirKinds() {
        byte[] content = content(70_000);
        SliceProof p = SliceProver.prove(content, 30, 2);
        byte[] good = p.encode();
        assertEquals(p, SliceProof.decode(good, good.length));
        assertKind(SliceProofException.Kind.TOO_LARGE, good, good.length - 1);
        assertKind(SliceProofException.Kind.TRUNCATED, java.util.Arrays.copyOf(good, good.length - 1), 1 << 16);
        assertKind(SliceProofException.Kind.TRAILING_BYTES, java.util.Arrays.copyOf(good, good.length + 1), 1 << 16);
        byte[] v2 = good.clone();
        v2[0] = 2;
        assertKind(SliceProofException.Kind.VERSION, v2, 1 << 16);
        assertKind(SliceProofException.Kind.VARINT, new byte[] {(byte) 0x81, 0}, 1 << 16); // not minimal
        assertKind(SliceProofException.Kind.VARINT, new byte[] {1, (byte) 0x80}, 1 << 16); // truncated
        assertKind(SliceProofException.Kind.BAD_RANGE, new byte[] {1, 10, 0, 0}, 1 << 16); // count 0
        assertKind(SliceProofException.Kind.RANGE_OUTSIDE_CONTENT, new byte[] {1, 10, 1, 1}, 1 << 16);
        // a header asking for 2^20 chunks is refused from the header alone
        byte[] huge = new byte[16];
        int o = io.oecloud.wire.Uvarint.write(huge, 0, 1);
        o = io.oecloud.wire.Uvarint.write(huge, o, SliceProof.MAX_CONTENT_LENGTH);
        o = io.oecloud.wire.Uvarint.write(huge, o, 0);
        o = io.oecloud.wire.Uvarint.write(huge, o, SliceProof.MAX_CHUNK_COUNT);
        assertKind(SliceProofException.Kind.TOO_LARGE, java.util.Arrays.copyOf(huge, o), 1 << 16);
        o = io.oecloud.wire.Uvarint.write(huge, 1, SliceProof.MAX_CONTENT_LENGTH + 1);
        assertKind(SliceProofException.Kind.CONTENT_LENGTH, java.util.Arrays.copyOf(huge, o), 1 << 16);
    }

    private static void assertKind(SliceProofException.Kind kind, byte[] encoding, int maxBytes) {
        SliceProofException e = assertThrows(SliceProofException.class, () -> SliceProof.decode(encoding, maxBytes));
        assertEquals(kind, e.kind(), e.getMessage());
    }

    @Test
    void outboard_sizesAndChecks() {
        assertEquals(64 * 511, Outboard.sizeOf(8 << 20, 16)); // 0.39 %
        assertEquals(64 * 8191, Outboard.sizeOf(8 << 20, 1)); // 6.25 %
        assertEquals(0, Outboard.sizeOf(16 * 1024, 16));
        assertEquals(64, Outboard.sizeOf(16 * 1024 + 1, 16));
        assertEquals(0, Outboard.sizeOf(0, 1));
        byte[] content = content(100_000);
        Outboard ob = Outboard.build(content);
        Outboard back = Outboard.of(ob.bytes(), content.length);
        assertArrayEquals(Blake3.hash(content), back.root());
        SliceProofException e = assertThrows(SliceProofException.class,
                () -> Outboard.of(java.util.Arrays.copyOf(ob.bytes(), ob.bytes().length - 1), content.length));
        assertEquals(SliceProofException.Kind.OUTBOARD_SIZE, e.kind());
        assertThrows(IllegalArgumentException.class, () -> Outboard.build(content, 3));
        assertThrows(IllegalArgumentException.class, () -> Outboard.build(content, 1024));
        assertThrows(IllegalStateException.class, () -> Outboard.of(new byte[0], 1000).root());
        assertArrayEquals(Blake3.hash(content(1000)), Outboard.build(content(1000)).root());
        // the prover refuses data of the wrong length
        assertThrows(IllegalArgumentException.class,
                () -> SliceProver.prove(ob, MemorySegment.ofArray(content), 3, 1));
        assertThrows(IllegalArgumentException.class, () -> SliceProver.prove(content, 98, 1));
        assertThrows(IllegalArgumentException.class, () -> SliceProver.prove(content, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> SliceProver.prove(content, 0, 0));
    }

    @Test
    void outboard_wrongPairs_giveProofsThatFail() {
        byte[] content = content(200_000);
        Outboard ob = Outboard.build(content);
        byte[] bad = ob.bytes();
        bad[bad.length / 2] ^= 1;
        Outboard tampered = Outboard.of(bad, content.length);
        byte[] root = Blake3.hash(content);
        int failures = 0;
        for (long c = 0; c < TreeShape.chunks(content.length); c++) {
            SliceProof p = SliceProver.prove(tampered, dataFor(tampered, content, c, 1), c, 1);
            try {
                p.verify(root);
            } catch (SliceProofException e) {
                assertEquals(SliceProofException.Kind.ROOT_MISMATCH, e.kind());
                failures++;
            }
        }
        assertTrue(failures > 0, "a flipped pair bit must break some proofs");
    }
}
