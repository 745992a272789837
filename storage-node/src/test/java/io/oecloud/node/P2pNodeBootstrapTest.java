package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A node started without --bootstrap dials the peers it identified in its last run, and no one else. */
@Timeout(60)
class P2pNodeBootstrapTest {
    private static final List<Multiaddr> LOOPBACK = List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));

    @Test
    void bootstrap_withoutAddresses_afterRestart_dialsIdentifiedPeers_neverAnAddressAPeerNamed(@TempDir Path dir)
            throws Exception {
        PrintWriter quiet = new PrintWriter(new StringWriter());
        try (ServerSocketChannel recorder = ServerSocketChannel.open();
             P2pNode friend = P2pNode.start(Identity.generate(), LOOPBACK, null, true)) {
            recorder.bind(new InetSocketAddress("127.0.0.1", 0));
            recorder.configureBlocking(false);
            Multiaddr friendAddr = friend.host.listenAddresses().get(0).withPeerId(friend.host.peerId());
            Multiaddr thirdParty = Multiaddr.tcp((InetSocketAddress) recorder.getLocalAddress());

            try (P2pNode node = P2pNode.start(Identity.loadOrCreate(dir), LOOPBACK, dir, true)) {
                assertEquals(List.of(friend.host.peerId()), node.bootstrap(List.of(friendAddr), quiet));
                node.host.identified(node.host.connection(friend.host.peerId())).get(10, TimeUnit.SECONDS);
                // what the DHT does with a peer entry in any reply (KadDht.learn): the address is kept to dial
                node.host.peerStore().addAddrs(Identity.generate().peerId(),
                        List.of(thirdParty));
            }

            try (P2pNode again = P2pNode.start(Identity.loadOrCreate(dir), LOOPBACK, dir, true)) {
                assertEquals(List.of(friend.host.peerId()), again.bootstrap(List.of(), quiet));
                // bootstrap waited for every dial it made: a connection to the recorder would be queued now
                assertNull(recorder.accept(), "the restarted node dialed an address a peer had named");
            }
        }
    }
}
