package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.object.ObjectService;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node's settings: node.conf in the data directory, flags over it, every check in one place. */
class NodeConfigTest {
    @TempDir
    Path dir;

    private NodeConfig load(String file, Map<String, List<String>> flags) throws Exception {
        if (file != null) {
            Files.writeString(dir.resolve(NodeConfig.FILE), file);
        }
        return NodeConfig.load(dir, flags);
    }

    private String refused(String file) {
        return assertThrows(NodeConfig.Invalid.class, () -> load(file, Map.of())).getMessage();
    }

    @Test
    void defaults_withoutFileOrFlags_areTheFlagsDefaultsBeforeTheFileExisted() throws Exception {
        NodeConfig c = load(null, Map.of());
        assertEquals(List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/4001")), c.listen());
        assertEquals(new InetSocketAddress("127.0.0.1", 8080), c.api());
        assertTrue(c.apiPublicReads());
        assertEquals(List.of(), c.apiHosts());
        assertEquals(List.of(), c.apiCorsOrigins());
        assertEquals(Duration.ofSeconds(15), c.apiBodySilence());
        assertEquals(List.of(), c.bootstrap());
        assertEquals(4, c.k());
        assertEquals(2, c.m());
        assertEquals(5, c.writeQuorum(), "k + 1");
        assertEquals(107374182400L, c.capacity(), "100 GiB");
        assertEquals(Duration.ofHours(1), c.scrubInterval());
        assertEquals(Duration.ofMinutes(5), c.repairInterval());
        assertEquals(Duration.ofMinutes(10), c.gcInterval());
        assertEquals(Duration.ofHours(24), c.gcGrace());
        assertEquals(StorageNode.Upkeep.defaults(), c.upkeep());
        assertEquals(List.of(), c.trustOwners());
        assertEquals(1073741824L, c.ownerQuota(), "1 GiB");
        assertEquals(107374182400L / 2, c.strangersQuota(), "half the capacity");
        assertFalse(c.superNode());
        assertEquals(dir.resolve("cometbft"), c.chainHome());
        assertNull(c.cometbft(), "the project's pinned binary");
        assertTrue(c.warmUp());
        assertEquals(new ObjectService.Config(4, 2, 8 << 20, 64 * 1024, 3), c.objectConfig());
    }

    @Test
    void file_isReadAndFlagsOverrideItKeyByKey() throws Exception {
        String peer = Identity.generate().peerId().toString();
        String file = """
                # a comment, then a blank line

                k = 6
                m=3
                capacity = 5000
                trust-owner = %s
                listen = /ip4/127.0.0.1/tcp/5001
                listen = /ip4/127.0.0.1/tcp/5002
                warm-up = false
                """.formatted(peer);
        NodeConfig fromFile = load(file, Map.of());
        assertEquals(6, fromFile.k());
        assertEquals(3, fromFile.m());
        assertEquals(7, fromFile.writeQuorum());
        assertEquals(5000, fromFile.capacity());
        assertEquals(2500, fromFile.strangersQuota(), "derived from the file's capacity");
        assertEquals(List.of(peer), fromFile.trustOwners());
        assertEquals(2, fromFile.listen().size(), "a repeatable key once per line");
        assertFalse(fromFile.warmUp());

        NodeConfig flagged = NodeConfig.load(dir, Map.of("k", List.of("5"), "listen", List.of("/ip4/127.0.0.1/tcp/0")));
        assertEquals(5, flagged.k(), "the flag wins");
        assertEquals(3, flagged.m(), "the file's value where no flag is given");
        assertEquals(List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")), flagged.listen(), "a flag replaces all of a repeatable key's lines");
        assertEquals(5000, flagged.capacity());
    }

    @Test
    void file_withAnUnknownKey_isRefusedNamingItAndItsLine() {
        String e = refused("k = 4\nshards = 6\n");
        assertTrue(e.contains(NodeConfig.FILE + " line 2") && e.contains("unknown setting 'shards'") && e.contains("known: listen, api"), e);
    }

    @Test
    void file_withABadValue_isRefusedNamingTheFileKeyAndValue() {
        String e = refused("k = four\n");
        assertTrue(e.contains(NodeConfig.FILE + ": k must be a whole number, was 'four'"), e);
        assertTrue(refused("repair-interval = soon\n").contains("repair-interval must be a duration like 30s, 5m or 24h, was 'soon'"));
        assertTrue(refused("scrub-interval = 0s\n").contains("scrub-interval must be positive, was '0s'"));
        assertTrue(refused("warm-up = yes\n").contains("warm-up must be true or false, was 'yes'"));
        assertTrue(refused("api = localhost\n").contains("api must be HOST:PORT, was 'localhost'"));
        assertTrue(refused("listen = /ip4/nowhere\n").contains("listen /ip4/nowhere: "));
        assertTrue(refused("trust-owner = me\n").contains("trust-owner me is not a peer ID"));
        assertTrue(refused("owner-quota = -1\n").contains("must not be negative, were -1 and"));
        assertTrue(refused("write-quorum = 7\n").contains(NodeConfig.FILE + ": write-quorum 7 is more than the k + m = 6 shards"));
        assertTrue(refused("k = 0\n").contains("k 0, "), refused("k = 0\n"));
        assertTrue(refused("api-host = http://x/\n").contains(NodeConfig.FILE + ": api-host must be a host name"), refused("api-host = http://x/\n"));
        assertTrue(refused("api-cors-origin = *\n").contains(NodeConfig.FILE + ": api-cors-origin must be an origin"));
        assertTrue(refused("chain-rpc = nowhere\n").contains("chain-rpc must be HOST:PORT, was 'nowhere'"));
        assertTrue(refused("chain-rpc = 127.0.0.1:26657\n").contains(NodeConfig.FILE + ": chain-rpc and chain-mempool go together"
                + " (reads from one, transactions to the other), was given 1 and 0 addresses"), refused("chain-rpc = 127.0.0.1:26657\n"));
    }

    @Test
    void chainEndpoints_repeatedInTheFile_areReadInOrder() throws Exception {
        NodeConfig c = load("chain-rpc = 127.0.0.1:26657\nchain-rpc = 127.0.0.1:26659\nchain-mempool = 127.0.0.1:26800\n", Map.of());
        assertEquals(List.of(new java.net.InetSocketAddress("127.0.0.1", 26657), new java.net.InetSocketAddress("127.0.0.1", 26659)), c.chainRpc());
        assertEquals(List.of(new java.net.InetSocketAddress("127.0.0.1", 26800)), c.chainMempool());
        assertEquals(List.of(), NodeConfig.ofFlags(Map.of(), dir).chainRpc(), "no chain link unless told");
    }

    @Test
    void prove_needsAChainLink_andItsCollateralIsInPasses() throws Exception {
        NodeConfig off = NodeConfig.ofFlags(Map.of(), dir);
        assertEquals(false, off.prove(), "a node proves only when told");
        assertEquals(null, off.proveCollateral(), "the chain's minimum unless set");
        NodeConfig on = load("prove = true\nprove-collateral = 2.5\nchain-rpc = 127.0.0.1:26657\nchain-mempool = 127.0.0.1:26800\n",
                Map.of());
        assertTrue(on.prove());
        assertEquals(new java.math.BigInteger("2500000000000000000"), on.proveCollateral());
        assertTrue(NodeConfig.ofFlags(Map.of("prove", List.of("true"), "super-node", List.of("true")), dir).prove());
        assertTrue(refused("prove = true\n").contains(NodeConfig.FILE + ": prove needs a chain link"), refused("prove = true\n"));
        assertTrue(refused("prove-collateral = lots\n").contains("prove-collateral must be an amount of passes (2.5), was 'lots'"),
                refused("prove-collateral = lots\n"));
        assertTrue(refused("prove-collateral = 0\n").contains("must be more than 0"), refused("prove-collateral = 0\n"));
        assertTrue(refused("prove-collateral = 0.0000000000000000001\n").contains("prove-collateral must be an amount of passes"));
    }

    @Test
    void s3AccountFloor_isInPasses_tenByDefault_zeroForNoTopUps() throws Exception {
        assertEquals(io.oecloud.chain.ledger.Amounts.PASS.multiply(java.math.BigInteger.TEN), NodeConfig.ofFlags(Map.of(), dir).s3AccountFloor());
        assertEquals(new java.math.BigInteger("2500000000000000000"), load("s3-account-floor = 2.5\n", Map.of()).s3AccountFloor());
        assertEquals(java.math.BigInteger.ZERO, NodeConfig.ofFlags(Map.of("s3-account-floor", List.of("0")), dir).s3AccountFloor());
        String r = refused("s3-account-floor = -1\n");
        assertTrue(r.contains("s3-account-floor must be an amount of passes") && r.contains("'-1'"), r);
    }

    @Test
    void paidStorage_defaultsAndLimits() throws Exception {
        NodeConfig d = NodeConfig.ofFlags(Map.of("capacity", List.of(String.valueOf(64L << 30))), dir);
        assertTrue(d.paid().enabled(), "on by default (it acts only with a chain link)");
        assertEquals(java.time.Duration.ofMinutes(10), d.paid().grace());
        assertEquals(1L << 30, d.paid().perOwner());
        assertEquals(8L << 30, d.paid().total(), "an eighth of the capacity");
        assertEquals(java.time.Duration.ofSeconds(30), d.paid().every());
        NodeConfig set = load("paid-storage = false\nprovisional-grace = 2m\nprovisional-per-owner = 1000\n"
                + "provisional-total = 5000\ncoverage-interval = 5s\n", Map.of());
        assertEquals(false, set.paid().enabled());
        assertEquals(java.time.Duration.ofMinutes(2), set.paid().grace());
        assertEquals(1000, set.paid().perOwner());
        assertEquals(5000, set.paid().total());
        assertEquals(java.time.Duration.ofSeconds(5), set.paid().every());
        String r = refused("provisional-per-owner = 9000\nprovisional-total = 5000\n");
        assertTrue(r.contains("provisional-per-owner 9000") && r.contains("no more than the total"), r);
    }

    @Test
    void file_withALineWithoutEqualsOrASingleValueKeyTwice_isRefused() {
        assertTrue(refused("k 4\n").contains("line 1: expected KEY = VALUE, was 'k 4'"));
        assertTrue(refused("k = 4\nk = 5\n").contains("line 2: k is set twice (4, then 5)"));
    }

    @Test
    void flags_withAnUnknownOrBadValue_areRefusedNamingTheFlag() {
        assertTrue(assertThrows(NodeConfig.Invalid.class, () -> NodeConfig.load(dir, Map.of("k", List.of("x"))))
                .getMessage().startsWith("--k must be a whole number, was 'x'"));
        assertTrue(assertThrows(NodeConfig.Invalid.class, () -> NodeConfig.load(dir, Map.of("api-host", List.of("a b"))))
                .getMessage().startsWith("--api-host must be a host name, optionally with :PORT"));
        assertTrue(assertThrows(NodeConfig.Invalid.class, () -> NodeConfig.ofFlags(Map.of("kk", List.of("4")), dir))
                .getMessage().contains("unknown setting 'kk'"));
    }

    @Test
    void write_thenLoad_givesTheSameSettings() throws Exception {
        Map<String, List<String>> settings = Map.of("k", List.of("3"), "m", List.of("1"), "api-host", List.of("a.example", "b.example"));
        NodeConfig.write(dir.resolve(NodeConfig.FILE), "a test", settings);
        assertEquals(NodeConfig.ofFlags(settings, dir), NodeConfig.load(dir, Map.of()));
        assertTrue(Files.readString(dir.resolve(NodeConfig.FILE)).startsWith("# a test\n"));
    }
}
