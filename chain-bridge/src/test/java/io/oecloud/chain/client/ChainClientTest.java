package io.oecloud.chain.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.chain.testnet.LocalTestnet;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that is not a super-node reads its account and sends transactions through a real chain
 * (one CometBFT validator with its ledger in this JVM): the nonce comes from the chain, the fee from
 * its parameters, a refusal says why, and an endpoint that cannot be reached is passed over.
 */
@Timeout(300)
class ChainClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAIN = "oechain-client";
    private static final Fees FEES = new Fees(BigInteger.valueOf(1000), Fees.DEFAULT_PER_BYTE);

    @TempDir
    static Path dir;

    private static LocalTestnet net;
    private static final Identity node = Identity.generate();
    private static final String bob = Ledger.address(Identity.generate().publicKey());

    @BeforeAll
    static void start() throws Exception {
        ObjectNode app = JSON.createObjectNode().put("minFee", FEES.minimum().toString()).put("feePerByte", FEES.perByte().toString());
        app.putArray("accounts").addObject().put("address", Ledger.address(node.publicKey()))
                .put("balance", Amounts.PASS.multiply(BigInteger.TEN).toString());
        net = new LocalTestnet(LocalTestnet.cometbft(), dir.resolve("net"), 1, CHAIN, app, false);
        net.startAll();
        net.awaitHeight(0, 2, 90);
    }

    @AfterAll
    static void stop() {
        if (net != null) {
            net.close();
        }
    }

    private static InetSocketAddress local(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** A loopback port nothing listens on: connections to it are refused at once. */
    private static int deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static TxBody.Builder transfer(BigInteger amount) {
        return TxBody.newBuilder().setTransfer(Transfer.newBuilder().setTo(bob).setAmount(ByteString.copyFrom(Amounts.encode(amount))));
    }

    @Test
    void submit_takesNonceAndFeeFromTheChain_andTheAccountShowsIt() throws Exception {
        try (ChainClient c = new ChainClient(new ChainClient.Endpoints(List.of(local(net.rpc[0])), List.of(local(net.tx[0]))), node, 10_000)) {
            assertEquals(CHAIN, c.chainId());
            assertEquals(FEES, c.fees());
            ChainClient.Account before = c.account();
            assertEquals(Ledger.address(node.publicKey()), before.address());
            JsonNode first = c.submit(transfer(Amounts.PASS));
            JsonNode second = c.submit(transfer(Amounts.PASS)); // the next nonce, read after the first committed
            assertEquals(0, first.path("code").asInt(-1), first.toString());
            assertEquals(0, second.path("code").asInt(-1), second.toString());
            assertTrue(second.path("height").asLong() >= first.path("height").asLong());
            ChainClient.Account after = c.account();
            assertEquals(before.nonce() + 2, after.nonce());
            assertTrue(after.balance().compareTo(before.balance().subtract(Amounts.PASS.multiply(BigInteger.TWO))) < 0, "fees paid too");
        }
    }

    @Test
    void submit_moreThanTheBalance_isRefusedWith422SayingWhy() throws Exception {
        try (ChainClient c = new ChainClient(new ChainClient.Endpoints(List.of(local(net.rpc[0])), List.of(local(net.tx[0]))), node, 10_000)) {
            ChainClient.Refused e = assertThrows(ChainClient.Refused.class, () -> c.submit(transfer(Amounts.PASS.multiply(BigInteger.valueOf(1000)))));
            assertEquals(422, e.status());
            assertTrue(e.getMessage().startsWith("the chain refused the TRANSFER transaction (HTTP 422): "), e.getMessage());
        }
    }

    @Test
    void endpointsThatCannotBeReached_arePassedOverForTheNext() throws Exception {
        ChainClient.Endpoints e = new ChainClient.Endpoints(List.of(local(deadPort()), local(net.rpc[0])),
                List.of(local(deadPort()), local(net.tx[0])));
        try (ChainClient c = new ChainClient(e, node, 10_000)) {
            assertEquals(CHAIN, c.chainId());
            assertEquals(0, c.submit(transfer(BigInteger.ONE)).path("code").asInt(-1));
        }
    }

    @Test
    void noEndpointReachable_saysWhatWasTried() throws Exception {
        ChainClient.Endpoints e = new ChainClient.Endpoints(List.of(local(deadPort())), List.of(local(deadPort())));
        try (ChainClient c = new ChainClient(e, node, 2_000)) {
            IOException x = assertThrows(IOException.class, c::account);
            assertTrue(x.getMessage().startsWith("could not read the account " + c.address() + " from any of 1 chain RPC addresses: "),
                    x.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new ChainClient.Endpoints(List.of(), List.of(local(1))));
    }

    @Test
    void sign_aGivenFeeBelowWhatTheSizeAsks_isRefusedNamingBoth() {
        IOException e = assertThrows(IOException.class,
                () -> ChainClient.sign(node, transfer(BigInteger.ONE), CHAIN, 0, FEES, BigInteger.TEN));
        assertTrue(e.getMessage().startsWith("10 is below the "), e.getMessage());
        assertTrue(e.getMessage().contains(" base units this transaction must pay (1000 + 1000 per byte x "), e.getMessage());
    }
}
