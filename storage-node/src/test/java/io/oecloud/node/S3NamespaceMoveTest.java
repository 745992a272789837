package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.s3.NamespaceKey;
import io.oecloud.node.s3.S3Keys;
import io.oecloud.node.s3.S3Server;
import io.oecloud.node.s3.S3Snapshots;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketCannedACL;

/**
 * The S3 namespace key, not the node, owns the gateway's objects: node A's gateway stores a
 * private and a public object and publishes a snapshot; node B (another node identity) installs a
 * copy of A's namespace key, restores the index and reads both back, deletes one and its pins go;
 * a node without the namespace key cannot open the private object, and A's node key owns nothing.
 */
class S3NamespaceMoveTest {
    @TempDir
    Path dir;

    private TestNetwork net;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        net = TestNetwork.start(dir.resolve("net"), 6);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        net.close();
    }

    /** A gateway on {@code node} whose data directory is {@code dataDir}, its objects owned by the key in {@code dataDir/s3}. */
    private S3Server gateway(StorageNode node, Path dataDir, List<Cid> published) throws IOException {
        Identity namespace = Identity.loadOrCreate(dataDir.resolve("s3"));
        S3Server s = S3Server.start(S3Server.Config.defaults(new InetSocketAddress("127.0.0.1", 0)), dataDir,
                node.owning(namespace).objects(), null, k -> { }, (name, cid) -> published.add(cid));
        closing.add(s);
        return s;
    }

    private S3Client client(S3Server s, S3Keys.Key key) {
        S3Client c = S3Client.builder().endpointOverride(URI.create("http://127.0.0.1:" + s.address().getPort()))
                .region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secret())))
                .httpClient(UrlConnectionHttpClient.create()).build();
        closing.add(c);
        return c;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAll(ObjectStore objects, Cid cid) throws IOException, ObjectException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var v = objects.stat(cid);
        objects.read(v, ObjectStore.ByteSpan.all(v.size()), out);
        return out.toByteArray();
    }

    @Test
    void aNamespaceRestoredOnAnotherNode_readsDeletesAndOwnsItsObjects_whileNoNodeKeyOpensThem() throws Exception {
        StorageNode a = net.get(0);
        StorageNode b = net.get(1);
        StorageNode c = net.get(2);
        Path dirA = dir.resolve("gateway-a");
        List<Cid> published = new ArrayList<>();
        S3Server gwA = gateway(a, dirA, published);
        S3Keys.Key key = S3Keys.in(dirA).list().getFirst();
        S3Client s3a = client(gwA, key);
        byte[] secret = random(300_000, 1);
        byte[] open = random(200_000, 2);
        s3a.createBucket(r -> r.bucket("private"));
        s3a.createBucket(r -> r.bucket("public").acl(BucketCannedACL.PUBLIC_READ));
        s3a.putObject(r -> r.bucket("private").key("secret.bin"), RequestBody.fromBytes(secret));
        s3a.putObject(r -> r.bucket("public").key("open.bin"), RequestBody.fromBytes(open));
        Cid snapshot = Cid.parse(gwA.snapshots().take());
        assertEquals(List.of(snapshot), published);

        // what A's gateway stored belongs to the namespace key: A's node key owns none of it
        Identity namespace = Identity.loadOrCreate(dirA.resolve("s3"));
        ObjectStore.ObjectInfo privatePiece = a.owning(namespace).objects().list().stream()
                .filter(ObjectStore.ObjectInfo::encrypted).findFirst().orElseThrow();
        Cid secretCid = privatePiece.cid();
        Manifest manifest = Manifest.parseFrom(a.store.get(secretCid));
        assertArrayEquals(namespace.publicKey(), manifest.getOwner().toByteArray(), "the manifest names the namespace key");
        assertTrue(a.objects.list().isEmpty(), "the node's own key owns nothing the gateway stored");
        assertEquals(ObjectException.Code.NOT_OWNER, assertThrows(ObjectException.class, () -> a.objects.unpin(secretCid)).code());
        List<Cid> shards = new ArrayList<>();
        for (Segment seg : manifest.getSegmentsList()) {
            for (Shard sh : seg.getShardsList()) {
                shards.add(Cid.fromBytes(sh.getCid().toByteArray()));
            }
        }
        assertFalse(shards.isEmpty(), "300 KB is stored in shards, not inline");
        assertTrue(pinnedBy(namespace, shards) >= shards.size(), "every shard is pinned by the namespace key");
        assertEquals(0, pinnedBy(a.p2p.host.identity(), shards), "and none by A's node key");
        closing.remove(gwA);
        gwA.close();

        // B: a fresh node takes the namespace over with a copy of the key (as `oe s3 restore` does)
        Path copy = dir.resolve("copied.key");
        Files.copy(NamespaceKey.file(dirA), copy);
        Path dirB = dir.resolve("gateway-b");
        Identity restored = NamespaceKey.read(copy);
        assertTrue(NamespaceKey.checkInstallable(restored, dirB, false));
        S3Snapshots.restore(restored, snapshot, readAll(b.objects, snapshot), dirB.resolve("s3")); // the index first, then the key
        assertNull(NamespaceKey.install(restored, dirB, false));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(NamespaceKey.file(dirB))));
        S3Keys.Key keyB = S3Keys.in(dirB).create(System.currentTimeMillis());
        S3Server gwB = gateway(b, dirB, new ArrayList<>());
        S3Client s3b = client(gwB, keyB);
        assertArrayEquals(secret, s3b.getObjectAsBytes(r -> r.bucket("private").key("secret.bin")).asByteArray());
        assertArrayEquals(open, s3b.getObjectAsBytes(r -> r.bucket("public").key("open.bin")).asByteArray());

        // a node without the namespace key cannot open the private piece, neither as itself nor with another namespace
        assertEquals(ObjectException.Code.NOT_OWNER, assertThrows(ObjectException.class, () -> readAll(c.objects, secretCid)).code());
        assertEquals(ObjectException.Code.NOT_OWNER, assertThrows(ObjectException.class,
                () -> readAll(c.owning(Identity.generate()).objects(), secretCid)).code());

        // B deletes it: the namespace key's pins go from every holder
        s3b.deleteObject(r -> r.bucket("private").key("secret.bin"));
        assertEquals(0, pinnedBy(namespace, shards), "no shard of the deleted object is pinned by the namespace key");
        assertEquals(0, pinnedBy(namespace, List.of(secretCid)), "nor a copy of its manifest");
        assertThrows(software.amazon.awssdk.services.s3.model.NoSuchKeyException.class,
                () -> s3b.getObjectAsBytes(r -> r.bucket("private").key("secret.bin")));
        assertArrayEquals(open, s3b.getObjectAsBytes(r -> r.bucket("public").key("open.bin")).asByteArray(), "the other stays");
    }

    /** Pins of {@code key} on the given blocks, over every node's store. */
    private int pinnedBy(Identity key, List<Cid> blocks) throws Exception {
        int n = 0;
        for (StorageNode node : net.nodes()) {
            for (Cid cid : blocks) {
                StoredShard s = node.store.metadata(cid);
                if (s != null && s.isPinnedBy(key.publicKey())) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void installingANamespaceKey_refusesToReplaceAnother_unlessAsked_andSetsTheOldOneAside() throws Exception {
        Path node = dir.resolve("node");
        Identity old = Identity.loadOrCreate(node.resolve("s3"));
        Identity given = Identity.generate();
        IOException refused = assertThrows(IOException.class, () -> NamespaceKey.install(given, node, false));
        assertTrue(refused.getMessage().contains("--replace-namespace-key"), refused.getMessage());
        assertArrayEquals(old.publicKey(), NamespaceKey.read(NamespaceKey.file(node)).publicKey(), "untouched");
        assertNull(NamespaceKey.install(old, node, false), "the same key again: nothing to do");
        Path aside = NamespaceKey.install(given, node, true);
        assertArrayEquals(given.publicKey(), NamespaceKey.read(NamespaceKey.file(node)).publicKey());
        assertArrayEquals(old.publicKey(), NamespaceKey.read(aside).publicKey(), "the replaced key is kept aside");
        Path junk = Files.writeString(dir.resolve("junk.key"), "not a key");
        assertTrue(assertThrows(IOException.class, () -> NamespaceKey.read(junk)).getMessage().contains("is not a namespace key"));
    }
}
