package io.oecloud.node.devnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.oecloud.dht.Identity;
import io.oecloud.node.NodeConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What each devnet node's node.conf says, and that the node reads it back as meant. */
class DevnetNodeSettingsTest {
    @TempDir
    Path dir;

    @Test
    void nodeSettings_trustTheOtherNodes_andTakeANodesOwnCapacity() throws Exception {
        List<String> peers = List.of(Identity.generate().peerId().toString(), Identity.generate().peerId().toString(),
                Identity.generate().peerId().toString());
        Devnet.Plan plan = new Devnet.Plan(3, dir, 0, 0, "512m", false, 0, -1, -1,
                Map.of("k", List.of("2"), "m", List.of("1"), "capacity", List.of("1000000")), Map.of(2, 5000L), "Main");
        for (int i = 0; i < 3; i++) {
            Path conf = dir.resolve("node-" + i).resolve(NodeConfig.FILE);
            java.nio.file.Files.createDirectories(conf.getParent());
            NodeConfig.write(conf, "test", Devnet.nodeSettings(plan, i, peers, null));
            NodeConfig c = NodeConfig.load(conf.getParent(), Map.of());
            int self = i;
            assertEquals(peers.stream().filter(p -> !p.equals(peers.get(self))).toList(), c.trustOwners());
            assertEquals(i == 2 ? 5000 : 1000000, c.capacity());
            assertEquals(2, c.k());
            assertEquals(3, c.writeQuorum());
            assertFalse(c.superNode(), "no chain in this plan");
            assertFalse(c.prove(), "no chain, nothing to prove on");
        }
    }
}
