package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What {@link Manifests} accepts and refuses, each refusal naming the field and its value. */
@Timeout(60)
class ManifestsTest {
    static final Identity OWNER = Identity.fromSeed(new byte[32]);
    static final Identity STRANGER = Identity.fromSeed(filled(32, 7));

    static byte[] filled(int n, int b) {
        byte[] out = new byte[n];
        java.util.Arrays.fill(out, (byte) b);
        return out;
    }

    static ByteString raw(int... seed) {
        byte[] b = new byte[seed.length * 4];
        for (int i = 0; i < seed.length; i++) {
            b[4 * i] = (byte) (seed[i] >>> 24);
            b[4 * i + 1] = (byte) (seed[i] >>> 16);
            b[4 * i + 2] = (byte) (seed[i] >>> 8);
            b[4 * i + 3] = (byte) seed[i];
        }
        return ByteString.copyFrom(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b).toBytes());
    }

    static ByteString object(int seed) {
        return ByteString.copyFrom(Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, new byte[] {(byte) seed}).toBytes());
    }

    /** A well-formed file manifest of {@code size} bytes in segments of {@code s} at RS(k, m), unsigned. */
    static Manifest file(long size, int s, int k, int m) {
        Manifest.Builder b = Manifest.newBuilder().setSize(size).setContentType("application/octet-stream")
                .setSegmentSize(s).setK(k).setM(m).setKind(Kind.FILE).setOwner(ByteString.copyFrom(OWNER.publicKey()));
        ByteString holder = ByteString.copyFrom(STRANGER.peerId().toBytes());
        for (int i = 0; (long) i * s < size; i++) {
            Segment.Builder seg = Segment.newBuilder().setSize(Math.min(s, size - (long) i * s)).setCid(raw(i));
            for (int j = 0; j < k + m; j++) {
                seg.addShards(Shard.newBuilder().setCid(raw(i, j)).addHolders(holder));
            }
            b.addSegments(seg);
        }
        return b.build();
    }

    static Manifest directory(String... names) {
        Manifest.Builder b = Manifest.newBuilder().setKind(Kind.DIRECTORY).setContentType(ObjectService.DIRECTORY_TYPE)
                .setOwner(ByteString.copyFrom(OWNER.publicKey()));
        long total = 0;
        for (int i = 0; i < names.length; i++) {
            b.addEntries(Entry.newBuilder().setName(names[i]).setCid(object(i)).setSize(10 + i).setContentType("text/plain"));
            total += 10 + i;
        }
        return b.setSize(total).build();
    }

    static String refusal(Manifest m) {
        return refusal(m.toByteArray());
    }

    static String refusal(byte[] bytes) {
        ObjectException e = assertThrows(ObjectException.class, () -> Manifests.parse(bytes));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        return e.getMessage();
    }

    static void assertRefused(Manifest m, String... words) {
        String why = refusal(m);
        for (String w : words) {
            assertTrue(why.contains(w), "'" + why + "' should say '" + w + "'");
        }
    }

    @Test
    void parse_signedFileDirectoryAndInlineManifests_areValidAndSigned() throws Exception {
        for (Manifest m : List.of(file(5_000_000, 1 << 20, 4, 2), file(1 << 20, 1 << 20, 10, 4), directory("a", "b", "c"),
                file(0, 1 << 20, 4, 2), Manifest.newBuilder().setKind(Kind.FILE).setSize(3).setInlineData(ByteString.copyFromUtf8("abc"))
                        .setSegmentSize(1 << 20).setK(4).setM(2).setOwner(ByteString.copyFrom(OWNER.publicKey())).build())) {
            byte[] block = Manifests.sign(m, OWNER);
            Manifests.Checked c = Manifests.parse(block);
            assertTrue(c.signed());
            assertEquals(m, c.manifest().toBuilder().clearSignature().build());
            assertNull(Manifests.problem(block));
            assertNull(Manifests.problem(java.nio.ByteBuffer.allocateDirect(block.length).put(block).flip()), "as the shard server holds it");
            assertArrayEquals(block, c.manifest().toByteArray(), "signing keeps the encoding canonical");
        }
    }

    @Test
    void parse_unsignedManifest_isValidButNotSigned_andTheShardServerRefusesIt() throws Exception {
        Manifest m = file(3_000_000, 1 << 20, 4, 2);
        Manifests.Checked c = Manifests.parse(m.toByteArray());
        assertFalse(c.signed());
        assertEquals("manifest carries no owner signature", Manifests.problem(m.toByteArray()));
    }

    /** The poison of issue 22: k read from a uint32 as 2^31 - 1 made repair allocate two billion entries. */
    @Test
    void parse_kOfTwoToThe31MinusOne_isRefusedNamingRs() {
        Manifest good = file(3_000_000, 1 << 20, 4, 2);
        assertRefused(good.toBuilder().setK(Integer.MAX_VALUE).build(), "RS(2147483647, 2)");
        assertRefused(good.toBuilder().setK(-1).build(), "RS(4294967295, 2)", "out of range");
        assertRefused(good.toBuilder().setM(-2).build(), "RS(4, 4294967294)");
        assertRefused(good.toBuilder().setK(0).build(), "RS(0, 2)");
        assertRefused(good.toBuilder().setM(253).build(), "RS(4, 253)", "k + m <= 256");
        assertTrue(Manifests.problem(Manifests.sign(good.toBuilder().setK(Integer.MAX_VALUE).build(), OWNER)).contains("RS("),
                "a valid signature does not make a bad structure acceptable");
    }

    @Test
    void parse_shardCountOtherThanKPlusM_isRefused() {
        Manifest good = file(3_000_000, 1 << 20, 4, 2);
        Manifest m = good.toBuilder().setSegments(1, good.getSegments(1).toBuilder().removeShards(5)).build();
        assertRefused(m, "segment 1 has 5 shards", "needs 6");
        assertRefused(good.toBuilder().setK(3).build(), "segment 0 has 6 shards; RS(3, 2) needs 5");
    }

    @Test
    void parse_sizesInconsistentWithTheSegmentTable_areRefused() {
        Manifest good = file(3_000_000, 1 << 20, 4, 2);
        assertRefused(good.toBuilder().setSize(-1).build(), "size 18446744073709551615 is over 2^63 - 1");
        assertRefused(good.toBuilder().setSize(1L << 62).build(), "has 3 segments", "make 4398046511104");
        assertRefused(good.toBuilder().setSize(5_000_000).build(), "has 3 segments; 5000000 bytes");
        assertRefused(good.toBuilder().setSize(2_500_000).build(), "segment 2 holds 902848 bytes; the last one holds 402848");
        assertRefused(good.toBuilder().setSegments(0, good.getSegments(0).toBuilder().setSize((1 << 20) - 1)).build(),
                "segment 0 holds 1048575 bytes; every segment but the last holds 1048576");
        assertRefused(good.toBuilder().setSegments(2, good.getSegments(2).toBuilder().setSize(-5)).build(),
                "segment 2 holds 18446744073709551611 bytes");
        assertRefused(good.toBuilder().setSegmentSize(0).build(), "segment size 0 is outside k (4) to 67108864");
        assertRefused(good.toBuilder().setSegmentSize(3).build(), "segment size 3 is outside k (4)");
        assertRefused(good.toBuilder().setSegmentSize(-1).build(), "segment size 4294967295");
        assertRefused(file(100, 100, 1, 1).toBuilder().setSegmentSize((64 << 20) + 1).setSize(100).build(), "segment size 67108865");
    }

    @Test
    void parse_segmentsWhoseShardsOrCodedBytesWouldBeTooLarge_areRefused() throws Exception {
        assertRefused(file(64 << 20, 64 << 20, 1, 1), "shards of 67108864 bytes, over the limit of 33554432");
        assertRefused(file(64 << 20, 64 << 20, 2, 254), "code to 8589934592 bytes each, over 134217728");
        Manifests.parse(file(64 << 20, 64 << 20, 4, 2).toByteArray()); // 96 MiB coded: a node may be configured so
    }

    @Test
    void parse_inlineBytes_mustBeTheWholeObjectAndAlone() {
        Manifest inline = Manifest.newBuilder().setKind(Kind.FILE).setSize(3).setInlineData(ByteString.copyFromUtf8("abc"))
                .setSegmentSize(1 << 20).setK(4).setM(2).setOwner(ByteString.copyFrom(OWNER.publicKey())).build();
        assertRefused(inline.toBuilder().setSize(4).build(), "inline bytes are 3, its size says 4");
        assertRefused(inline.toBuilder().addSegments(file(3, 1 << 20, 4, 2).getSegments(0)).build(), "inline bytes and also 1 segments");
        // encrypted inline bytes are the object sealed as segment 0: its size and the 16-byte tag
        Manifest.Builder sealed = inline.toBuilder().setEncryption(Encryption.newBuilder().setAlgorithm("AES-256-GCM")
                .setWrappedKey(ByteString.copyFrom(new byte[48])).setWrapNonce(ByteString.copyFrom(new byte[12])));
        assertRefused(sealed.build(), "inline bytes are 3, its size says 19");
        assertRefused(sealed.setInlineData(ByteString.copyFrom(new byte[20])).build(), "inline bytes are 20, its size says 19");
    }

    @Test
    void parse_encryptedObjects_needTheRightFieldLengths_andAnEmptyOneHasOneEmptySegment() throws Exception {
        Encryption enc = Encryption.newBuilder().setAlgorithm("AES-256-GCM").setWrappedKey(ByteString.copyFrom(new byte[48]))
                .setWrapNonce(ByteString.copyFrom(new byte[12])).build();
        Manifest m = file(2_000_000, 1 << 20, 4, 2).toBuilder().setEncryption(enc).build();
        Manifests.parse(m.toByteArray());
        assertRefused(m.toBuilder().setEncryption(enc.toBuilder().setAlgorithm("ROT13")).build(), "algorithm 'ROT13' is unknown");
        assertRefused(m.toBuilder().setEncryption(enc.toBuilder().setWrappedKey(ByteString.copyFrom(new byte[47]))).build(),
                "wrapped key of 47 bytes");
        assertRefused(m.toBuilder().setEncryption(enc.toBuilder().clearWrapNonce()).build(), "nonce of 0 bytes");
        Manifest empty = file(0, 1 << 20, 4, 2).toBuilder().setEncryption(enc).addSegments(Segment.newBuilder().setCid(raw(9))
                .addAllShards(file(1, 1 << 20, 4, 2).getSegments(0).getShardsList())).build();
        Manifests.parse(empty.toByteArray());
        assertRefused(file(0, 1 << 20, 4, 2).toBuilder().setEncryption(enc).build(), "has 0 segments", "make 1");
    }

    @Test
    void parse_cidsOfTheWrongCodecOrHash_orNotCids_areRefused() {
        Manifest good = file(2_000_000, 1 << 20, 4, 2);
        Segment s0 = good.getSegments(0);
        assertRefused(good.toBuilder().setSegments(0, s0.toBuilder().setShards(3, s0.getShards(3).toBuilder().setCid(object(1)))).build(),
                "segment 0 shard 3 CID", "oe-manifest/blake3", "raw/blake3 expected");
        ByteString sha = ByteString.copyFrom(Cid.raw(new byte[] {1}).toBytes());
        assertRefused(good.toBuilder().setSegments(0, s0.toBuilder().setCid(sha)).build(), "segment 0 key CID", "raw/sha2-256");
        ByteString junk = ByteString.copyFrom(filled(40, 0xff));
        assertRefused(good.toBuilder().setSegments(0, s0.toBuilder().setShards(0, s0.getShards(0).toBuilder().setCid(junk))).build(),
                "segment 0 shard 0 CID does not parse");
        Manifest dir = directory("a", "b");
        assertRefused(dir.toBuilder().setEntries(1, dir.getEntries(1).toBuilder().setCid(raw(1))).build(),
                "directory entry 'b' CID", "oe-manifest/blake3 expected");
    }

    @Test
    void parse_holdersThatAreNotPeerIds_orTooMany_areRefused() {
        Manifest good = file(2_000_000, 1 << 20, 4, 2);
        Segment s0 = good.getSegments(0);
        ByteString notAPeer = ByteString.copyFrom(filled(38, 0x55));
        assertRefused(good.toBuilder().setSegments(0, s0.toBuilder().setShards(1, s0.getShards(1).toBuilder().addHolders(notAPeer))).build(),
                "segment 0 shard 1 has a holder of 38 bytes that is not a peer ID");
        Shard.Builder many = s0.getShards(2).toBuilder();
        for (int i = 0; i < Manifests.MAX_HOLDERS; i++) {
            many.addHolders(ByteString.copyFrom(Identity.fromSeed(filled(32, i + 1)).peerId().toBytes()));
        }
        assertRefused(good.toBuilder().setSegments(0, s0.toBuilder().setShards(2, many)).build(), "has a shard with more than 16 holders");
        Manifest none = good.toBuilder().setSegments(0, s0.toBuilder().setShards(2, s0.getShards(2).toBuilder().clearHolders())).build();
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> Manifests.parse(none.toByteArray()),
                "a shard with no holder recorded (not placed) is allowed: repair finds or rebuilds it");
    }

    @Test
    void parse_directories_needValidSortedUniqueNames_andNoFileFields() {
        assertRefused(directory("b", "a"), "directory entry 1 'a' is not after the one before it");
        assertRefused(directory("a", "a"), "directory entry 1 'a' is not after");
        assertRefused(directory("a", "x/y"), "directory entry 1: entry name 'x/y' contains '/'");
        assertRefused(directory(".."), "is '.' or '..'");
        assertRefused(directory("a").toBuilder().setSize(99).build(), "directory size 99 is not the sum of its entries' sizes, 10");
        assertRefused(directory("a").toBuilder().setK(4).build(), "is a directory with file fields");
        assertRefused(directory("a").toBuilder().addSegments(file(3, 1 << 20, 4, 2).getSegments(0)).build(), "is a directory with file fields");
        Manifest d = directory("a", "b");
        assertRefused(d.toBuilder().setEntries(0, d.getEntries(0).toBuilder().setSize(Long.MAX_VALUE)).build(), "add up to more than 2^63 - 1");
        assertRefused(d.toBuilder().setEntries(0, d.getEntries(0).toBuilder().setKindValue(7)).build(), "entry 'a' has kind 7");
        assertRefused(file(3_000_000, 1 << 20, 4, 2).toBuilder().addEntries(d.getEntries(0)).build(), "is a file with 1 directory entries");
    }

    @Test
    void parse_tooManyDirectoryEntries_isRefusedBeforeParsing() {
        Manifest.Builder b = Manifest.newBuilder().setKind(Kind.DIRECTORY).setOwner(ByteString.copyFrom(OWNER.publicKey()));
        Entry e = Entry.newBuilder().setName("x").setCid(object(1)).build();
        for (int i = 0; i <= ObjectService.MAX_ENTRIES; i++) {
            b.addEntries(e);
        }
        assertRefused(b.build(), "has more than 100000 directory entries");
    }

    @Test
    void parse_ownerKindAndContentType_areChecked() {
        Manifest good = file(2_000_000, 1 << 20, 4, 2);
        assertRefused(good.toBuilder().setOwner(ByteString.copyFrom(new byte[31])).build(), "owner is 31 bytes");
        assertRefused(good.toBuilder().setKindValue(5).build(), "kind 5 is neither FILE (0) nor DIRECTORY (1)");
        assertRefused(good.toBuilder().setContentType("text/html\r\nSet-Cookie: x=1").build(), "content type has character U+000D at 9");
        assertRefused(good.toBuilder().setContentType("a".repeat(256)).build(), "content type is 256 characters, over 255");
    }

    @Test
    void parse_signatureOfAnotherKey_orTampered_orTruncated_isRefused() {
        Manifest m = file(2_000_000, 1 << 20, 4, 2);
        byte[] forged = Manifests.sign(m, STRANGER); // owner says OWNER, STRANGER signed
        assertTrue(refusal(forged).contains("signature does not verify against its owner key"));
        Manifest signed = unchecked(Manifests.sign(m, OWNER));
        Manifest changed = signed.toBuilder().setContentType("text/html").build();
        assertTrue(refusal(changed.toByteArray()).contains("signature does not verify"));
        Manifest shortSig = signed.toBuilder().setSignature(signed.getSignature().substring(0, 63)).build();
        assertTrue(refusal(shortSig.toByteArray()).contains("signature is 63 bytes"));
    }

    /** S + L is the same signature to a lax verifier: a third party could give the manifest a second CID with it. */
    @Test
    void parse_signatureWithLAddedToS_isRefused() {
        Manifest signed = unchecked(Manifests.sign(file(2_000_000, 1 << 20, 4, 2), OWNER));
        byte[] sig = signed.getSignature().toByteArray();
        java.math.BigInteger l = java.math.BigInteger.TWO.pow(252).add(new java.math.BigInteger("27742317777372353535851937790883648493"));
        byte[] s = java.util.Arrays.copyOfRange(sig, 32, 64);
        byte[] le = new byte[32];
        byte[] plus = new java.math.BigInteger(1, reverse(s)).add(l).toByteArray();
        byte[] plusLe = reverse(plus);
        System.arraycopy(plusLe, 0, le, 0, Math.min(32, plusLe.length));
        System.arraycopy(le, 0, sig, 32, 32);
        Manifest malleated = signed.toBuilder().setSignature(ByteString.copyFrom(sig)).build();
        assertTrue(refusal(malleated.toByteArray()).contains("signature does not verify"));
    }

    private static byte[] reverse(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }

    @Test
    void parse_nonCanonicalEncodings_areRefused_soASignedManifestHasOneCid() {
        byte[] block = Manifests.sign(file(2_000_000, 1 << 20, 4, 2), OWNER);
        ByteArrayOutputStream twice = new ByteArrayOutputStream();
        twice.writeBytes(new byte[] {0x08, 0x01}); // size = 1 first, then the real size later: the last one wins in protobuf
        twice.writeBytes(block);
        assertTrue(refusal(twice.toByteArray()).contains("is not canonically encoded"));
        byte[] zeroK = new byte[block.length + 2];
        System.arraycopy(block, 0, zeroK, 2, block.length);
        zeroK[0] = 0x28; // m = 0 written explicitly (proto3 omits defaults)
        zeroK[1] = 0x00;
        assertTrue(refusal(zeroK).contains("is not canonically encoded"));
    }

    @Test
    void parse_unknownFields_aFewAreKept_manyAreRefused() throws Exception {
        Manifest m = file(2_000_000, 1 << 20, 4, 2);
        ByteArrayOutputStream some = new ByteArrayOutputStream();
        some.writeBytes(m.toByteArray());
        for (int i = 0; i < Manifests.MAX_UNKNOWN_FIELDS; i++) {
            some.writeBytes(new byte[] {(byte) 0xa0, 0x06, (byte) i}); // field 100, varint
        }
        assertFalse(Manifests.parse(some.toByteArray()).signed(), "fields of a newer version pass");
        some.writeBytes(new byte[] {(byte) 0xa0, 0x06, 1});
        assertTrue(refusal(some.toByteArray()).contains("more than 64 unknown fields"));
        byte[] group = {0x0b, 0x0c}; // field 1 as a group
        assertTrue(refusal(group).contains("uses a protobuf group"));
    }

    /**
     * 32 MiB of two-byte empty segments would parse into 16 million messages (over a GiB of heap):
     * the wire scan refuses them before protobuf-java builds one.
     */
    @Test
    void parse_aBlockOfTinyElements_isRefusedBeforeAnyIsBuilt() {
        byte[] tiny = new byte[32 << 20];
        for (int i = 0; i < tiny.length; i += 2) {
            tiny[i] = 0x3a; // field 7 (segments), length-delimited
        }
        assertTrue(refusal(tiny).contains("has a segment of 0 bytes, too short to be one (at least 38)"));
        Manifest one = file(1 << 20, 1 << 20, 4, 2);
        byte[] shard = one.getSegments(0).getShards(0).toByteArray();
        Segment.Builder wide = one.getSegments(0).toBuilder();
        for (int i = 0; i < 251; i++) {
            wide.addShards(one.getSegments(0).getShards(0));
        }
        assertTrue(shard.length >= 38);
        assertTrue(refusal(one.toBuilder().setSegments(0, wide).build()).contains("has a segment with more than 256 shards"));
        assertTrue(refusal(new byte[] {0x3a, 40, 0x1a}).contains("not a well-formed protobuf"), "a length past the end");
    }

    @Test
    void shardSize_ofACheckedManifest_isCeilOfCodedBytesOverK() throws Exception {
        Manifest m = file(2_500_000, 1 << 20, 4, 2);
        assertEquals(262_144, Manifests.shardSize(m, m.getSegments(0)));
        assertEquals(100_712, Manifests.shardSize(m, m.getSegments(2)));
    }

    /** Parses without checks, for building tampered variants of a signed block. */
    private static Manifest unchecked(byte[] b) {
        try {
            return Manifest.parseFrom(b);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }
}
