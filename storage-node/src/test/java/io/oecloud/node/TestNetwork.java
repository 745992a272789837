package io.oecloud.node;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.object.ObjectService;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Storage nodes in this JVM on loopback, every one connected to and identified by every other. */
final class TestNetwork implements AutoCloseable {
    final List<StorageNode> nodes = new ArrayList<>();

    private TestNetwork() {}

    /** {@code n} nodes with RS(4,2), 1 MiB segments, objects under 64 KiB inline, 3 manifest copies. */
    static TestNetwork start(Path dir, int n) throws Exception {
        return start(dir, n, new ObjectService.Config(4, 2, 1 << 20, 64 * 1024, 3));
    }

    static TestNetwork start(Path dir, int n, ObjectService.Config config) throws Exception {
        TestNetwork net = new TestNetwork();
        try {
            PrintWriter quiet = new PrintWriter(new StringWriter());
            for (int i = 0; i < n; i++) {
                StorageNode s = StorageNode.start(Identity.generate(), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")),
                        dir.resolve("n" + i), 1L << 30, config);
                List<Multiaddr> boot = new ArrayList<>();
                for (StorageNode o : net.nodes) {
                    boot.add(o.p2p.host.listenAddresses().get(0).withPeerId(o.p2p.host.peerId()));
                }
                s.p2p.bootstrap(boot, quiet);
                net.nodes.add(s);
            }
            for (StorageNode a : net.nodes) {
                for (StorageNode b : net.nodes) {
                    if (a != b) {
                        a.p2p.host.identified(a.p2p.host.dial(b.p2p.host.listenAddresses().get(0).withPeerId(b.p2p.host.peerId())).get()).get();
                    }
                }
            }
            return net;
        } catch (Exception e) {
            net.close();
            throw e;
        }
    }

    StorageNode get(int i) {
        return nodes.get(i);
    }

    /** Blocks held by every node together (shards and manifest copies). */
    int blocks() {
        return nodes.stream().mapToInt(s -> s.store.count()).sum();
    }

    @Override
    public void close() {
        nodes.forEach(StorageNode::close);
    }
}
