package io.oecloud.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.node.NodeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** oe node's flags over DATA_DIR/node.conf, and oe devnet's nodes configured the same way. */
class NodeCommandTest {
    @TempDir
    Path dir;

    private NodeConfig node(String... args) throws Exception {
        NodeCommand c = new NodeCommand();
        List<String> all = new ArrayList<>(List.of("--data-dir", dir.toString()));
        all.addAll(List.of(args));
        new CommandLine(c).parseArgs(all.toArray(String[]::new));
        return c.config();
    }

    @Test
    void noFlags_noFile_isTheDefaults() throws Exception {
        assertEquals(NodeConfig.ofFlags(Map.of(), dir), node());
    }

    @Test
    void warmsUpByDefault_andNoWarmUpTurnsItOff_likewisePublicReads() throws Exception {
        assertTrue(node().warmUp());
        assertFalse(node("--no-warm-up").warmUp());
        assertTrue(node().apiPublicReads());
        assertFalse(node("--no-api-public-reads").apiPublicReads());
        assertTrue(node("--api-public-reads").apiPublicReads());
    }

    @Test
    void flags_overrideTheFile_andLeaveItsOtherKeys() throws Exception {
        Files.writeString(dir.resolve(NodeConfig.FILE), "k = 6\nm = 3\nwarm-up = false\nlisten = /ip4/127.0.0.1/tcp/5001\n");
        NodeConfig c = node("--k", "5", "--listen", "/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/7");
        assertEquals(5, c.k());
        assertEquals(3, c.m());
        assertFalse(c.warmUp(), "a flag's default never hides the file's value");
        assertEquals(2, c.listen().size());
        assertTrue(node("--warm-up").warmUp());
    }

    @Test
    void badFileValue_isAUsageErrorNamingTheFileKeyAndValue() throws Exception {
        Files.writeString(dir.resolve(NodeConfig.FILE), "gc-grace = a while\n");
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> node());
        assertTrue(e.getMessage().contains(NodeConfig.FILE + ": gc-grace must be a duration like 30s, 5m or 24h, was 'a while'"),
                e.getMessage());
    }

    @Test
    void devnetAndNode_giveTheSameConfig_forTheSameSettings() throws Exception {
        DevnetCommand devnet = new DevnetCommand();
        new CommandLine(devnet).parseArgs("--k", "3", "--m", "1", "--capacity", "123456", "--repair-interval", "3s",
                "--scrub-interval", "4s", "--write-quorum", "3", "--allow-weak-write-quorum");
        // what Devnet writes into each node's directory (before its own additions: trust, super-node)
        NodeConfig.write(dir.resolve(NodeConfig.FILE), "devnet", devnet.settings());
        NodeConfig fromDevnet = NodeConfig.load(dir, Map.of());
        Files.delete(dir.resolve(NodeConfig.FILE));
        NodeConfig fromFlags = node("--k", "3", "--m", "1", "--capacity", "123456", "--repair-interval", "3s",
                "--scrub-interval", "4s", "--write-quorum", "3", "--allow-weak-write-quorum");
        assertEquals(fromFlags, fromDevnet);
        assertEquals(3, fromDevnet.writeQuorum());
    }

    @Test
    void devnetDefaults_areTheNodesButItsCapacity() throws Exception {
        DevnetCommand devnet = new DevnetCommand();
        new CommandLine(devnet).parseArgs();
        Map<String, List<String>> s = devnet.settings();
        assertEquals(List.of("4"), s.get("k"));
        assertEquals(List.of("2"), s.get("m"));
        assertEquals(List.of("5m"), s.get("repair-interval"));
        assertEquals(List.of("1h"), s.get("scrub-interval"));
        assertEquals(List.of(String.valueOf(10L << 30)), s.get("capacity"), "10 GiB a devnet node");
        assertFalse(s.containsKey("write-quorum"), "k + 1, the node's default");
    }
}
