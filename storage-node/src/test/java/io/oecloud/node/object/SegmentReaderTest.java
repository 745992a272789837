package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.dht.PeerId;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link SegmentReader} against holders in memory: data shards first, hedging, decoding and its checks. */
@Timeout(30)
class SegmentReaderTest {
    private static final int K = 4;
    private static final int M = 2;
    private static final int SIZE = 100_001; // not a multiple of k: the last data shard is padded

    private final FakeHolders holders = new FakeHolders();
    private final List<PeerId> peers = FakeHolders.peers(K + M);
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final Codecs codecs = new Codecs();
    private final SegmentReader reader = new SegmentReader(
            new ShardFetcher(holders, new Providers((mh, max) -> CompletableFuture.completedFuture(List.of()), p -> { })),
            new Troubled(Ticker.systemTicker(), metrics), codecs, Ticker.systemTicker(), metrics);

    /** The segment's bytes coded into k + m shards, each stored on a peer of its own ({@code on}), and its manifest. */
    private Manifest store(byte[] data, List<PeerId> on) {
        int shardSize = Math.ceilDiv(data.length, K);
        byte[][] s = new byte[K + M][shardSize];
        for (int i = 0; i < K; i++) {
            System.arraycopy(data, i * shardSize, s[i], 0, Math.max(0, Math.min(shardSize, data.length - i * shardSize)));
        }
        codecs.of(K, M).encode(s, 0, shardSize);
        List<Cid> cids = new ArrayList<>();
        Segment.Builder seg = Segment.newBuilder().setSize(data.length);
        for (int i = 0; i < K + M; i++) {
            Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, s[i]);
            cids.add(cid);
            holders.stored.computeIfAbsent(on.get(i), p -> new java.util.concurrent.ConcurrentHashMap<>()).put(cid, s[i]);
            seg.addShards(Shard.newBuilder().setCid(ByteString.copyFrom(cid.toBytes()))
                    .addHolders(ByteString.copyFrom(on.get(i).toBytes())));
        }
        seg.setCid(ByteString.copyFrom(Upload.segmentKey(cids.subList(0, K)).toBytes()));
        return Manifest.newBuilder().setKind(Kind.FILE).setSize(data.length).setSegmentSize(data.length).setK(K).setM(M)
                .addSegments(seg).build();
    }

    private static byte[] random(int seed) {
        byte[] b = new byte[SIZE];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] bytes(Decoded d) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        d.writeTo(out, 0, d.length());
        return out.toByteArray();
    }

    @Test
    void read_withEveryDataShard_returnsThemAsTheyAre_andAsksNoParity() throws Exception {
        byte[] data = random(1);
        Manifest m = store(data, peers);
        Decoded d = reader.read(m, 0, m.getSegments(0), null);
        assertArrayEquals(data, bytes(d));
        assertEquals(K, d.pieces().length, "the data shards themselves, not one joined array");
        assertEquals(0.0, metrics.counter("oe_shard_hedged_requests").count());
    }

    @Test
    void read_aDataShardsHolderNeverAnswers_aHedgeAsksAParityShard_andTheSegmentIsDecoded() throws Exception {
        byte[] data = random(2);
        Manifest m = store(data, peers);
        holders.set(peers.get(1), FakeHolders.Mode.SILENT);
        assertArrayEquals(data, bytes(reader.read(m, 0, m.getSegments(0), null)));
        assertEquals(1.0, metrics.counter("oe_shard_hedged_requests").count());
        assertTrue(holders.silent.get(0).isCancelled(), "the GET that never answered is cancelled once k arrived");
    }

    @Test
    void read_fewerThanKShards_failsWithTheCounts() {
        Manifest m = store(random(3), peers);
        for (int i = 0; i < 3; i++) {
            holders.stored.get(peers.get(i)).clear();
        }
        ObjectException e = assertThrows(ObjectException.class, () -> reader.read(m, 0, m.getSegments(0), null));
        assertEquals(ObjectException.Code.NOT_ENOUGH_SHARDS, e.code());
        assertTrue(e.getMessage().endsWith(": 3 of its shards were found, 4 are needed"), e.getMessage());
    }

    @Test
    void read_parityOfAnotherSegment_decodesToWrongBytes_andIsRefusedAsCorrupt() {
        Manifest m = store(random(4), peers);
        Manifest other = store(random(5), FakeHolders.peers(K + M));
        Segment.Builder mixed = m.getSegments(0).toBuilder();
        for (int i = K; i < K + M; i++) { // every shard matches its own CID; they were not coded together
            mixed.setShards(i, other.getSegments(0).getShards(i));
        }
        holders.stored.get(peers.get(0)).clear(); // a data shard lost: decoding is needed
        ObjectException e = assertThrows(ObjectException.class, () -> reader.read(m, 0, mixed.build(), null));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        assertTrue(e.getMessage().contains("decoded to the wrong bytes: data shard 0"), e.getMessage());
    }

    @Test
    void readSlices_ofEveryRangeShape_asksOnlyTheDataShardsHoldingIt_andNoWholeShard() throws Exception {
        byte[] data = random(6); // shards of 25,001 bytes: 25 chunks, the last one short
        Manifest m = store(data, peers);
        Random rnd = new Random(6);
        int[][] ranges = {{0, 1}, {0, 1024}, {1023, 1025}, {24_000, 27_000}, {25_000, 25_002}, {25_001, 25_002},
            {SIZE - 1, SIZE}, {0, SIZE / 4}, {49_000, 76_000}, {75_003, SIZE}};
        List<int[]> all = new ArrayList<>(List.of(ranges));
        for (int i = 0; i < 40; i++) {
            int a = rnd.nextInt(SIZE);
            all.add(new int[] {a, a + 1 + rnd.nextInt(Math.min(SIZE - a, 30_000))});
        }
        for (int[] r : all) {
            holders.proved.clear();
            assertArrayEquals(java.util.Arrays.copyOfRange(data, r[0], r[1]), reader.readSlices(m, m.getSegments(0), r[0], r[1]),
                    "bytes " + r[0] + "-" + r[1]);
            java.util.Set<PeerId> asked = new java.util.HashSet<>();
            holders.proved.forEach(p -> asked.add(p.peer()));
            java.util.Set<PeerId> want = new java.util.HashSet<>();
            for (int i = r[0] / 25_001; i <= (r[1] - 1) / 25_001; i++) {
                want.add(peers.get(i));
            }
            assertEquals(want, asked, "the data shards holding " + r[0] + "-" + r[1]);
        }
        assertEquals(0.0, metrics.counter("oe_segment_shard_bytes").count());
        assertEquals(0.0, metrics.counter("oe_segment_slice_fallbacks").count());
    }

    @Test
    void readSlices_moreThanAProofHolds_isSplitIntoSeveral() throws Exception {
        byte[] data = new byte[8 << 20]; // shards of 2 MiB
        new Random(7).nextBytes(data);
        Manifest m = store(data, peers);
        int from = 100;
        int to = (3 << 20) / 2 + 100; // 1.5 MiB of shard 0: 1,025 + 512 chunks... in two proofs
        assertArrayEquals(java.util.Arrays.copyOfRange(data, from, to), reader.readSlices(m, m.getSegments(0), from, to));
        assertEquals(2, holders.proved.size());
        assertEquals(2.0, metrics.counter("oe_segment_slices").count());
    }

    @Test
    void readSlices_aDataShardsHolderNeverAnswersOrHasNoCopy_givesNull_soTheWholeSegmentIsRead() throws Exception {
        byte[] data = random(8);
        Manifest m = store(data, peers);
        holders.set(peers.get(1), FakeHolders.Mode.SILENT);
        long t0 = System.nanoTime();
        assertEquals(null, reader.readSlices(m, m.getSegments(0), 24_000, 27_000));
        assertTrue(System.nanoTime() - t0 < java.util.concurrent.TimeUnit.SECONDS.toNanos(6), "within the slice deadline");
        assertTrue(holders.silent.get(0).isCancelled(), "the slice that never came is cancelled");
        holders.stored.get(peers.get(2)).clear();
        assertEquals(null, reader.readSlices(m, m.getSegments(0), 51_000, 52_000));
        assertEquals(2.0, metrics.counter("oe_segment_slice_fallbacks").count());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 30_000),
                java.util.Arrays.copyOf(bytes(reader.read(m, 0, m.getSegments(0), null)), 30_000));
    }

    @Test
    void codecs_areKeptOncePerShape_andShared_exceptLargeOnes() {
        ReedSolomon a = codecs.of(K, M);
        assertTrue(a == codecs.of(K, M), "the same codec, with its decode plans");
        assertTrue(a != codecs.of(10, 4));
        assertTrue(codecs.of(20, 20) != codecs.of(20, 20), "a shape whose plans could take megabytes is not kept");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codecs.of(200, 100));
        assertTrue(e.getMessage().contains("200 + 100"), e.getMessage());
    }
}
