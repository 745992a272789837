package io.oecloud.node;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.chain.client.CometRpc;
import io.oecloud.chain.ledger.Storage;
import io.oecloud.dht.PeerId;
import io.oecloud.node.object.HolderRecords;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The chain's word on the nodes that hold shards, for repair and placement ({@link HolderRecords}):
 * the registered storage nodes ({@code /storage-nodes}) and every fault list the chain still holds
 * ({@code /storage-faults}, page by page), read every {@code every} on a thread of its own and kept
 * as one immutable view, so an upload or a probe answers from memory and never waits on the chain.
 * A read that fails, or an answer that does not make sense (too large, malformed), keeps the last
 * view, is counted ({@code oe_chain_records_failures_total}), logged once per distinct reason and
 * shown in {@link #status}; the reads go on.
 *
 * <p>The rule. A fault list of node N for period p is <em>open</em> until N proves a later period
 * (the query's {@code provenAfter}: the first period after p whose root N proved). While it is
 * open: a missed window makes N suspect of every block (the chain holds only N's root and entry
 * count, not which shards it lost); a CID declared (or found) faulty makes N suspect of that CID.
 * Standing: registered, active, no fault list at all in the periods the chain retains (its
 * {@code retainPeriods}: 4 on the devnet, 16 by default) and not in poor standing with the timed
 * audits ({@code poorStanding}: too many failed audits lately) is
 * {@link HolderRecords.Standing#CLEAN}; registered otherwise {@code RECORD}; not registered
 * {@code UNKNOWN}. The audits change standing only: a failed audit names no shard the chain knows
 * is lost, so it makes no holder suspect.
 */
final class ChainRecords implements HolderRecords, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ChainRecords.class.getName());

    /** Registered storage nodes accepted in one answer, fault lists in one page, pages in one read. */
    static final int MAX_NODES = 100_000;
    static final int MAX_LISTS_PER_PAGE = 1_024;
    static final int MAX_PAGES = 1_024;

    /** What a read found; immutable. {@code all}: suspect of every block; {@code cids}: of these. */
    record View(Map<PeerId, Standing> standing, Set<PeerId> all, Map<PeerId, Set<Cid>> cids, Set<String> openKeys,
                int lists, Instant at) {
        static final View EMPTY = new View(Map.of(), Set.of(), Map.of(), Set.of(), 0, null);
    }

    /** Reads the chain's two queries; the answers as decoded JSON (null: not answered, code != 0). */
    interface Source {
        JsonNode query(String path, String data) throws IOException;
    }

    private final Source source;
    private final InstantSource clock;
    private final Counter failures;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-chain-records");
        t.setDaemon(true);
        return t;
    });
    private final List<CometRpc> rpcs = new ArrayList<>();
    private volatile View view = View.EMPTY;
    private volatile long generation;
    private volatile String error;
    private volatile Consumer<HolderRecords> onRead = r -> {};

    ChainRecords(Source source, InstantSource clock, MeterRegistry metrics) {
        this.source = source;
        this.clock = clock;
        this.failures = Counter.builder("oe_chain_records_failures")
                .description("Reads of the chain's storage-node records and fault lists that failed or were refused").register(metrics);
        Gauge.builder("oe_chain_suspect_holders", this, c -> c.view.all().size() + c.view.cids().size())
                .description("Nodes the chain's open fault lists name (not counted as holders of what they name)").register(metrics);
    }

    /** Records read from {@code rpc} (any that answers, each call within {@code deadlineMillis}). */
    static ChainRecords over(List<InetSocketAddress> rpc, long deadlineMillis, InstantSource clock, MeterRegistry metrics) {
        List<CometRpc> clients = new ArrayList<>();
        for (InetSocketAddress a : rpc) {
            clients.add(new CometRpc(a, deadlineMillis));
        }
        ChainRecords r = new ChainRecords((path, data) -> {
            IOException last = null;
            for (int i = 0; i < clients.size(); i++) {
                CometRpc c = clients.get(i);
                String at = rpc.get(i).getHostString() + ":" + rpc.get(i).getPort();
                try {
                    return c.query(path, data).get(deadlineMillis + 1_000, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                } catch (Exception e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    last = new IOException(path + " from " + at + ": " + (cause.getMessage() == null ? cause.toString() : cause.getMessage()), cause);
                }
            }
            throw last != null ? last : new IOException("no chain RPC address configured");
        }, clock, metrics);
        r.rpcs.addAll(clients);
        return r;
    }

    /** Reads now and then every {@code every}; {@code onRead} is called after each read (also a failed one). */
    ChainRecords start(Duration every, Consumer<HolderRecords> onRead) {
        this.onRead = onRead;
        timer.scheduleWithFixedDelay(this::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One read; never throws (a periodic task never dies). */
    void refresh() {
        try {
            View next = read();
            if (!view.openKeys().containsAll(next.openKeys())) {
                generation++; // a fault list opened that was not open before: repair looks again
            }
            view = next;
            error = null;
        } catch (Exception | Error e) {
            failures.increment();
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.log(why.equals(error) ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    "reading the chain''s fault lists failed (the last view is kept): {0}", why);
            error = why;
        }
        try {
            onRead.accept(this);
        } catch (Exception | Error e) {
            LOG.log(System.Logger.Level.WARNING, "acting on the chain''s fault lists failed: {0}", String.valueOf(e));
        }
    }

    /** Reads and checks both queries; throws with the reason when the chain's answer is refused. */
    View read() throws IOException {
        JsonNode nodes = source.query("/storage-nodes", "");
        if (nodes == null || !nodes.isArray()) {
            throw new IOException("the chain's /storage-nodes answer is not a list");
        }
        if (nodes.size() > MAX_NODES) {
            throw new IOException("the chain's /storage-nodes answer lists " + nodes.size() + " nodes, more than " + MAX_NODES
                    + " are refused");
        }
        Map<PeerId, Boolean> active = new HashMap<>();
        Set<PeerId> poor = new HashSet<>();
        for (JsonNode n : nodes) {
            PeerId p = peer(n.path("address"), "/storage-nodes");
            active.put(p, n.path("active").asBoolean(false));
            if (n.path("poorStanding").asBoolean(false)) {
                poor.add(p); // its timed audits failed too often lately
            }
        }
        Set<PeerId> all = new HashSet<>();
        Map<PeerId, Set<Cid>> cids = new HashMap<>();
        Set<PeerId> withRecord = new HashSet<>();
        Set<String> open = new HashSet<>();
        int lists = 0;
        String cursor = "";
        Set<String> cursors = new HashSet<>();
        for (int page = 0; ; page++) {
            if (page == MAX_PAGES) {
                throw new IOException("the chain's /storage-faults answer goes on past " + MAX_PAGES + " pages: refused");
            }
            JsonNode p = source.query("/storage-faults", cursor);
            if (p == null || !p.path("faults").isArray()) {
                throw new IOException("the chain's /storage-faults answer has no list of faults");
            }
            JsonNode faults = p.path("faults");
            if (faults.size() > MAX_LISTS_PER_PAGE) {
                throw new IOException("a /storage-faults page holds " + faults.size() + " fault lists, more than "
                        + MAX_LISTS_PER_PAGE + " are refused");
            }
            for (JsonNode f : faults) {
                PeerId node = peer(f.path("node"), "/storage-faults");
                long period = f.path("period").asLong(-1);
                JsonNode provenAfter = f.path("provenAfter");
                JsonNode named = f.path("cids");
                if (period < 0 || !f.path("missed").isBoolean() || !named.isArray()
                        || !(provenAfter.isNull() || provenAfter.isMissingNode() || provenAfter.asLong(-1) > period)) {
                    throw new IOException("a /storage-faults list is malformed: " + abbreviate(f.toString()));
                }
                if (named.size() > Storage.MAX_DECLARED_PER_PERIOD) {
                    throw new IOException("a /storage-faults list names " + named.size() + " CIDs, more than a period holds ("
                            + Storage.MAX_DECLARED_PER_PERIOD + ")");
                }
                lists++;
                withRecord.add(node);
                if (!(provenAfter.isNull() || provenAfter.isMissingNode())) {
                    continue; // answered for: the node proved a later period
                }
                if (f.path("missed").asBoolean()) {
                    all.add(node);
                    open.add(node + "/" + period + "/missed");
                }
                for (JsonNode c : named) {
                    Cid cid;
                    try {
                        cid = Cid.parse(c.asText());
                    } catch (RuntimeException e) {
                        throw new IOException("a /storage-faults list names '" + abbreviate(c.asText()) + "', not a CID");
                    }
                    cids.computeIfAbsent(node, x -> new HashSet<>()).add(cid);
                    open.add(node + "/" + period + "/" + cid);
                }
            }
            JsonNode next = p.path("next");
            if (next.isNull() || next.isMissingNode()) {
                break;
            }
            String n = next.asText();
            if (n.isEmpty() || n.length() > 160 || !cursors.add(n)) {
                throw new IOException("the chain's /storage-faults cursor '" + abbreviate(n) + "' is empty, too long or"
                        + " was given before (the pages would not end)");
            }
            cursor = n;
        }
        Map<PeerId, Standing> standing = new HashMap<>();
        active.forEach((p, a) -> standing.put(p, a && !withRecord.contains(p) && !poor.contains(p) ? Standing.CLEAN : Standing.RECORD));
        Map<PeerId, Set<Cid>> frozen = new HashMap<>();
        cids.forEach((p, s) -> frozen.put(p, Set.copyOf(s)));
        return new View(Map.copyOf(standing), Set.copyOf(all), Map.copyOf(frozen), Set.copyOf(open), lists, clock.instant());
    }

    private static PeerId peer(JsonNode n, String what) throws IOException {
        try {
            return PeerId.parse(n.asText());
        } catch (RuntimeException e) {
            throw new IOException("the chain's " + what + " answer names '" + abbreviate(n.asText()) + "', not a peer ID");
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    @Override
    public boolean suspect(PeerId peer, Cid cid) {
        View v = view;
        if (v.all().contains(peer)) {
            return true;
        }
        Set<Cid> s = v.cids().get(peer);
        return s != null && s.contains(cid);
    }

    @Override
    public boolean suspectOfAny(PeerId peer) {
        View v = view;
        return v.all().contains(peer) || v.cids().containsKey(peer);
    }

    @Override
    public Standing standing(PeerId peer) {
        return view.standing().getOrDefault(peer, Standing.UNKNOWN);
    }

    @Override
    public long generation() {
        return generation;
    }

    /** What {@code GET /v1/status} shows under "chainRecords": when read, the counts, the last failure. */
    Map<String, Object> status() {
        View v = view;
        Map<String, Object> m = new LinkedHashMap<>();
        if (v.at() == null) {
            m.put("state", "not read yet");
        } else {
            m.put("readAt", v.at().toString());
            m.put("registered", v.standing().size());
            m.put("clean", v.standing().values().stream().filter(s -> s == Standing.CLEAN).count());
            m.put("faultLists", v.lists());
            List<String> suspects = new ArrayList<>();
            v.all().forEach(p -> suspects.add(p + " (missed a window: every block)"));
            v.cids().forEach((p, s) -> suspects.add(p + " (" + s.size() + " CIDs)"));
            m.put("suspectCount", suspects.size());
            m.put("suspects", suspects.subList(0, Math.min(20, suspects.size()))); // the first 20: a status stays small
        }
        if (error != null) {
            m.put("error", error);
        }
        return m;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        rpcs.forEach(CometRpc::close);
    }
}
