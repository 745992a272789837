package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.node.shard.ShardServer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutated manifests fed to the parser and validator, fixed seeds: nothing but {@link
 * ObjectException} comes out, and what passes has sizes and counts every caller can compute with.
 * Byte-level mutations (bit flips, interesting bytes, inserted varints, cuts, splices) of signed
 * blocks; field-level ones (every integer set to edge values, repeated elements added or removed,
 * CIDs and holders replaced) of parsed manifests, most unsigned so the structure checks run on
 * each, some signed.
 */
@Timeout(120)
class ManifestFuzzTest {
    private static final int BYTE_MUTATIONS = 100_000;
    private static final int FIELD_MUTATIONS = 40_000;
    /** Stops early (and says so) rather than hold CI: about 5 s are needed on a 2-core machine. */
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(60);

    private static final long[] EDGES = {0, 1, 2, 3, 4, 15, 16, 255, 256, 257, 1 << 16, (1 << 20) - 1, 1 << 20, (1 << 20) + 1,
            64 << 20, (64 << 20) + 1, Integer.MAX_VALUE, 0x80000000L, 0xffffffffL, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE, -1, -2};

    private static List<Manifest> seeds() {
        List<Manifest> out = new ArrayList<>();
        out.add(ManifestsTest.file(3_000_000, 1 << 20, 4, 2));
        out.add(ManifestsTest.file(2_000_000, 1 << 20, 10, 4));
        out.add(ManifestsTest.file(0, 1 << 20, 4, 2));
        out.add(ManifestsTest.file(2_000_000, 1 << 20, 4, 2).toBuilder().setEncryption(Encryption.newBuilder()
                .setAlgorithm("AES-256-GCM").setWrappedKey(ByteString.copyFrom(new byte[48])).setWrapNonce(ByteString.copyFrom(new byte[12]))).build());
        out.add(ManifestsTest.file(0, 1 << 20, 4, 2).toBuilder().setSize(5).setInlineData(ByteString.copyFromUtf8("hello")).build());
        out.add(ManifestsTest.directory("a", "b", "index.html", "z"));
        return out;
    }

    @Test
    void parse_ofMutatedManifests_throwsOnlyObjectException_andWhatPassesIsInRange() {
        List<byte[]> blocks = seeds().stream().map(m -> Manifests.sign(m, ManifestsTest.OWNER)).toList();
        Random rnd = new Random(22);
        long deadline = System.nanoTime() + BUDGET_NANOS;
        int[] outcome = new int[3]; // refused, valid unsigned, valid signed
        int done = 0;
        for (; done < BYTE_MUTATIONS && System.nanoTime() < deadline; done++) {
            byte[] b = blocks.get(rnd.nextInt(blocks.size())).clone();
            int ops = 1 + rnd.nextInt(4);
            for (int i = 0; i < ops; i++) {
                b = mutateBytes(b, rnd);
            }
            feed(b, outcome, "byte mutation " + done);
        }
        long bytesDone = System.nanoTime();
        int fields = 0;
        List<Manifest> parsed = seeds();
        for (; fields < FIELD_MUTATIONS && System.nanoTime() < deadline; fields++) {
            Manifest m = parsed.get(rnd.nextInt(parsed.size()));
            int ops = 1 + rnd.nextInt(3);
            for (int i = 0; i < ops; i++) {
                m = mutateFields(m, rnd);
            }
            byte[] b = fields % 20 == 0 ? Manifests.sign(m, ManifestsTest.OWNER) : m.toByteArray();
            feed(b, outcome, "field mutation " + fields);
        }
        System.out.printf("manifest fuzz: %d byte mutations in %d ms, %d field mutations in %d ms; refused %d, valid unsigned %d,"
                + " valid signed %d%n", done, TimeUnit.NANOSECONDS.toMillis(bytesDone - (deadline - BUDGET_NANOS)), fields,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - bytesDone), outcome[0], outcome[1], outcome[2]);
        assertTrue(done + fields >= 100_000, "only " + (done + fields) + " mutations ran within the time budget");
        assertTrue(outcome[1] + outcome[2] > 1000, "the field mutations keep enough manifests valid to reach every check");
    }

    private static void feed(byte[] b, int[] outcome, String what) {
        try {
            Manifests.Checked c = Manifests.parse(b);
            outcome[c.signed() ? 2 : 1]++;
            Manifest m = c.manifest();
            long sum = 0;
            for (Segment seg : m.getSegmentsList()) { // what download and repair compute from it
                int shard = Manifests.shardSize(m, seg);
                assertTrue(shard >= 0 && shard <= ShardServer.MAX_SHARD, what + ": shard size " + shard);
                assertTrue((long) shard * seg.getShardsCount() <= Manifests.MAX_CODED_SEGMENT, what);
                assertTrue(seg.getShardsCount() == m.getK() + m.getM() && m.getK() >= 1, what);
                sum += seg.getSize();
            }
            assertTrue(m.getSegmentsCount() == 0 || sum == m.getSize(), what + ": segment sizes add up to " + sum);
            assertTrue(m.getSize() >= 0, what);
        } catch (ObjectException e) {
            outcome[0]++;
            assertTrue(e.code() == ObjectException.Code.CORRUPT && e.getMessage().startsWith("manifest "), what + ": " + e.getMessage());
        } catch (Throwable t) {
            throw new AssertionError(what + " threw " + t + " for " + HexFormat.of().formatHex(b, 0, Math.min(b.length, 400)), t);
        }
    }

    private static byte[] mutateBytes(byte[] b, Random rnd) {
        if (b.length == 0) {
            return new byte[] {(byte) rnd.nextInt()};
        }
        int at = rnd.nextInt(b.length);
        switch (rnd.nextInt(8)) {
            case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
            case 1 -> b[at] = (byte) new int[] {0, 1, 0x7f, 0x80, 0xff, 0x3a, 0x08, 0x0a}[rnd.nextInt(8)];
            case 2 -> b[at] = (byte) rnd.nextInt();
            case 3 -> { // a long varint where a length or count stood
                byte[] v = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x0f};
                return splice(b, at, at, v);
            }
            case 4 -> {
                return java.util.Arrays.copyOf(b, at); // cut
            }
            case 5 -> { // delete a range
                int to = Math.min(b.length, at + 1 + rnd.nextInt(40));
                return splice(b, at, to, new byte[0]);
            }
            case 6 -> { // duplicate a range elsewhere
                int from = rnd.nextInt(b.length);
                int len = Math.min(b.length - from, 1 + rnd.nextInt(80));
                return splice(b, at, at, java.util.Arrays.copyOfRange(b, from, from + len));
            }
            default -> { // random bytes inserted
                byte[] r = new byte[1 + rnd.nextInt(8)];
                rnd.nextBytes(r);
                return splice(b, at, at, r);
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] insert) {
        byte[] out = new byte[b.length - (to - from) + insert.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(b, to, out, from + insert.length, b.length - to);
        return out;
    }

    private static long edge(Random rnd) {
        return rnd.nextInt(4) == 0 ? rnd.nextLong() : EDGES[rnd.nextInt(EDGES.length)];
    }

    private static Manifest mutateFields(Manifest m, Random rnd) {
        Manifest.Builder b = m.toBuilder();
        int segs = b.getSegmentsCount();
        switch (rnd.nextInt(16)) {
            case 0 -> b.setK((int) edge(rnd));
            case 1 -> b.setM((int) edge(rnd));
            case 2 -> { // RS parameters changed, shard counts kept consistent
                int n = b.getK() + b.getM();
                if (n > 1) {
                    int k = 1 + rnd.nextInt(n - 1);
                    b.setK(k).setM(n - k);
                }
            }
            case 3 -> b.setSize(edge(rnd));
            case 4 -> b.setSegmentSize((int) edge(rnd));
            case 5 -> {
                if (segs > 0) {
                    int i = rnd.nextInt(segs);
                    b.setSegments(i, b.getSegments(i).toBuilder().setSize(edge(rnd)));
                }
            }
            case 6 -> {
                if (segs > 0) {
                    b.removeSegments(rnd.nextInt(segs));
                }
            }
            case 7 -> {
                if (segs > 0) {
                    b.addSegments(b.getSegments(rnd.nextInt(segs)));
                }
            }
            case 8 -> {
                if (segs > 0) { // a shard removed or added
                    int i = rnd.nextInt(segs);
                    Segment.Builder s = b.getSegments(i).toBuilder();
                    if (rnd.nextBoolean() && s.getShardsCount() > 0) {
                        s.removeShards(rnd.nextInt(s.getShardsCount()));
                    } else {
                        s.addShards(Shard.newBuilder().setCid(ManifestsTest.raw(rnd.nextInt())));
                    }
                    b.setSegments(i, s);
                }
            }
            case 9 -> {
                if (segs > 0) { // a CID of the wrong kind, or bytes that are none
                    int i = rnd.nextInt(segs);
                    Segment.Builder s = b.getSegments(i).toBuilder();
                    ByteString bad = switch (rnd.nextInt(3)) {
                        case 0 -> ManifestsTest.object(rnd.nextInt());
                        case 1 -> ByteString.copyFrom(io.oecloud.proofs.Cid.raw(new byte[] {1}).toBytes());
                        default -> randomBytes(rnd, rnd.nextInt(40));
                    };
                    if (rnd.nextBoolean() || s.getShardsCount() == 0) {
                        s.setCid(bad);
                    } else {
                        int j = rnd.nextInt(s.getShardsCount());
                        s.setShards(j, s.getShards(j).toBuilder().setCid(bad));
                    }
                    b.setSegments(i, s);
                }
            }
            case 10 -> {
                if (segs > 0) { // holders: dropped, junk, or many
                    int i = rnd.nextInt(segs);
                    Segment.Builder s = b.getSegments(i).toBuilder();
                    if (s.getShardsCount() > 0) {
                        int j = rnd.nextInt(s.getShardsCount());
                        Shard.Builder sh = s.getShards(j).toBuilder();
                        switch (rnd.nextInt(3)) {
                            case 0 -> sh.clearHolders();
                            case 1 -> sh.addHolders(randomBytes(rnd, rnd.nextInt(50)));
                            default -> {
                                for (int h = rnd.nextInt(20); h > 0; h--) {
                                    sh.addHolders(ByteString.copyFrom(ManifestsTest.STRANGER.peerId().toBytes()));
                                }
                            }
                        }
                        s.setShards(j, sh);
                        b.setSegments(i, s);
                    }
                }
            }
            case 11 -> b.setInlineData(randomBytes(rnd, rnd.nextInt(3) == 0 ? (int) Math.clamp(b.getSize(), 0, 1000) : rnd.nextInt(100)));
            case 12 -> b.setKindValue(rnd.nextInt(4) == 0 ? (int) edge(rnd) : rnd.nextInt(2));
            case 13 -> { // directory entries
                if (b.getEntriesCount() > 0) {
                    int i = rnd.nextInt(b.getEntriesCount());
                    Entry.Builder e = b.getEntries(i).toBuilder();
                    switch (rnd.nextInt(5)) {
                        case 0 -> e.setName(new String[] {"", ".", "..", "a/b", "\0", "x".repeat(256), "a", "zz"}[rnd.nextInt(8)]);
                        case 1 -> e.setSize(edge(rnd));
                        case 2 -> e.setCid(ManifestsTest.raw(rnd.nextInt()));
                        case 3 -> e.setKindValue((int) edge(rnd));
                        default -> b.addEntries(e.build());
                    }
                    if (rnd.nextInt(5) != 4) {
                        b.setEntries(i, e);
                    }
                } else {
                    b.addEntries(Entry.newBuilder().setName("n").setCid(ManifestsTest.object(1)));
                }
            }
            case 14 -> { // encryption fields
                Encryption.Builder e = b.getEncryption().toBuilder();
                switch (rnd.nextInt(4)) {
                    case 0 -> b.clearEncryption();
                    case 1 -> b.setEncryption(e.setWrappedKey(randomBytes(rnd, rnd.nextInt(64))));
                    case 2 -> b.setEncryption(e.setWrapNonce(randomBytes(rnd, rnd.nextInt(16))).setAlgorithm("AES-256-GCM"));
                    default -> b.setEncryption(e.setAlgorithm("AES-256-GCM").setWrappedKey(ByteString.copyFrom(new byte[48]))
                            .setWrapNonce(ByteString.copyFrom(new byte[12])));
                }
            }
            default -> { // owner or content type
                if (rnd.nextBoolean()) {
                    b.setOwner(randomBytes(rnd, rnd.nextInt(3) == 0 ? 32 : rnd.nextInt(40)));
                } else {
                    b.setContentType(new String(randomBytes(rnd, rnd.nextInt(300)).toByteArray(), java.nio.charset.StandardCharsets.ISO_8859_1));
                }
            }
        }
        return b.build();
    }

    private static ByteString randomBytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return ByteString.copyFrom(b);
    }
}
