package io.oecloud.chain.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.ledger.Block;
import io.oecloud.chain.ledger.Genesis;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.node.contracts.ChainSource;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The real ledger for the storage node's paid-storage tests, without CometBFT: a genesis with
 * storage parameters (periods of 20 blocks), blocks driven through {@link Block} on the in-memory
 * state, and the chain's own query code ({@link Queries}) answering {@code /price},
 * {@code /account} and {@code /contracts-held} from the committed state, as a {@link ChainSource}.
 * In this package because {@link Queries}' answers are package-private.
 */
public final class LedgerChain {
    public static final String CHAIN = "oe-holder-test";
    public static final int PERIOD_BLOCKS = 20;
    public static final BigInteger MIN_COLLATERAL = BigInteger.valueOf(1_000_000);
    public static final BigInteger FUNDS = BigInteger.TEN.pow(15);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Ledger ledger;
    private volatile LedgerState state;

    public LedgerChain(Identity... funded) throws IOException {
        ObjectNode app = JSON.createObjectNode().put("minFee", "1").put("feePerByte", "0");
        app.putObject("storage").put("periodBlocks", PERIOD_BLOCKS).put("windows", 4).put("challenges", 32)
                .put("minCollateral", MIN_COLLATERAL.toString()).put("penaltyPpm", 100_000).put("faultFee", "10")
                .put("commitDeadline", 1).put("retainPeriods", 4).put("defaultPrice", String.valueOf(1L << 30))
                .put("contractGracePeriods", 2);
        ArrayNode accounts = app.putArray("accounts");
        for (Identity id : funded) {
            accounts.addObject().put("address", Ledger.address(id.publicKey())).put("balance", FUNDS.toString());
        }
        Genesis g = Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1);
        ledger = new Ledger(CHAIN, g.fees());
        state = g.state();
    }

    /** The period of the last committed block. */
    public long period() {
        return state.storageParams().windowing().period(Math.max(0, state.height()));
    }

    /** The next block with {@code txs} (signed bytes); their results. */
    public synchronized List<Ledger.Result> block(byte[]... txs) {
        Block b = Block.begin(state, state.height() + 1, 1_000L * (state.height() + 1), List.of(), List.of());
        List<Ledger.Result> rs = new ArrayList<>();
        for (byte[] tx : txs) {
            rs.add(b.apply(ledger, ledger.check(tx)));
        }
        b.end(); // throws when the supply invariant breaks
        state = b.state();
        return rs;
    }

    /** Empty blocks until the last committed block is in {@code period}. */
    public void runToPeriod(long period) {
        while (period() < period) {
            block();
        }
    }

    /** {@code body} signed by {@code key} with its next nonce, applied in the next block; its result. */
    public Ledger.Result submit(Identity key, TxBody.Builder body) {
        long n = state.account(Ledger.address(key.publicKey())).nonce();
        body.setChainId(CHAIN).setSender(ByteString.copyFrom(key.publicKey())).setNonce(n);
        return block(ledger.fees().sign(key, body)).get(0);
    }

    public static TxBody.Builder register(long capacity) {
        return TxBody.newBuilder().setRegisterStorageNode(ChainProto.RegisterStorageNode.newBuilder().setCapacity(capacity)
                .setCollateral(ByteString.copyFrom(Amounts.encode(MIN_COLLATERAL.multiply(BigInteger.TEN)))));
    }

    public static TxBody.Builder create(byte[] object, int periods, List<ChainProto.Receipt> receipts) {
        return TxBody.newBuilder().setCreateContract(ChainProto.CreateContract.newBuilder().setObject(ByteString.copyFrom(object))
                .setPeriods(periods).addAllReceipts(receipts));
    }

    public static TxBody.Builder end(byte[] object) {
        return TxBody.newBuilder().setEndContract(ChainProto.EndContract.newBuilder().setObject(ByteString.copyFrom(object)));
    }

    public BigInteger balance(Identity who) {
        return state.account(Ledger.address(who.publicKey())).balance();
    }

    /** The chain's query answers from the committed state, as the node reads them. */
    public ChainSource source() {
        return (path, data) -> {
            LedgerState s = state;
            Map<String, Object> answer = switch (path) {
                case "/price" -> Queries.price(s);
                case "/account" -> Queries.account(s, data);
                case "/contracts-held" -> Queries.contractsPage(s, data, false);
                default -> throw new IOException("this test chain answers /price, /account and /contracts-held, not " + path);
            };
            return answer == null ? null : (JsonNode) JSON.valueToTree(answer);
        };
    }
}
