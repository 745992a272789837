package io.oecloud.node;

import io.oecloud.chain.client.ChainClient;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A node's link to OEChain, for every node and not only super-nodes: its account (the node's peer
 * ID) read from the chain every {@code every}, and the {@link ChainClient} the node's own
 * transactions go through (registration and proofs of storage use it). The account is kept as
 * last read, so {@code GET /v1/status} answers from memory and never waits on a super-node; a read
 * that fails keeps the last good one and says why. The refresh never dies: every failure is
 * caught and reported in the status.
 */
public final class ChainLink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ChainLink.class.getName());

    /** The account as last read, when, and the last failure since (null when the last read worked). */
    private record Snapshot(ChainClient.Account account, Instant at, String error) {}

    private final ChainClient client;
    private final InstantSource clock;
    private final ScheduledExecutorService timer;
    private volatile Snapshot last;

    private ChainLink(ChainClient client, InstantSource clock) {
        this.client = client;
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "oe-chain-link");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts reading the account now and then every {@code every}; owns {@code client} from here on. */
    public static ChainLink start(ChainClient client, Duration every, InstantSource clock) {
        ChainLink link = new ChainLink(client, clock);
        link.timer.scheduleWithFixedDelay(link::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return link;
    }

    /** The client this node's transactions go through. */
    public ChainClient client() {
        return client;
    }

    void refresh() {
        try {
            last = new Snapshot(client.account(), clock.instant(), null);
        } catch (Exception | Error e) { // a periodic task never dies: the status says what failed
            Snapshot before = last;
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            last = new Snapshot(before == null ? null : before.account(), before == null ? null : before.at(), why);
            LOG.log(System.Logger.Level.DEBUG, "reading this node's account from the chain failed", e);
        }
    }

    /** What {@code GET /v1/status} shows under "chain": the account, its balance and nonce as last read, and when. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("account", client.address());
        Snapshot s = last;
        if (s != null && s.account() != null) {
            m.put("balance", s.account().balance().toString());
            m.put("nonce", s.account().nonce());
            m.put("readAt", s.at().toString());
        }
        if (s == null) {
            m.put("state", "not read yet");
        } else if (s.error() != null) {
            m.put("error", s.error());
        }
        return m;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        client.close();
    }
}
