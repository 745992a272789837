package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The peer store keeps what strangers tell it apart from what it saw, and bounds both. */
@Timeout(60)
class PeerStoreTest {
    private final Random rnd = new Random(20261223);

    private static Multiaddr tcp(String ip, int port) {
        return Multiaddr.tcp(new InetSocketAddress(ip, port));
    }

    /** A connection that exists only for {@link PeerStore#reached}. */
    private static Connection connection(boolean outbound, InetSocketAddress remote) {
        return new Connection() {
            @Override
            public PeerId remotePeer() {
                return null;
            }

            @Override
            public byte[] remotePublicKey() {
                return null;
            }

            @Override
            public InetSocketAddress remoteAddress() {
                return remote;
            }

            @Override
            public boolean isOutbound() {
                return outbound;
            }

            @Override
            public CompletableFuture<P2pStream> newStream(String protocol, StreamHandler handler) {
                throw new UnsupportedOperationException();
            }

            @Override
            public int streamCount() {
                return 0;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
    }

    private static final PeerStore.Identified INFO =
            new PeerStore.Identified(List.of("/ipfs/kad/1.0.0"), "test", "ipfs/0.1.0");

    @Test
    void save_keepsIdentifiedPeersOnly_soARestartBootstrapsFromNoAddressAStrangerNamed(@TempDir Path dir) throws Exception {
        PeerStore store = new PeerStore(dir);
        PeerId friend = FakeKadNetwork.randomPeer(rnd);
        PeerId named = FakeKadNetwork.randomPeer(rnd); // a third party a DHT reply told us about
        store.addAddrs(friend, List.of(tcp("127.0.0.1", 4002)));
        store.identified(friend, INFO, List.of(tcp("127.0.0.1", 4002)));
        store.addAddrs(named, List.of(tcp("127.0.0.1", 9)));
        assertEquals(List.of(tcp("127.0.0.1", 9)), store.addrs(named), "usable for lookups meanwhile");
        store.save();

        PeerStore again = new PeerStore(dir);
        again.load();
        assertEquals(List.of(tcp("127.0.0.1", 4002).withPeerId(friend)), again.bootstrapPeers(32));
        assertEquals(List.of(), again.addrs(named));
        assertTrue(!Files.readString(dir.resolve(PeerStore.FILE)).contains(named.toString()));
    }

    @Test
    void load_fileWithoutTheHeader_givesNoBootstrapPeers_butKeepsItsAddressesForDialing(@TempDir Path dir) throws Exception {
        PeerId p = FakeKadNetwork.randomPeer(rnd);
        Files.writeString(dir.resolve(PeerStore.FILE), p + " /ip4/127.0.0.1/tcp/4003\n", StandardCharsets.UTF_8);
        PeerStore store = new PeerStore(dir);
        store.load();
        assertEquals(List.of(), store.bootstrapPeers(32));
        assertEquals(List.of(tcp("127.0.0.1", 4003)), store.addrs(p));
    }

    @Test
    void bootstrapPeers_mostRecentlyIdentifiedFirst_andSurviveARestartInThatOrder(@TempDir Path dir) throws Exception {
        PeerStore store = new PeerStore(dir);
        List<PeerId> peers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            peers.add(FakeKadNetwork.randomPeer(rnd));
            store.identified(peers.get(i), INFO, List.of(tcp("127.0.0.1", 5000 + i)));
        }
        store.identified(peers.get(1), INFO, List.of(tcp("127.0.0.1", 6001))); // seen again, elsewhere
        List<Multiaddr> expected = List.of(tcp("127.0.0.1", 6001).withPeerId(peers.get(1)),
                tcp("127.0.0.1", 5004).withPeerId(peers.get(4)), tcp("127.0.0.1", 5003).withPeerId(peers.get(3)));
        assertEquals(expected, store.bootstrapPeers(3));
        store.save();
        PeerStore again = new PeerStore(dir);
        again.load();
        assertEquals(expected, again.bootstrapPeers(3));
        assertEquals(List.of(tcp("127.0.0.1", 6001), tcp("127.0.0.1", 5001)), again.addrs(peers.get(1)));
        assertEquals(null, again.identified(peers.get(1)), "identify results are of this run only");
    }

    @Test
    void reached_outbound_isTheAddressWeDialed() {
        InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 4010);
        assertEquals(List.of(Multiaddr.tcp(remote)),
                PeerStore.reached(connection(true, remote), List.of(tcp("10.9.9.9", 1))));
    }

    @Test
    void reached_inbound_isTheListenPortsOnTheIpItCameFrom_neverAnotherHost() {
        InetSocketAddress remote = new InetSocketAddress("127.0.0.2", 53211);
        List<Multiaddr> claimed = List.of(tcp("127.0.0.1", 22), tcp("127.0.0.2", 4005), tcp("0.0.0.0", 4006),
                Multiaddr.parse("/dns4/example.com/tcp/443"), tcp("127.0.0.2", 0));
        assertEquals(List.of(tcp("127.0.0.2", 4005), tcp("127.0.0.2", 4006)),
                PeerStore.reached(connection(false, remote), claimed));
    }

    @Test
    void addAddrs_floodOfLongAddressesFromFreshPeers_staysWithinTheHeapBudget() {
        PeerStore store = new PeerStore(null);
        List<Multiaddr> longOnes = new ArrayList<>();
        for (int i = 0; i < PeerStore.MAX_ADDRS + 4; i++) {
            longOnes.add(Multiaddr.parse("/dns/" + "x".repeat(1000) + i + "/tcp/4001"));
        }
        PeerId friend = FakeKadNetwork.randomPeer(rnd);
        store.identified(friend, INFO, List.of(tcp("127.0.0.1", 4002)));
        for (int i = 0; i < 3_000; i++) {
            store.addAddrs(FakeKadNetwork.randomPeer(rnd), longOnes);
        }
        long[] sizes = store.sizes();
        assertTrue(sizes[0] <= PeerStore.MAX_HEARD_BYTES, sizes[0] + " bytes heard");
        assertTrue(sizes[1] < 3_000, sizes[1] + " peers heard of");
        assertEquals(List.of(tcp("127.0.0.1", 4002)), store.addrs(friend), "a flood does not push out a peer we identified");
    }

    @Test
    void identified_hugeIdentifyAnswer_isKeptBounded() {
        PeerStore store = new PeerStore(null);
        List<String> protocols = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            protocols.add("/junk/" + "p".repeat(i % 7 == 0 ? 3000 : 10) + "/" + i);
        }
        PeerId p = FakeKadNetwork.randomPeer(rnd);
        store.identified(p, new PeerStore.Identified(protocols, "a".repeat(60_000), "ipfs/0.1.0"), List.of());
        PeerStore.Identified kept = store.identified(p);
        assertEquals(PeerStore.KEPT_PROTOCOLS, kept.protocols().size());
        assertTrue(kept.protocols().stream().mapToInt(String::length).sum() <= PeerStore.KEPT_PROTOCOL_CHARS);
        assertEquals(PeerStore.KEPT_VERSION_CHARS, kept.agentVersion().length());
    }

    @Test
    void identified_manyPeers_keepsTheNewestWithinMaxIdentified() {
        PeerStore store = new PeerStore(null);
        PeerId last = null;
        for (int i = 0; i < PeerStore.MAX_IDENTIFIED + 500; i++) {
            last = FakeKadNetwork.randomPeer(rnd);
            store.identified(last, INFO, List.of(tcp("127.0.0.1", 1 + i % 60000)));
        }
        assertEquals(PeerStore.MAX_IDENTIFIED, store.sizes()[2]);
        assertEquals(last, store.bootstrapPeers(1).get(0).peerId());
    }
}
