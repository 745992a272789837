package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.Manifests;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectView;
import io.oecloud.node.object.RepairService;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Manifests that pass every check but lie (sizes changed consistently, shards swapped within and
 * across segments and objects, holders dropped or wrong, RS parameters changed with the shard
 * counts kept, segments re-cut, encryption added or removed, directory entries pointing at other
 * objects), signed by their owner, stored on the nodes and then downloaded and repaired on six
 * in-JVM nodes, fixed seed: downloads end in bytes or an ObjectException, never another
 * exception; repair passes complete; and afterwards a real object still downloads and repairs.
 */
@Timeout(180)
class ManifestFuzzNetworkTest {
    private static final int MUTATIONS = 120;
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final int S = 64 * 1024;

    @TempDir
    Path dir;

    private TestNetwork net;
    private List<StorageNode> nodes;
    private final ObjectService.Config config = new ObjectService.Config(4, 2, S, 1024, 3);

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir, 6, config);
        nodes = net.nodes();
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    @Test
    void validButLyingManifests_endInBytesOrObjectException_andTheNetworkStaysHealthy() throws Exception {
        Random rnd = new Random(2222);
        StorageNode owner = nodes.get(0);
        Identity id = owner.p2p.host.identity();
        byte[] a = new byte[3 * S + 1000];
        rnd.nextBytes(a);
        byte[] zeros = new byte[2 * S]; // every shard of a segment has the same CID
        byte[] secret = new byte[S + 77];
        rnd.nextBytes(secret);
        Cid ca = owner.objects.upload(new ByteArrayInputStream(a), "application/x-a");
        Cid cz = owner.objects.upload(new ByteArrayInputStream(zeros), null);
        Cid cs = owner.objects.upload(new ByteArrayInputStream(secret), null, true);
        Cid ci = owner.objects.upload(new ByteArrayInputStream(new byte[500]), "text/plain");
        Cid cd = owner.objects.putDirectory(List.of(new ObjectService.NewEntry("a", ca), new ObjectService.NewEntry("i", ci),
                new ObjectService.NewEntry("z", cz)));
        List<Manifest> bases = new ArrayList<>();
        for (Cid c : List.of(ca, cz, cs, ci, cd)) {
            bases.add(ManifestAccess.manifest(owner.objects, c).toBuilder().clearSignature().build());
        }
        List<Cid> objects = new ArrayList<>(List.of(ca, cz, cs, ci, cd));

        Map<String, Integer> outcomes = new TreeMap<>();
        long deadline = System.nanoTime() + BUDGET_NANOS;
        int done = 0;
        for (; done < MUTATIONS && System.nanoTime() < deadline; done++) {
            Manifest m = bases.get(rnd.nextInt(bases.size()));
            for (int ops = 1 + rnd.nextInt(3); ops > 0; ops--) {
                m = mutate(m, bases, objects, rnd);
            }
            byte[] block = TestManifests.sign(m, id);
            String problem = Manifests.problem(block);
            if (problem != null) {
                outcomes.merge("refused by the validator", 1, Integer::sum);
                continue;
            }
            Cid cid = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, block);
            nodes.get(rnd.nextInt(nodes.size())).store.put(cid, block, id.publicKey());
            objects.add(cid);
            StorageNode reader = nodes.get(rnd.nextInt(nodes.size()));
            outcomes.merge(read(reader, cid, rnd, "mutation " + done), 1, Integer::sum);
            if (done % 40 == 39) {
                repairAll("after mutation " + done);
            }
        }
        repairAll("at the end");
        System.out.println("manifest network fuzz: " + done + " mutations: " + outcomes);
        assertTrue(done >= 60, "only " + done + " mutations ran within the time budget");

        // healthy afterwards: the real object reads back everywhere, and a lost shard is rebuilt
        for (StorageNode n : nodes) {
            assertArrayEquals(a, TestNetwork.read(n, ca));
        }
        Segment seg = ManifestAccess.manifest(owner.objects, ca).getSegments(1);
        StorageNode holder = net.holderOf(seg.getShards(5).getHolders(0));
        assertTrue(holder.store.delete(Cid.fromBytes(seg.getShards(5).getCid().toByteArray())));
        int rebuilt = 0;
        for (StorageNode n : nodes) {
            rebuilt += new RepairService(n.objects, 1).repairOnce().shards();
        }
        assertTrue(rebuilt >= 1, "the lost shard is rebuilt");
        assertArrayEquals(a, TestNetwork.read(nodes.get(3), ca));
    }

    /** Downloads a random range (or walks into a directory): bytes or an ObjectException, nothing else. */
    private String read(StorageNode n, Cid cid, Random rnd, String what) {
        try {
            ObjectView v = n.objects.stat(cid);
            if (v.directory()) {
                List<ObjectStore.DirectoryEntry> entries = v.entries();
                if (entries.isEmpty()) {
                    return "empty directory";
                }
                v = n.objects.resolve(cid, List.of(entries.get(rnd.nextInt(entries.size())).name()));
                if (v.directory()) {
                    return "directory in a directory";
                }
            }
            long from = v.size() == 0 ? 0 : Math.floorMod(rnd.nextLong(), v.size());
            long to = rnd.nextBoolean() ? v.size() : from + Math.floorMod(rnd.nextLong(), v.size() - from + 1);
            long[] written = {0};
            n.objects.read(v, new ObjectStore.ByteSpan(from, to), new OutputStream() {
                @Override
                public void write(int b) {
                    written[0]++;
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    written[0] += len;
                }
            });
            assertEquals(to - from, written[0], what + ": a download that ends without an error wrote its whole range");
            return "downloaded";
        } catch (ObjectException e) {
            return e.code().toString();
        } catch (Throwable t) {
            throw new AssertionError(what + ": download threw " + t, t);
        }
    }

    private void repairAll(String when) {
        for (StorageNode n : nodes) {
            try {
                new RepairService(n.objects, 1).repairOnce();
            } catch (Throwable t) {
                throw new AssertionError("repair pass " + when + " threw " + t, t);
            }
        }
    }

    /** One change that keeps the manifest valid (or, rarely, makes it invalid: then it is refused). */
    private Manifest mutate(Manifest m, List<Manifest> bases, List<Cid> objects, Random rnd) {
        Manifest.Builder b = m.toBuilder();
        int segs = b.getSegmentsCount();
        Manifest other = bases.get(rnd.nextInt(bases.size()));
        switch (rnd.nextInt(12)) {
            case 0 -> { // RS parameters changed, shard counts kept
                int n = b.getK() + b.getM();
                if (n > 1) {
                    int k = 1 + rnd.nextInt(n - 1);
                    b.setK(k).setM(n - k);
                }
            }
            case 1 -> { // two shards of a segment swapped
                if (segs > 0) {
                    int i = rnd.nextInt(segs);
                    Segment.Builder s = b.getSegments(i).toBuilder();
                    int x = rnd.nextInt(s.getShardsCount());
                    int y = rnd.nextInt(s.getShardsCount());
                    Shard sx = s.getShards(x);
                    s.setShards(x, s.getShards(y)).setShards(y, sx);
                    b.setSegments(i, s);
                }
            }
            case 2 -> { // a shard taken from another segment or object
                if (segs > 0 && other.getSegmentsCount() > 0) {
                    int i = rnd.nextInt(segs);
                    Segment o = other.getSegments(rnd.nextInt(other.getSegmentsCount()));
                    Segment.Builder s = b.getSegments(i).toBuilder();
                    int j = rnd.nextInt(Math.min(s.getShardsCount(), o.getShardsCount()));
                    b.setSegments(i, s.setShards(j, o.getShards(j)));
                }
            }
            case 3 -> { // holders dropped, or pointing at the wrong node
                if (segs > 0) {
                    int i = rnd.nextInt(segs);
                    Segment.Builder s = b.getSegments(i).toBuilder();
                    for (int j = 0; j < s.getShardsCount(); j++) {
                        if (rnd.nextBoolean()) {
                            Shard.Builder sh = s.getShards(j).toBuilder().clearHolders();
                            if (rnd.nextBoolean()) {
                                sh.addHolders(ByteString.copyFrom(nodes.get(rnd.nextInt(nodes.size())).p2p.host.peerId().toBytes()));
                            }
                            s.setShards(j, sh);
                        }
                    }
                    b.setSegments(i, s);
                }
            }
            case 4 -> { // the object cut short at a segment boundary
                if (segs > 1) {
                    int keep = 1 + rnd.nextInt(segs - 1);
                    List<Segment> kept = new ArrayList<>(b.getSegmentsList().subList(0, keep));
                    b.clearSegments().addAllSegments(kept).setSize((long) keep * b.getSegmentSize());
                }
            }
            case 5 -> { // the last segment shorter or longer, the size with it
                if (segs > 0 && b.getSegmentSize() > 0) {
                    Segment last = b.getSegments(segs - 1);
                    long size = Math.clamp(last.getSize() + rnd.nextInt(2001) - 1000, 1, b.getSegmentSize());
                    b.setSegments(segs - 1, last.toBuilder().setSize(size)).setSize(b.getSize() - last.getSize() + size);
                }
            }
            case 6 -> { // segments re-cut at another size, the shard lists reused in order
                if (segs > 0) {
                    int s2 = rnd.nextBoolean() ? b.getSegmentSize() * 2 : Math.max(b.getK(), b.getSegmentSize() / 2);
                    List<Segment> old = b.getSegmentsList();
                    long size = b.getSize();
                    b.clearSegments().setSegmentSize(s2);
                    for (int i = 0; (long) i * s2 < size; i++) {
                        b.addSegments(old.get(i % old.size()).toBuilder().setSize(Math.min(s2, size - (long) i * s2)));
                    }
                }
            }
            case 7 -> { // segment keys swapped with another object's
                if (segs > 0 && other.getSegmentsCount() > 0) {
                    int i = rnd.nextInt(segs);
                    b.setSegments(i, b.getSegments(i).toBuilder().setCid(other.getSegments(0).getCid()));
                }
            }
            case 8 -> { // encryption added (a key nobody can unwrap) or removed
                if (b.hasEncryption()) {
                    b.clearEncryption();
                } else if (segs > 0) {
                    byte[] key = new byte[48];
                    rnd.nextBytes(key);
                    b.setEncryption(Encryption.newBuilder().setAlgorithm("AES-256-GCM").setWrappedKey(ByteString.copyFrom(key))
                            .setWrapNonce(ByteString.copyFrom(new byte[12])));
                }
            }
            case 9 -> { // inline bytes instead of segments
                if (!b.hasEncryption() && b.getKind() == Kind.FILE && b.getSize() < 100_000) {
                    byte[] bytes = new byte[(int) b.getSize()];
                    rnd.nextBytes(bytes);
                    b.clearSegments().setInlineData(ByteString.copyFrom(bytes));
                }
            }
            case 10 -> { // a directory entry pointing at another object (maybe a lying one), sizes kept consistent
                if (b.getKind() == Kind.DIRECTORY && b.getEntriesCount() > 0) {
                    int i = rnd.nextInt(b.getEntriesCount());
                    Entry e = b.getEntries(i);
                    long size = rnd.nextInt(1 << 20);
                    b.setEntries(i, e.toBuilder().setCid(ByteString.copyFrom(objects.get(rnd.nextInt(objects.size())).toBytes()))
                            .setSize(size).setKind(rnd.nextBoolean() ? Kind.FILE : Kind.DIRECTORY)).setSize(b.getSize() - e.getSize() + size);
                }
            }
            default -> b.setContentType(new String[] {"text/html", "image/svg+xml", "", "application/x-fuzz; q=1"}[rnd.nextInt(4)]);
        }
        return b.build();
    }
}
