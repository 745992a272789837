package io.oecloud.proofs.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.wire.Uvarint;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class InclusionProofTest {
    private static final int N = 1000;
    private static List<NodeEntry> entries;
    private static NodeRoot tree;
    private static byte[] root;

    @BeforeAll
    static void build() {
        entries = Reference.entries(N, 7);
        tree = NodeRoot.build(entries);
        root = tree.root();
    }

    private static StorageProofException.Kind kindOf(Executable e) {
        return assertThrows(StorageProofException.class, e).kind();
    }

    @Test
    void verify_everySiblingBitFlipped_rootMismatch() {
        for (int i : new int[] {0, 1, 511, 512, 997, 999}) {
            InclusionProof p = tree.prove(i);
            byte[] s = p.siblings();
            for (int bit = 0; bit < s.length * 8; bit++) {
                byte[] t = s.clone();
                t[bit / 8] ^= (byte) (1 << (bit % 8));
                InclusionProof bad = new InclusionProof(i, p.entry(), t);
                assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> bad.verify(root, N)), "i=" + i + " bit=" + bit);
            }
        }
    }

    @Test
    void verify_tamperedEntry_rootMismatch() {
        InclusionProof p = tree.prove(123);
        NodeEntry e = p.entry();
        byte[] d = e.cid().digest();
        d[31] ^= 1;
        NodeEntry otherCid = new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, d), e.size());
        NodeEntry otherSize = new NodeEntry(e.cid(), e.size() + 1);
        NodeEntry otherCodec = new NodeEntry(Cid.of(ContentCodec.MANIFEST, HashFunction.BLAKE3, e.cid().digest()), e.size());
        NodeEntry otherFunction = new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.SHA2_256, e.cid().digest()), e.size());
        for (NodeEntry bad : List.of(otherCid, otherSize, otherCodec, otherFunction)) {
            InclusionProof q = new InclusionProof(123, bad, p.siblings());
            assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> q.verify(root, N)), bad.toString());
        }
    }

    @Test
    void verify_otherIndexSamePathLength_rootMismatch() {
        InclusionProof p = tree.prove(100);
        for (long other : new long[] {101, 99, 0, 356}) {
            assertEquals(NodeRoot.pathLength(100, N), NodeRoot.pathLength(other, N));
            InclusionProof q = new InclusionProof(other, p.entry(), p.siblings());
            assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> q.verify(root, N)), "index " + other);
        }
    }

    @Test
    void verify_otherIndexOtherPathLength_pathLength() {
        InclusionProof p = tree.prove(100);
        InclusionProof q = new InclusionProof(999, p.entry(), p.siblings()); // 999 is in the short right edge
        assertTrue(NodeRoot.pathLength(999, N) != p.siblingCount());
        assertEquals(StorageProofException.Kind.PATH_LENGTH, kindOf(() -> q.verify(root, N)));
    }

    @Test
    void verify_indexAtOrAboveCount_index() {
        InclusionProof p = tree.prove(999);
        InclusionProof q = new InclusionProof(1000, p.entry(), p.siblings());
        assertEquals(StorageProofException.Kind.INDEX, kindOf(() -> q.verify(root, N)));
        assertEquals(StorageProofException.Kind.INDEX, kindOf(() -> p.verify(root, 999)));
    }

    @Test
    void verify_siblingAddedOrRemoved_pathLength() {
        InclusionProof p = tree.prove(40);
        byte[] s = p.siblings();
        InclusionProof shorter = new InclusionProof(40, p.entry(), Arrays.copyOf(s, s.length - 32));
        InclusionProof longer = new InclusionProof(40, p.entry(), Arrays.copyOf(s, s.length + 32));
        InclusionProof none = new InclusionProof(40, p.entry(), new byte[0]);
        for (InclusionProof q : List.of(shorter, longer, none)) {
            StorageProofException e = assertThrows(StorageProofException.class, () -> q.verify(root, N));
            assertEquals(StorageProofException.Kind.PATH_LENGTH, e.kind());
            assertTrue(e.getMessage().contains("has a path of 10"), e.getMessage());
        }
    }

    @Test
    void verify_swappedSiblings_rootMismatch() {
        InclusionProof p = tree.prove(300);
        byte[] s = p.siblings();
        for (int a = 0; a + 1 < p.siblingCount(); a++) {
            byte[] t = s.clone();
            System.arraycopy(s, a * 32, t, (a + 1) * 32, 32);
            System.arraycopy(s, (a + 1) * 32, t, a * 32, 32);
            InclusionProof q = new InclusionProof(300, p.entry(), t);
            assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> q.verify(root, N)), "swap " + a);
        }
    }

    @Test
    void verify_wrongRootOrCount_typed() {
        InclusionProof p = tree.prove(5);
        byte[] other = root.clone();
        other[0] ^= 1;
        assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> p.verify(other, N)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> p.verify(new byte[31], N)));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> p.verify(null, N)));
        assertEquals(StorageProofException.Kind.COUNT, kindOf(() -> p.verify(root, 0)));
        assertEquals(StorageProofException.Kind.COUNT, kindOf(() -> p.verify(root, NodeRoot.MAX_COUNT + 1)));
        // 1024 entries: entry 5 has a path of 10 there too and reaches the same top node, but
        // the count is bound into the root.
        assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> p.verify(root, 1024)));
        assertEquals(StorageProofException.Kind.PATH_LENGTH, kindOf(() -> p.verify(root, 2000)));
    }

    @Test
    void verify_proofOfAnotherEntryThanChallenged_wrongIndex() {
        InclusionProof p = tree.prove(5);
        StorageProofException e = assertThrows(StorageProofException.class, () -> p.verify(root, N, 6));
        assertEquals(StorageProofException.Kind.WRONG_INDEX, e.kind());
        assertTrue(e.getMessage().contains("entry 5") && e.getMessage().contains("entry 6"), e.getMessage());
    }

    @Test
    void verify_subtreeRootAsEntry_cannotPass() {
        // The second-preimage trick: claim an inner node is a leaf of a shorter tree. Leaves hash
        // (CID, size) under the leaf tag, so the inner node would need an entry whose leaf hash is
        // it; the shorter path is refused before any hashing for the ledger's count.
        InclusionProof p = tree.prove(0);
        InclusionProof lifted = new InclusionProof(0, p.entry(), Arrays.copyOfRange(p.siblings(), 32, p.siblings().length));
        assertEquals(StorageProofException.Kind.PATH_LENGTH, kindOf(() -> lifted.verify(root, N)));
        assertEquals(StorageProofException.Kind.ROOT_MISMATCH, kindOf(() -> lifted.verify(root, N / 2)));
    }

    @Test
    void constructor_badSiblings_fieldRange() {
        NodeEntry e = entries.get(0);
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> new InclusionProof(0, e, new byte[33])));
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> new InclusionProof(0, e, new byte[33 * 32])));
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> new InclusionProof(-1, e, new byte[0])));
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> new InclusionProof(NodeRoot.MAX_COUNT, e, new byte[0])));
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> new InclusionProof(0, null, new byte[0])));
    }

    @Test
    void siblings_areCopiedInAndOut() {
        InclusionProof p = tree.prove(7);
        byte[] s = p.siblings();
        s[0] ^= 1;
        p.verify(root, N);
        byte[] in = p.siblings();
        InclusionProof q = new InclusionProof(7, p.entry(), in);
        in[0] ^= 1;
        q.verify(root, N);
        assertEquals(p, q);
        assertEquals(p.hashCode(), q.hashCode());
    }

    @Test
    void encode_layout_isIndexCidSizeSiblings() {
        InclusionProof p = tree.prove(300); // 300 = ac 02
        byte[] b = p.encode();
        byte[] cid = p.entry().cid().toBytes();
        byte[] size = new byte[Uvarint.size(p.entry().size())];
        Uvarint.write(size, 0, p.entry().size());
        byte[] expected = Reference.concat(new byte[] {(byte) 0xac, 0x02, (byte) cid.length}, cid, size,
                new byte[] {(byte) p.siblingCount()}, p.siblings());
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(b));
        assertEquals(36, cid.length);
        assertEquals(10, p.siblingCount());
    }

    @Test
    void encode_100000Entries_about600Bytes() {
        NodeRoot big = NodeRoot.build(Reference.entries(100_000, 11));
        InclusionProof p = big.prove(12_345);
        assertEquals(17, p.siblingCount());
        int len = p.encode().length;
        // 2 (index 12,345) + 1 + 36 (CID) + 1 to 6 (size < 2^40) + 1 + 17 × 32
        assertEquals(2 + 1 + 36 + Uvarint.size(p.entry().size()) + 1 + 17 * 32, len);
        assertTrue(len <= 600, len + " bytes");
        assertEquals(p, InclusionProof.decode(p.encode(), InclusionProof.MAX_ENCODED_BYTES));
    }

    @Test
    void decode_roundTrip_everyIndexOfSmallTrees() {
        for (int n : new int[] {1, 2, 3, 5, 17}) {
            NodeRoot t = NodeRoot.build(entries.subList(0, n));
            for (int i = 0; i < n; i++) {
                InclusionProof p = t.prove(i);
                InclusionProof q = InclusionProof.decode(p.encode(), InclusionProof.MAX_ENCODED_BYTES);
                assertEquals(p, q);
                q.verify(t.root(), n, i);
            }
        }
    }

    @Test
    void decode_overLimit_tooLargeFromLengthAlone() {
        byte[] b = tree.prove(3).encode();
        StorageProofException e = assertThrows(StorageProofException.class, () -> InclusionProof.decode(b, b.length - 1));
        assertEquals(StorageProofException.Kind.TOO_LARGE, e.kind());
        assertTrue(e.getMessage().contains(Integer.toString(b.length)), e.getMessage());
        assertEquals(StorageProofException.Kind.TOO_LARGE,
                kindOf(() -> InclusionProof.decode(new byte[InclusionProof.MAX_ENCODED_BYTES + 1], InclusionProof.MAX_ENCODED_BYTES)));
    }

    @Test
    void decode_everyTruncation_truncated() {
        byte[] b = tree.prove(3).encode();
        for (int len = 0; len < b.length; len++) {
            byte[] t = Arrays.copyOf(b, len);
            assertEquals(StorageProofException.Kind.TRUNCATED, kindOf(() -> InclusionProof.decode(t, 4096)), "length " + len);
        }
    }

    @Test
    void decode_trailingByte_trailingBytes() {
        byte[] b = Arrays.copyOf(tree.prove(3).encode(), tree.prove(3).encode().length + 1);
        assertEquals(StorageProofException.Kind.TRAILING_BYTES, kindOf(() -> InclusionProof.decode(b, 4096)));
    }

    @Test
    void decode_nonMinimalVarint_varint() {
        byte[] b = tree.prove(3).encode(); // index 3 = 03
        byte[] t = Reference.concat(new byte[] {(byte) 0x83, 0x00}, Arrays.copyOfRange(b, 1, b.length));
        assertEquals(StorageProofException.Kind.VARINT, kindOf(() -> InclusionProof.decode(t, 4096)));
        byte[] tooLong = new byte[12];
        Arrays.fill(tooLong, (byte) 0xff);
        assertEquals(StorageProofException.Kind.VARINT, kindOf(() -> InclusionProof.decode(tooLong, 4096)));
    }

    @Test
    void decode_fieldsOutOfRange_fieldRange() {
        byte[] b = tree.prove(3).encode();
        byte[] rest = Arrays.copyOfRange(b, 1, b.length);
        byte[] bigIndex = new byte[5];
        Uvarint.write(bigIndex, 0, NodeRoot.MAX_COUNT);
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> InclusionProof.decode(Reference.concat(bigIndex, rest), 4096)));
        byte[] zeroCid = {3, 0};
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> InclusionProof.decode(zeroCid, 4096)));
        byte[] longCid = {3, 65};
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> InclusionProof.decode(longCid, 4096)));
        byte[] cid = entries.get(0).cid().toBytes();
        byte[] manySiblings = Reference.concat(new byte[] {0, (byte) cid.length}, cid, new byte[] {5, 33}, new byte[33 * 32]);
        assertEquals(StorageProofException.Kind.FIELD_RANGE, kindOf(() -> InclusionProof.decode(manySiblings, 4096)));
    }

    @Test
    void decode_badCid_cid() {
        byte[] cid = entries.get(0).cid().toBytes();
        cid[0] = 2; // CID version 2
        byte[] b = Reference.concat(new byte[] {0, (byte) cid.length}, cid, new byte[] {5, 0});
        StorageProofException e = assertThrows(StorageProofException.class, () -> InclusionProof.decode(b, 4096));
        assertEquals(StorageProofException.Kind.CID, e.kind());
        assertTrue(e.getMessage().contains("version"), e.getMessage());
    }

    /** 10^5 random and mutated encodings: decode and verify throw only StorageProofException. */
    @Test
    void decodeAndVerify_fuzzedInputs_onlyTypedErrors() {
        Random r = new Random(0x5eed_2024L);
        NodeRoot small = NodeRoot.build(entries.subList(0, 37));
        byte[][] seeds = new byte[37][];
        for (int i = 0; i < seeds.length; i++) {
            seeds[i] = small.prove(i).encode();
        }
        byte[] smallRoot = small.root();
        int decoded = 0;
        int verified = 0;
        long t0 = System.nanoTime();
        for (int iter = 0; iter < 100_000; iter++) {
            byte[] b = mutate(r, seeds[r.nextInt(seeds.length)]);
            try {
                InclusionProof p = InclusionProof.decode(b, InclusionProof.MAX_ENCODED_BYTES);
                decoded++;
                p.verify(smallRoot, 37);
                verified++;
            } catch (StorageProofException expected) {
                // typed: fine
            } catch (RuntimeException | Error e) {
                fail("input " + HexFormat.of().formatHex(b) + " threw " + e, e);
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("fuzz: 100,000 inputs, " + decoded + " decoded, " + verified + " verified, " + ms + " ms");
        assertTrue(decoded > 1000, "the mutations should leave some inputs decodable: " + decoded);
    }

    private static byte[] mutate(Random r, byte[] seed) {
        byte[] b = seed.clone();
        switch (r.nextInt(8)) {
            case 0 -> { // random bytes of random length
                b = new byte[r.nextInt(InclusionProof.MAX_ENCODED_BYTES + 8)];
                r.nextBytes(b);
            }
            case 1 -> { // flip 1 to 4 bits
                for (int k = 1 + r.nextInt(4); k > 0 && b.length > 0; k--) {
                    int i = r.nextInt(b.length);
                    b[i] ^= (byte) (1 << r.nextInt(8));
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
            case 4 -> { // overwrite a header byte (index, CID length, CID, size, sibling count)
                int i = r.nextInt(Math.min(b.length, 48));
                b[i] = (byte) r.nextInt(256);
            }
            case 5 -> { // insert a byte
                int i = r.nextInt(b.length + 1);
                byte[] t = new byte[b.length + 1];
                System.arraycopy(b, 0, t, 0, i);
                t[i] = (byte) r.nextInt(256);
                System.arraycopy(b, i, t, i + 1, b.length - i);
                b = t;
            }
            case 6 -> { // delete a byte
                if (b.length > 0) {
                    int i = r.nextInt(b.length);
                    byte[] t = new byte[b.length - 1];
                    System.arraycopy(b, 0, t, 0, i);
                    System.arraycopy(b, i + 1, t, i, b.length - 1 - i);
                    b = t;
                }
            }
            default -> { // a sibling count of 0..40 with whatever follows
                int i = 1 + 1 + 36 + r.nextInt(3);
                if (i < b.length) {
                    b[i] = (byte) r.nextInt(41);
                }
            }
        }
        return b;
    }

    @Test
    void decode_null_argument() {
        assertEquals(StorageProofException.Kind.ARGUMENT, kindOf(() -> InclusionProof.decode(null, 10)));
    }

    @Test
    void decode_knownProof_verifies() {
        byte[] b = tree.prove(999).encode();
        InclusionProof p = InclusionProof.decode(b, InclusionProof.MAX_ENCODED_BYTES);
        p.verify(root, N, 999);
        assertArrayEquals(b, p.encode());
    }
}
