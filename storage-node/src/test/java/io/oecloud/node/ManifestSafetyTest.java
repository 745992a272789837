package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.node.object.ManifestAccess;
import io.oecloud.node.object.Manifests;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.RepairService;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, "manifest poison": any peer could store a 200-byte manifest with k = 2^31 - 1; the next
 * repair pass died with OutOfMemoryError (and the scheduled task with it, for good), POST
 * /v1/repair answered 502 from then on, and the node had copied the poison to two more nodes
 * first. Eight nodes, RS(4,2), real stores and sockets.
 */
@Timeout(180)
class ManifestSafetyTest {
    @TempDir
    Path dir;

    private TestNetwork net;
    private List<StorageNode> nodes;
    private final ObjectService.Config config = new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3);
    private final byte[] stranger = Identity.generate().publicKey();

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir, 8, config);
        nodes = net.nodes();
    }

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    private static Cid cidOf(byte[] manifest) {
        return Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, manifest);
    }

    /** Uploads random bytes through node 0 and loses the shard of a holder other than node 0. */
    private Cid uploadAndLoseAShard(byte[] data) throws Exception {
        StorageNode uploader = nodes.get(0);
        Cid cid = uploader.objects.upload(new ByteArrayInputStream(data), null);
        Segment seg = ManifestAccess.manifest(uploader.objects, cid).getSegments(0);
        for (int i = 0; i < seg.getShardsCount(); i++) {
            StorageNode holder = net.holderOf(seg.getShards(i).getHolders(0));
            if (holder != uploader) {
                assertTrue(holder.store.delete(Cid.fromBytes(seg.getShards(i).getCid().toByteArray())));
                return cid;
            }
        }
        throw new AssertionError("every shard sits on the uploader");
    }

    private long holdersOf(Cid cid) {
        return nodes.stream().filter(n -> {
            try {
                return n.store.metadata(cid) != null;
            } catch (Exception e) {
                return false;
            }
        }).count();
    }

    @Test
    void poisonManifest_kOfTwoToThe31_isRefused_neverCopied_andEveryPassRepairsTheRest() throws Exception {
        byte[] data = new byte[(1 << 20) - 1000];
        new Random(31).nextBytes(data);
        Cid healthy = uploadAndLoseAShard(data);
        Manifest real = ManifestAccess.manifest(nodes.get(0).objects, healthy);
        // m = 0 so that k + m = 2^31 - 1: the largest array a JVM refuses with OutOfMemoryError
        byte[] poison = real.toBuilder().clearSignature().setK(Integer.MAX_VALUE).setM(0).build().toByteArray();
        byte[] lonePoison = real.toBuilder().clearSignature().setK(Integer.MAX_VALUE).setM(0).setContentType("x").build().toByteArray();
        assertTrue(poison.length < 600, "a small manifest, " + poison.length + " bytes");
        for (StorageNode n : nodes) {
            n.store.put(cidOf(poison), poison, stranger); // every node holds it and meets it in its pass
        }
        nodes.get(1).store.put(cidOf(lonePoison), lonePoison, stranger); // only node 1: nobody may copy it

        int rebuilt = 0;
        for (StorageNode n : nodes) {
            RepairService.Repaired r = new RepairService(n.objects, 1).repairOnce();
            rebuilt += r.shards();
            assertTrue(r.failed() >= 1, "the poison is counted as a failure on every node");
        }
        assertEquals(1, rebuilt, "the healthy object's lost shard is rebuilt in the same passes");
        assertEquals(1, holdersOf(cidOf(lonePoison)), "the poison is never copied to another node");
        assertEquals(8, holdersOf(cidOf(poison)));

        ObjectException e = assertThrows(ObjectException.class, () -> nodes.get(2).objects.stat(cidOf(poison)));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        assertTrue(e.getMessage().contains("RS(2147483647, 0) is out of range"), e.getMessage());

        // POST /v1/repair (scrub and repair now) answers with its counts, not an error
        Map<String, Object> now = nodes.get(1).upkeepNow();
        assertFalse(now.containsKey("error"), now.toString());
        assertEquals(2, now.get("failed"), "both poisons on node 1 refused: " + now);
        assertArrayEquals(data, TestNetwork.read(nodes.get(5), healthy));
    }

    /** The hook throws an Error from inside one manifest's repair, as an OutOfMemoryError would. */
    @Test
    void aPassThatMeetsAnErrorDeepInside_goesOn_andTheNextPassRepairsTheLostShard() throws Exception {
        byte[] data = new byte[700_000];
        new Random(32).nextBytes(data);
        byte[] other = new byte[500_000];
        new Random(33).nextBytes(other);
        Cid lossy = uploadAndLoseAShard(data);
        Cid alsoLossy = uploadAndLoseAShard(other);
        Set<StorageNode> hit = ConcurrentHashMap.newKeySet();
        List<RepairService> repairs = new ArrayList<>();
        for (StorageNode n : nodes) {
            repairs.add(new RepairService(n.objects, 1).beforeManifest(cid -> {
                if (cid.equals(lossy) && hit.add(n)) {
                    throw new OutOfMemoryError("injected: Java heap space");
                }
            }));
        }
        int failed = 0;
        int rebuilt = 0;
        for (RepairService r : repairs) {
            RepairService.Repaired done = r.repairOnce();
            failed += done.failed();
            rebuilt += done.shards();
        }
        assertEquals(config.manifestReplicas(), failed, "each holder of the manifest met the Error once");
        assertEquals(1, rebuilt, "the pass went on: the other object's lost shard is rebuilt");
        rebuilt = 0;
        for (RepairService r : repairs) {
            rebuilt += r.repairOnce().shards();
        }
        assertEquals(1, rebuilt, "the next pass repairs what the failed one could not");
        assertArrayEquals(data, TestNetwork.read(nodes.get(6), lossy));
        assertArrayEquals(other, TestNetwork.read(nodes.get(7), alsoLossy));
    }

    @Test
    void manifestsWithoutAValidOwnerSignature_areNeitherListedNorCopied_unsignedOnesStillDownload() throws Exception {
        StorageNode me = nodes.get(0);
        byte[] data = new byte[200_000];
        new Random(34).nextBytes(data);
        Cid mine = me.objects.upload(new ByteArrayInputStream(data), "application/x-mine");
        byte[] block = me.store.get(mine);
        assertTrue(Manifests.parse(block).signed(), "an upload's manifest carries its owner's signature");
        assertArrayEquals(block, TestManifests.sign(Manifests.parse(block).manifest(), me.p2p.host.identity()),
                "signed as manifest.proto describes");
        Manifest real = Manifests.parse(block).manifest();
        byte[] myKey = me.p2p.host.identity().publicKey();

        // written before signatures (or by anyone in this node's name): no signature
        byte[] unsigned = real.toBuilder().clearSignature().setContentType("application/x-legacy").build().toByteArray();
        // the node's own signature on other bytes
        byte[] forged = real.toBuilder().setContentType("application/x-forged").build().toByteArray();
        // a stranger's valid manifest pinned under this node's key (it would show in `oe ls`)
        Identity strangerId = Identity.generate();
        byte[] foreign = TestManifests.sign(real.toBuilder().setOwner(ByteString.copyFrom(strangerId.publicKey())).build(), strangerId);
        for (byte[] b : List.of(unsigned, forged, foreign)) {
            me.store.put(cidOf(b), b, myKey);
        }

        List<Cid> listed = me.objects.list().stream().map(ObjectService.ObjectInfo::cid).toList();
        assertEquals(List.of(mine), listed, "only the manifest signed with this node's key is listed");

        for (StorageNode n : nodes) {
            new RepairService(n.objects, 1).repairOnce();
        }
        assertEquals(1, holdersOf(cidOf(unsigned)), "an unsigned manifest is never copied");
        assertEquals(1, holdersOf(cidOf(forged)), "a manifest whose signature fails is never copied");
        assertTrue(holdersOf(cidOf(foreign)) >= 3, "a stranger's signed, valid manifest is copied like any other");

        assertArrayEquals(data, TestNetwork.read(nodes.get(3), cidOf(unsigned)), "the CID anchors an unsigned manifest: it downloads");

        // an unsigned manifest in this node's name on another node cannot make it unpin the shards it names
        byte[] bait = real.toBuilder().clearSignature().setContentType("application/x-bait").build().toByteArray();
        nodes.get(1).store.put(cidOf(bait), bait, stranger);
        ObjectException refused = assertThrows(ObjectException.class, () -> me.objects.unpin(cidOf(bait)));
        assertEquals(ObjectException.Code.NOT_OWNER, refused.code(), refused.getMessage());
        for (StorageNode n : nodes) {
            n.store.collectGarbage(0);
        }
        assertArrayEquals(data, TestNetwork.read(nodes.get(2), mine), "the real object keeps its pins");
        ObjectException e = assertThrows(ObjectException.class, () -> nodes.get(3).objects.stat(cidOf(forged)));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        assertTrue(e.getMessage().contains("signature does not verify against its owner key"), e.getMessage());
    }

    @Test
    void directoryWalks_andDownloads_refuseManifestsThatDoNotValidate() throws Exception {
        StorageNode me = nodes.get(0);
        Identity id = me.p2p.host.identity();
        Cid file = me.objects.upload(new ByteArrayInputStream(new byte[300_000]), null);
        Manifest real = ManifestAccess.manifest(me.objects, file);
        byte[] poison = TestManifests.sign(real.toBuilder().setSegments(0, real.getSegments(0).toBuilder().setSize(-1)).build(), id);
        me.store.put(cidOf(poison), poison, id.publicKey());
        Manifest dir = Manifest.newBuilder().setKind(Kind.DIRECTORY).setContentType(ObjectService.DIRECTORY_TYPE)
                .setOwner(ByteString.copyFrom(id.publicKey())).setSize(real.getSize())
                .addEntries(Entry.newBuilder().setName("bad").setCid(ByteString.copyFrom(cidOf(poison).toBytes()))
                        .setSize(real.getSize())).build();
        byte[] dirBlock = TestManifests.sign(dir, id);
        me.store.put(cidOf(dirBlock), dirBlock, id.publicKey());
        ObjectException e = assertThrows(ObjectException.class, () -> nodes.get(4).objects.resolve(cidOf(dirBlock), List.of("bad")));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        assertTrue(e.getMessage().contains("segment 0 holds 18446744073709551615 bytes"), e.getMessage());
        // a manifest a caller changed is checked again by download itself
        Manifest wrong = real.toBuilder().setK(Integer.MAX_VALUE).build();
        e = assertThrows(ObjectException.class, () -> ManifestAccess.download(me.objects, wrong, 0, 10, new java.io.ByteArrayOutputStream()));
        assertEquals(ObjectException.Code.CORRUPT, e.code());
        // a content type no manifest may carry is refused before the upload reads a byte
        e = assertThrows(ObjectException.class, () -> me.objects.upload(new ByteArrayInputStream(new byte[10]), "text/plain\u00e9"));
        assertEquals(ObjectException.Code.BAD_INPUT, e.code());
    }

    @Test
    void aPeerPuttingAManifestThatDoesNotValidate_isRefused_andTheHolderStoresNothing() throws Exception {
        byte[] data = new byte[(1 << 20) - 1000];
        new Random(12).nextBytes(data);
        Cid cid = nodes.get(0).objects.upload(new ByteArrayInputStream(data), null);
        Manifest real = ManifestAccess.manifest(nodes.get(0).objects, cid);
        Identity peerKey = Identity.generate(); // a stranger's key: it may pin within its quota
        io.oecloud.node.shard.ShardClient peer = new io.oecloud.node.shard.ShardClient(nodes.get(0).p2p.host, peerKey, 20_000);
        io.oecloud.dht.PeerId holder = nodes.get(1).p2p.host.peerId();

        byte[] poison = TestManifests.sign(real.toBuilder().setK(Integer.MAX_VALUE).setM(0).build(), peerKey);
        byte[] unsigned = real.toBuilder().clearSignature().setContentType("x/y").build().toByteArray();
        byte[] forged = real.toBuilder().setContentType("x/z").build().toByteArray(); // the owner's old signature
        for (byte[] bad : List.of(poison, unsigned, forged)) {
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> peer.put(holder, cidOf(bad), bad).get(20, java.util.concurrent.TimeUnit.SECONDS));
            io.oecloud.node.shard.ShardException se = (io.oecloud.node.shard.ShardException) e.getCause();
            assertEquals(io.oecloud.node.pb.ShardProto.ShardResponse.Status.BAD_REQUEST, se.status(), se.getMessage());
            assertTrue(se.getMessage().contains("refused " + cidOf(bad) + ": "), se.getMessage());
            assertEquals(null, nodes.get(1).store.metadata(cidOf(bad)), "a refused manifest is not stored");
        }
        // a manifest that validates, signed by the key it names, is taken from the same peer
        byte[] good = TestManifests.sign(real.toBuilder().setContentType("x/w").setOwner(ByteString.copyFrom(peerKey.publicKey())).build(), peerKey);
        peer.put(holder, cidOf(good), good).get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(nodes.get(1).store.has(cidOf(good)));
    }
}
