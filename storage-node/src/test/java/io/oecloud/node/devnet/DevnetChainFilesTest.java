package io.oecloud.node.devnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.node.TxService;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What {@code oe devnet} writes for its chain: each super-node's mempool endpoint and peers, also for a devnet made before. */
@Timeout(600)
class DevnetChainFilesTest {
    @TempDir
    Path dir;

    private static Path cometbft() throws Exception {
        Path script = Path.of("../chain-bridge/tools/cometbft.sh").toAbsolutePath().normalize();
        Process p = new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES) && p.exitValue() == 0, "CometBFT install failed");
        return Path.of(out);
    }

    @Test
    void eachSuperNodeGossipsToTheOtherThree_andADevnetWithoutTheFilesGetsThemOnItsNextStart() throws Exception {
        DevnetChain chain = new DevnetChain(dir, cometbft());
        chain.prepare(dir, 30_000);
        for (int i = 0; i < DevnetChain.SUPER_NODES; i++) {
            TxService.Config c = TxService.Config.read(chain.home(i));
            assertEquals(new InetSocketAddress("127.0.0.1", 30_144 + i), c.listen());
            assertEquals(3, c.peers().size());
            for (int j = 0; j < DevnetChain.SUPER_NODES; j++) {
                // each peer named by its node key: batches are signed for their receiver, and accepted from known super-nodes only
                TxService.Peer peer = new TxService.Peer(new InetSocketAddress("127.0.0.1", 30_144 + j),
                        io.oecloud.dht.Identity.loadOrCreate(dir.resolve("node-" + j)).peerId().toString());
                assertEquals(j != i, c.peers().contains(peer), "node " + i + ", peer " + j);
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> v0 = ((List<Map<String, Object>>) chain.describe().get("validators")).get(0);
        assertEquals("http://127.0.0.1:30144", v0.get("mempool"));

        String genesis = Files.readString(chain.home(0).resolve("config/genesis.json"));
        for (int i = 0; i < DevnetChain.SUPER_NODES; i++) {
            Files.delete(chain.home(i).resolve(TxService.CONFIG));
        }
        chain.prepare(dir, 30_000);
        assertEquals(genesis, Files.readString(chain.home(0).resolve("config/genesis.json")), "the chain itself is reused");
        for (int i = 0; i < DevnetChain.SUPER_NODES; i++) {
            assertEquals(new InetSocketAddress("127.0.0.1", 30_144 + i), TxService.Config.read(chain.home(i)).listen());
            assertEquals(3, TxService.Config.read(chain.home(i)).peers().size());
            assertTrue(TxService.Config.read(chain.home(i)).complete());
        }
    }

    @Test
    void aDevnetWhoseGossipPeersHaveNoIdentities_getsThemOnItsNextStart_onTheSamePorts() throws Exception {
        DevnetChain chain = new DevnetChain(dir, cometbft());
        chain.prepare(dir, 30_000);
        String genesis = Files.readString(chain.home(0).resolve("config/genesis.json"));
        assertTrue(genesis.contains("\"feePerByte\""), "the devnet's genesis prices transactions by size");
        for (int i = 0; i < DevnetChain.SUPER_NODES; i++) { // the file as oe devnet wrote it before gossip was signed
            StringBuilder peers = new StringBuilder();
            for (int j = 0; j < DevnetChain.SUPER_NODES; j++) {
                if (j != i) {
                    peers.append(peers.isEmpty() ? "" : ", ").append("\"127.0.0.1:").append(30_144 + j).append('"');
                }
            }
            Files.writeString(chain.home(i).resolve(TxService.CONFIG), "{\"listen\": \"127.0.0.1:" + (30_144 + i) + "\", \"peers\": [" + peers + "]}");
            assertTrue(!TxService.Config.read(chain.home(i)).complete());
        }
        chain.prepare(dir, 0); // free ports asked for: the existing ones are kept all the same
        assertEquals(genesis, Files.readString(chain.home(0).resolve("config/genesis.json")));
        for (int i = 0; i < DevnetChain.SUPER_NODES; i++) {
            TxService.Config c = TxService.Config.read(chain.home(i));
            assertTrue(c.complete(), "node " + i);
            assertEquals(new InetSocketAddress("127.0.0.1", 30_144 + i), c.listen());
            assertEquals(3, c.peers().size());
        }
    }

    @Test
    void everyNodeIsFundedAtGenesis_andTheOthersAreToldTheSuperNodesEndpoints_whichTheirNodeConfReadsBack() throws Exception {
        DevnetChain chain = new DevnetChain(dir, cometbft());
        chain.prepare(dir, 30_000, 6);
        String genesis = Files.readString(chain.home(0).resolve("config/genesis.json"));
        for (int i = 0; i < 6; i++) {
            String address = io.oecloud.chain.ledger.Ledger.address(io.oecloud.dht.Identity.loadOrCreate(dir.resolve("node-" + i)).publicKey());
            assertTrue(genesis.contains("\"address\" : \"" + address + "\""), "node " + i + " funded: " + genesis);
        }
        Map<String, List<String>> client = chain.clientSettings();
        assertEquals(List.of("127.0.0.1:30144", "127.0.0.1:30145", "127.0.0.1:30146", "127.0.0.1:30147"), client.get("chain-mempool"));
        assertEquals(4, client.get("chain-rpc").size());
        List<String> peers = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            peers.add(io.oecloud.dht.Identity.loadOrCreate(dir.resolve("node-" + i)).peerId().toString());
        }
        Devnet.Plan plan = new Devnet.Plan(6, dir, 0, 0, "512m", true, 30_000, -1, -1, Map.of(), Map.of(), "Main");
        for (int i : new int[] {0, 5}) {
            Path conf = dir.resolve("node-" + i).resolve(io.oecloud.node.NodeConfig.FILE);
            io.oecloud.node.NodeConfig.write(conf, "test", Devnet.nodeSettings(plan, i, peers, chain));
            io.oecloud.node.NodeConfig c = io.oecloud.node.NodeConfig.load(conf.getParent(), Map.of());
            assertEquals(i == 0, c.superNode());
            assertEquals(i == 0 ? 0 : 4, c.chainMempool().size(), "a super-node reads its own ledger");
            assertEquals(i == 0 ? 0 : 4, c.chainRpc().size());
            assertTrue(c.prove(), "every devnet node proves its storage, the super-nodes too");
        }
    }
}
