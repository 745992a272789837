package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which peers a restarted node offers to bootstrap from, over real sockets: those that connected
 * and identified, never a third party whose address a DHT reply carried.
 */
@Timeout(60)
class BootstrapPeersTest {
    private final TestHosts hosts = new TestHosts();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private static final DhtConfig CONFIG = DhtConfig.defaults().withRequestTimeout(Duration.ofSeconds(2));

    @AfterEach
    void close() {
        hosts.close();
        scheduler.shutdownNow();
    }

    @Test
    void restart_offersPeersThatConnectedAndIdentified_neverAnAddressADhtReplyNamed(@TempDir Path dir) throws Exception {
        try (ServerSocketChannel recorder = ServerSocketChannel.open()) {
            recorder.bind(new InetSocketAddress("127.0.0.1", 0));
            Multiaddr thirdParty = Multiaddr.tcp((InetSocketAddress) recorder.getLocalAddress());
            PeerId x = FakeKadNetwork.randomPeer(new Random(7));

            // m, a DHT server whose FIND_NODE replies name x at the recorder's address
            Host m = hosts.start();
            KadDht dm = HostKadNetwork.attach(m, CONFIG, KadDht.defaultValidators(), scheduler);
            dm.peerSeen(x);
            m.peerStore().addAddrs(x, List.of(thirdParty));

            Host a = hosts.start(HostConfig.defaults().withDataDir(dir)
                    .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(30)));
            KadDht da = HostKadNetwork.attach(a, CONFIG, KadDht.defaultValidators(), scheduler);
            CompletableFuture<Connection> inbound = new CompletableFuture<>();
            Host b = hosts.start(); // a peer that dials a: identified over an inbound connection
            a.onConnection(c -> {
                if (c.remotePeer().equals(b.peerId())) {
                    inbound.complete(c);
                }
            });
            a.identified(a.dial(TestHosts.addr(m)).get(10, TimeUnit.SECONDS)).get(10, TimeUnit.SECONDS);
            b.dial(TestHosts.addr(a)).get(10, TimeUnit.SECONDS);
            a.identified(inbound.get(10, TimeUnit.SECONDS)).get(10, TimeUnit.SECONDS);

            da.bootstrap(List.of(m.peerId())).get(30, TimeUnit.SECONDS); // asks m, which names x
            assertTrue(a.peerStore().addrs(x).contains(thirdParty), "x's address was learned, for lookups");
            a.close();

            Host again = hosts.start(HostConfig.defaults().withDataDir(dir));
            List<Multiaddr> boot = again.peerStore().bootstrapPeers(32);
            assertEquals(Set.of(TestHosts.addr(m), TestHosts.addr(b)), Set.copyOf(boot));
            assertEquals(List.of(), again.peerStore().addrs(x), "nothing a peer told us about x was saved");
        }
    }
}
