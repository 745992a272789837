package io.oecloud.node;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.chain.node.ChainNode;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * OEChain's metrics on a super-node: read from its CometBFT every 2 s in the background (a scrape
 * never waits for the chain), plus the ledger's own transaction counters.
 */
final class ChainGauges implements AutoCloseable {
    private final ChainNode chain;
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "chain-metrics");
        t.setDaemon(true);
        return t;
    });
    private volatile double height = Double.NaN;
    private volatile double lastBlockTime = Double.NaN;
    private volatile double validators = Double.NaN;
    private volatile double power = Double.NaN;

    ChainGauges(ChainNode chain, MeterRegistry registry) {
        this.chain = chain;
        Gauge.builder("oe_chain_height", this, g -> g.height).description("Latest block height").register(registry);
        Gauge.builder("oe_chain_last_block_time_seconds", this, g -> g.lastBlockTime).description("Time of the latest block (unix seconds)").register(registry);
        Gauge.builder("oe_chain_mempool_txs", chain.app(), a -> a.pending()).description("Transactions waiting in this node's mempool").register(registry);
        Gauge.builder("oe_chain_validators", this, g -> g.validators).description("Validators in the current set").register(registry);
        Gauge.builder("oe_chain_voting_power", this, g -> g.power).description("This super-node's voting power").register(registry);
        FunctionCounter.builder("oe_chain_txs", chain.app(), a -> a.txsCommitted()).description("Transactions applied in committed blocks").register(registry);
        FunctionCounter.builder("oe_chain_txs_refused", chain.app(), a -> a.txsRefused()).description("Transactions in blocks that the ledger refused").register(registry);
        FunctionCounter.builder("oe_chain_proofs_verified", chain.app(), a -> a.proofsApplied())
                .description("SubmitProof transactions this super-node verified in FinalizeBlock").register(registry);
        FunctionCounter.builder("oe_chain_proof_verify_seconds", chain.app(), a -> a.proofSeconds())
                .description("Time this super-node spent verifying them (divide by oe_chain_proofs_verified for the mean)").register(registry);
        poller.scheduleWithFixedDelay(this::poll, 0, 2, TimeUnit.SECONDS);
    }

    private void poll() {
        try {
            JsonNode s = chain.rpc().get("/status").get(5, TimeUnit.SECONDS).path("result");
            height = s.at("/sync_info/latest_block_height").asDouble();
            lastBlockTime = Instant.parse(s.at("/sync_info/latest_block_time").asText()).toEpochMilli() / 1000.0;
            power = s.at("/validator_info/voting_power").asDouble();
            validators = chain.rpc().get("/validators").get(5, TimeUnit.SECONDS).at("/result/total").asDouble();
        } catch (Exception e) {
            // CometBFT restarting or busy: the gauges keep their last values until the next poll
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }
}
