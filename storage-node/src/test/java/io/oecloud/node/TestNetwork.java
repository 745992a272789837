package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import io.oecloud.node.api.ApiAccess;
import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.dht.PeerId;
import io.oecloud.node.object.ObjectService;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectView;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Storage nodes in this JVM on loopback, each connected to and identified by every other live one:
 * the one fixture of the in-JVM network tests. Node {@code i} keeps its identity and its directory
 * ({@code DIR/node-i}) for the life of the fixture, so a node lost with {@link #kill} or
 * {@link #stop} comes back with {@link #restart} holding what it held. Not thread-safe: the test's
 * thread drives it. {@link #close()} closes every node.
 */
final class TestNetwork implements AutoCloseable {
    /** RS(4,2), 1 MiB segments, objects under 64 KiB inline, 3 manifest copies. */
    static final ObjectService.Config CONFIG = new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3);
    /** Every wait on a dial or an identify: loopback answers in milliseconds, so this means "never". */
    private static final long WAIT_SECONDS = 30;

    private final Path dir;
    private final List<Identity> ids = new ArrayList<>();
    private final List<ObjectService.Config> configs = new ArrayList<>();
    private final List<StorageNode> nodes = new ArrayList<>();
    private final Set<Integer> down = new HashSet<>();

    private TestNetwork(Path dir) {
        this.dir = dir;
    }

    /** {@code n} nodes with {@link #CONFIG}. */
    static TestNetwork start(Path dir, int n) throws Exception {
        return start(dir, n, CONFIG);
    }

    /** {@code n} nodes with {@code config}, each bootstrapped from the ones before it, then all connected. */
    static TestNetwork start(Path dir, int n, ObjectService.Config config) throws Exception {
        TestNetwork net = new TestNetwork(dir);
        try {
            for (int i = 0; i < n; i++) {
                net.add(config);
            }
            return net;
        } catch (Exception e) {
            net.close();
            throw e;
        }
    }

    /** A node joining with {@code config}: it bootstraps its DHT from the live nodes and connects to each; it gets the next index. */
    StorageNode add(ObjectService.Config config) throws Exception {
        int i = nodes.size();
        ids.add(Identity.generate());
        configs.add(config);
        StorageNode s = open(i);
        nodes.add(s);
        List<Multiaddr> boot = new ArrayList<>();
        for (StorageNode o : live()) {
            if (o != s) {
                boot.add(addr(o));
            }
        }
        if (!boot.isEmpty()) {
            s.p2p.bootstrap(boot, new PrintWriter(new StringWriter()));
        }
        connect(i);
        return s;
    }

    private StorageNode open(int i) throws Exception {
        return StorageNode.start(ids.get(i), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")), dir.resolve("node-" + i),
                1L << 30, configs.get(i));
    }

    private static Multiaddr addr(StorageNode n) {
        return n.p2p.host.listenAddresses().get(0).withPeerId(n.p2p.host.peerId());
    }

    /** Node i dials every other live node, and both sides identify (a devnet is small: everyone knows everyone). */
    private void connect(int i) throws Exception {
        StorageNode n = nodes.get(i);
        for (int j = 0; j < nodes.size(); j++) {
            if (j == i || down.contains(j)) {
                continue;
            }
            StorageNode o = nodes.get(j);
            var c = n.p2p.host.dial(addr(o)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            n.p2p.host.identified(c).get(WAIT_SECONDS, TimeUnit.SECONDS);
            // o answered n's identify over this connection, so o has it too by now
            o.p2p.host.identified(o.p2p.host.connection(n.p2p.host.peerId())).get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    StorageNode get(int i) {
        return nodes.get(i);
    }

    /** Every node by index, lost ones included (a view: a restart shows the new node). */
    List<StorageNode> nodes() {
        return Collections.unmodifiableList(nodes);
    }

    /** The nodes not lost, by index. */
    List<StorageNode> live() {
        List<StorageNode> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (!down.contains(i)) {
                out.add(nodes.get(i));
            }
        }
        return out;
    }

    int size() {
        return nodes.size();
    }

    int indexOf(StorageNode n) {
        int i = nodes.indexOf(n);
        if (i < 0) {
            throw new IllegalArgumentException("node " + n.p2p.host.peerId() + " is not in this network");
        }
        return i;
    }

    /** The node whose peer ID is {@code peer} (a manifest's holder bytes). */
    StorageNode holderOf(ByteString peer) {
        PeerId p = PeerId.fromBytes(peer.toByteArray());
        return nodes.stream().filter(n -> n.p2p.host.peerId().equals(p)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + p + " in this network"));
    }

    /** Node i lost as kill -9 looks to the others: its connections drop at once and it answers nothing more; its store stays open. */
    void kill(int i) {
        down.add(i);
        nodes.get(i).p2p.close();
    }

    /** Node i stops whole (connections, store, threads). */
    void stop(int i) {
        down.add(i);
        nodes.get(i).close();
    }

    /** Node i comes back: same identity, same disk (its shards), and connects to the others. */
    StorageNode restart(int i) throws Exception {
        quietClose(nodes.get(i));
        nodes.set(i, open(i));
        down.remove(i);
        connect(i);
        return nodes.get(i);
    }

    /** The whole network stops and starts again on the same disks, every node connected to every other. */
    void restartAll() throws Exception {
        for (StorageNode n : nodes) {
            quietClose(n);
        }
        for (int i = 0; i < nodes.size(); i++) {
            nodes.set(i, open(i));
        }
        down.clear();
        for (int i = 0; i < nodes.size(); i++) {
            connect(i);
        }
    }

    /** Shard writes under way finish before the store closes, so the next start finds the disk as it was left. */
    private static void quietClose(StorageNode n) throws InterruptedException {
        n.io.shutdown();
        n.io.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS);
        n.close();
    }

    /** An API server for node i, on a free loopback port; the caller closes it. */
    NodeApiServer api(int i, ApiAccess access, NodeApiServer.Limits limits) throws Exception {
        StorageNode n = nodes.get(i);
        return new NodeApiServer(n.p2p.service(() -> { }), n.objects, access, limits)
                .withStatus(n).start(new InetSocketAddress("127.0.0.1", 0));
    }

    /** Blocks held by every node together (shards and manifest copies). */
    int blocks() {
        return nodes.stream().mapToInt(s -> s.store.count()).sum();
    }

    /** The whole object {@code cid} as node {@code n} downloads it. */
    static byte[] read(StorageNode n, Cid cid) throws Exception {
        ObjectView v = n.objects.stat(cid);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        n.objects.read(v, ObjectStore.ByteSpan.all(v.size()), out);
        return out.toByteArray();
    }

    @Override
    public void close() {
        nodes.forEach(StorageNode::close);
    }
}
