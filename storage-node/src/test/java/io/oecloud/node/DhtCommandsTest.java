package io.oecloud.node;

import io.oecloud.node.api.NodeApiServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.dht.Multiaddr;
import io.oecloud.node.cli.Oe;
import io.oecloud.proofs.Cid;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The oe id/ping/dht commands against running nodes (their HTTP API) and as transient nodes. */
@Timeout(120)
class DhtCommandsTest {
    record Running(P2pNode node, NodeApiServer api) {
        String apiAddr() {
            InetSocketAddress a = api.address();
            return a.getHostString() + ":" + a.getPort();
        }

        String p2p() {
            return node.host.listenAddresses().get(0).withPeerId(node.host.peerId()).toString();
        }
    }

    private final List<Running> nodes = new ArrayList<>();

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dir;

    private String token() throws java.io.IOException {
        return ApiAccessTest.tokenFile(dir).toString();
    }

    @BeforeEach
    void network() throws Exception {
        for (int i = 0; i < 4; i++) {
            P2pNode n = P2pNode.start(Identity.generate(), List.of(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")), null, true);
            NodeApiServer api = new NodeApiServer(n.service(() -> { }), ApiAccessTest.access()).start(new InetSocketAddress("127.0.0.1", 0));
            Running r = new Running(n, api);
            if (!nodes.isEmpty()) {
                n.bootstrap(List.of(Multiaddr.parse(nodes.get(0).p2p())), new PrintWriter(new StringWriter()));
            }
            nodes.add(r);
        }
        for (Running r : nodes) {
            r.node.bootstrap(List.of(), new PrintWriter(new StringWriter()));
        }
    }

    @AfterEach
    void close() {
        for (Running r : nodes) {
            r.api.close();
            r.node.close();
        }
    }

    record Result(int code, String out, String err) {}

    static Result oe(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = new picocli.CommandLine(new Oe());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString().strip(), err.toString().strip());
    }

    @Test
    void id_showsTheRunningNode() throws Exception {
        Running a = nodes.get(0);
        Result r = oe("id", "--api", a.apiAddr(), "--token-file", token());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ID        " + a.node.host.peerId()), r.out());
        assertTrue(r.out().contains("Protocol  /ipfs/kad/1.0.0"), r.out());
    }

    @Test
    void ping_fromTheRunningNodeToAnother() throws Exception {
        Result r = oe("ping", "--api", nodes.get(0).apiAddr(), "--token-file", token(), "-n", "2", nodes.get(2).p2p());
        assertEquals(0, r.code(), r.err());
        assertEquals(2, r.out().lines().filter(l -> l.startsWith("Pong from " + nodes.get(2).node.host.peerId())).count(), r.out());
    }

    @Test
    void provide_onOneNode_findprovs_onAnother() throws Exception {
        Cid cid = Cid.raw("cli content".getBytes(StandardCharsets.UTF_8));
        Result p = oe("dht", "provide", "--api", nodes.get(1).apiAddr(), "--token-file", token(), cid.toString());
        assertEquals(0, p.code(), p.err());
        Result f = oe("dht", "findprovs", "--api", nodes.get(3).apiAddr(), "--token-file", token(), cid.toString());
        assertEquals(0, f.code(), f.err());
        assertTrue(f.out().startsWith(nodes.get(1).node.host.peerId().toString()), f.out());
    }

    @Test
    void findpeer_and_putGet_throughTheApi() throws Exception {
        Result fp = oe("dht", "findpeer", "--api", nodes.get(3).apiAddr(), "--token-file", token(), nodes.get(1).node.host.peerId().toString());
        assertEquals(0, fp.code(), fp.err());
        assertTrue(fp.out().contains(nodes.get(1).node.host.listenAddresses().get(0).toString()), fp.out());

        Result put = oe("dht", "put", "--api", nodes.get(2).apiAddr(), "--token-file", token(), "homepage", "v1");
        assertEquals(0, put.code(), put.err());
        String key = put.out();
        assertEquals("/oe/" + nodes.get(2).node.host.peerId() + "/homepage", key);
        assertEquals(0, oe("dht", "put", "--api", nodes.get(2).apiAddr(), "--token-file", token(), "homepage", "v2").code());
        Result get = oe("dht", "get", "--api", nodes.get(0).apiAddr(), "--token-file", token(), key);
        assertEquals(0, get.code(), get.err());
        assertEquals("v2", get.out());
    }

    @Test
    void transientNode_withBootstrap_findsWhatRunningNodesProvide() throws Exception {
        Cid cid = Cid.raw("transient".getBytes(StandardCharsets.UTF_8));
        assertEquals(0, oe("dht", "provide", "--api", nodes.get(1).apiAddr(), "--token-file", token(), cid.toString()).code());
        Result f = oe("dht", "findprovs", "--bootstrap", nodes.get(0).p2p(), cid.toString());
        assertEquals(0, f.code(), f.err());
        assertTrue(f.out().startsWith(nodes.get(1).node.host.peerId().toString()), f.out());
        Result id = oe("id", "--bootstrap", nodes.get(0).p2p());
        assertEquals(0, id.code(), id.err());
    }

    @Test
    void badInput_andMissingNode_failWithOneClearLine() throws Exception {
        Result badCid = oe("dht", "findprovs", "--api", nodes.get(0).apiAddr(), "--token-file", token(), "bnotacid");
        assertEquals(1, badCid.code());
        assertTrue(badCid.err().contains("oe dht findprovs:"), badCid.err());
        Result noRecord = oe("dht", "get", "--api", nodes.get(0).apiAddr(), "--token-file", token(), "/oe/" + nodes.get(1).node.host.peerId() + "/absent");
        assertEquals(1, noRecord.code());
        assertTrue(noRecord.err().contains("no record"), noRecord.err());
        Result noNode = oe("id", "--data-dir", "/nonexistent-oe-dir");
        assertEquals(1, noNode.code());
        assertTrue(noNode.err().contains("no running node found"), noNode.err());
        Result deadApi = oe("id", "--api", "127.0.0.1:1");
        assertEquals(1, deadApi.code());
        assertTrue(deadApi.err().contains("no node answers at 127.0.0.1:1"), deadApi.err());
    }
}
