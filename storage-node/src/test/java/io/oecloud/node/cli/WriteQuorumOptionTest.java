package io.oecloud.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.node.object.ObjectService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --write-quorum on oe node and oe devnet: k + 1 by default, never below it without saying so, never above k + m. */
class WriteQuorumOptionTest {
    @TempDir
    Path dir;

    /** The write quorum oe node runs with, given these flags (oe devnet checks its nodes' settings the same way). */
    private int writeQuorum(Integer asked, boolean weak, int k, int m) throws Exception {
        List<String> args = new ArrayList<>(List.of("--data-dir", dir.toString(), "--k", String.valueOf(k), "--m", String.valueOf(m)));
        if (asked != null) {
            args.addAll(List.of("--write-quorum", String.valueOf(asked)));
        }
        if (weak) {
            args.add("--allow-weak-write-quorum");
        }
        NodeCommand node = new NodeCommand();
        new CommandLine(node).parseArgs(args.toArray(String[]::new));
        return node.config().writeQuorum();
    }

    @Test
    void writeQuorum_default_isKPlusOne() throws Exception {
        assertEquals(5, writeQuorum(null, false, 4, 2));
        assertEquals(11, writeQuorum(null, false, 10, 4));
        assertEquals(3, writeQuorum(null, false, 3, 0), "no parity: every shard is needed");
        assertEquals(6, writeQuorum(6, false, 4, 2));
    }

    @Test
    void writeQuorum_k_isRefusedUnlessTheWeakerDurabilityIsAcknowledged() throws Exception {
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> writeQuorum(4, false, 4, 2));
        assertTrue(e.getMessage().contains("--write-quorum 4 is k") && e.getMessage().contains("--allow-weak-write-quorum"),
                e.getMessage());
        assertEquals(4, writeQuorum(4, true, 4, 2));
    }

    @Test
    void writeQuorum_belowKOrAboveKPlusM_isRefusedNamingTheBounds() {
        assertTrue(assertThrows(CommandLine.ParameterException.class, () -> writeQuorum(3, true, 4, 2))
                .getMessage().contains("--write-quorum 3 is fewer than k = 4"));
        assertTrue(assertThrows(CommandLine.ParameterException.class, () -> writeQuorum(7, false, 4, 2))
                .getMessage().contains("--write-quorum 7 is more than the k + m = 6 shards"));
    }

    @Test
    void config_writeQuorumOutsideKToKPlusM_isRefused_andTheManifestQuorumFollowsIt() {
        ObjectService.Config c = ObjectService.Config.defaults();
        assertEquals(5, c.writeQuorum());
        assertEquals(2, c.manifestQuorum(), "2 of 3 manifest copies: one loss survivable, as for each segment");
        assertEquals(3, c.withWriteQuorum(6).manifestQuorum());
        assertEquals(1, c.withWriteQuorum(4).manifestQuorum());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.withWriteQuorum(3));
        assertTrue(e.getMessage().contains("from k = 4 to k + m = 6 shards, was 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.withWriteQuorum(7));
    }

    @Test
    void devnet_withWriteQuorumK_refusesToStart_beforeStartingAnything() throws Exception {
        Path data = dir.resolve("devnet");
        CidCommandTest.Result r = CidCommandTest.oe("devnet", "--no-chain", "--data-dir", data.toString(),
                "--p2p-port", "0", "--api-port", "0", "--write-quorum", "4");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("--allow-weak-write-quorum"), r.err());
        assertFalse(Files.exists(data), "nothing was started or created");
    }

    @Test
    void node_withWriteQuorumAboveKPlusM_refusesToStart_beforeCreatingAnIdentity() throws Exception {
        Path data = dir.resolve("node");
        CidCommandTest.Result r = CidCommandTest.oe("node", "--data-dir", data.toString(), "--listen", "/ip4/127.0.0.1/tcp/0",
                "--api", "127.0.0.1:0", "--no-warm-up", "--write-quorum", "7");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("--write-quorum 7 is more than the k + m = 6 shards"), r.err());
        assertFalse(Files.exists(data), "no identity or store was created");
    }
}
