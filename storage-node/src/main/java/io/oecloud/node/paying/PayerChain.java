package io.oecloud.node.paying;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.client.CometRpc;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the payer side reads from OEChain: the price of the current period, contracts (one, or a
 * payer's, or a holder's, page by page), a node's payments and record, the period length and the
 * chain's recent block time. Every answer is checked before it is used: a missing or malformed
 * field is an {@link IOException} naming it, never a default that would make a wrong price.
 * The reads go to a super-node's CometBFT RPC ({@code abci_query}), any of several that answers.
 */
public final class PayerChain implements AutoCloseable {
    /** Contracts accepted from one listing (pages of at most 1,000: a thousand pages). */
    static final int MAX_CONTRACTS = 1_000_000;
    /** Blocks looked back to measure the chain's block time. */
    static final int BLOCK_TIME_SPAN = 100;

    /** Reads the chain: abci_query answers as decoded JSON (null: not there), and raw RPC GETs. */
    public interface Source {
        JsonNode query(String path, String data) throws IOException;

        JsonNode get(String path) throws IOException;
    }

    /** The price of a period: base units per GiB (2^30 bytes) per period; {@code fallback} when no node asks. */
    public record Price(long period, BigInteger price, boolean fallback) {}

    /** The chain's head and pace: the latest height, its block's time, milliseconds per block lately. */
    public record Pace(long height, Instant time, long blockMillis) {}

    /**
     * A holder of a contract: its address, the bytes it is paid for, its share of each period's
     * cost, and the entries root of its receipt (hex; the chain challenges it under that root).
     */
    public record Holder(String holder, long bytes, BigInteger share, String root) {}

    /** A term of a contract: periods [start, end) at {@code cost} a period. */
    public record Term(long start, long end, BigInteger cost) {}

    /**
     * A contract as the chain holds it: paid periods [start, end), the cost of the current term,
     * the escrow left, its holders and terms.
     */
    public record Contract(String object, String payer, long bytes, long start, long end, BigInteger costPerPeriod,
                           BigInteger escrow, List<Holder> holders, List<Term> terms) {
        public Contract {
            holders = List.copyOf(holders);
            terms = List.copyOf(terms);
        }
    }

    /** One period's payment to a node ({@code paid} false: it did not prove, the amount went to the fee pool). */
    public record Payment(long period, BigInteger amount, boolean paid) {}

    /** A node's rate (base units a period it is due now), what settlement paid it since genesis, and its recent payments, newest first. */
    public record Payments(String node, BigInteger rate, BigInteger earned, List<Payment> payments) {}

    private final Source source;
    private final List<CometRpc> owned = new ArrayList<>();

    public PayerChain(Source source) {
        this.source = source;
    }

    /** Reads from {@code rpc} (the first that answers; each call within {@code deadlineMillis}). */
    public static PayerChain over(List<InetSocketAddress> rpc, long deadlineMillis) {
        List<CometRpc> clients = new ArrayList<>();
        for (InetSocketAddress a : rpc) {
            clients.add(new CometRpc(a, deadlineMillis));
        }
        PayerChain c = new PayerChain(new Source() {
            @Override
            public JsonNode query(String path, String data) throws IOException {
                return first(path, c -> c.query(path, data));
            }

            @Override
            public JsonNode get(String path) throws IOException {
                return first(path, c -> c.get(path));
            }

            private JsonNode first(String what, java.util.function.Function<CometRpc, java.util.concurrent.CompletableFuture<JsonNode>> call)
                    throws IOException {
                IOException last = null;
                for (int i = 0; i < clients.size(); i++) {
                    try {
                        return call.apply(clients.get(i)).get(deadlineMillis + 1_000, TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", e);
                    } catch (Exception e) {
                        Throwable cause = e.getCause() != null ? e.getCause() : e;
                        last = new IOException(what + " from " + rpc.get(i).getHostString() + ":" + rpc.get(i).getPort() + ": "
                                + (cause.getMessage() == null ? cause.toString() : cause.getMessage()), cause);
                    }
                }
                throw last != null ? last : new IOException("no chain RPC address configured");
            }
        });
        c.owned.addAll(clients);
        return c;
    }

    /** The price of the current period. */
    public Price price() throws IOException {
        JsonNode p = source.query("/price", "");
        if (p == null) {
            throw new IOException("the chain does not answer /price (a ledger without storage contracts?)");
        }
        return new Price(count(p, "period", "/price"), amount(p, "price", "/price"), p.path("default").asBoolean(false));
    }

    /** Blocks in a period, from the ledger's parameters. */
    public long periodBlocks() throws IOException {
        JsonNode p = source.query("/params", "");
        if (p == null) {
            throw new IOException("the chain does not answer /params");
        }
        JsonNode v = p.path("storage").path("periodBlocks");
        long blocks;
        try {
            blocks = Long.parseLong(v.asText(""));
        } catch (NumberFormatException e) {
            throw new IOException("the chain's /params has no storage.periodBlocks (was '" + v.asText("") + "')");
        }
        if (blocks < 1) {
            throw new IOException("the chain's storage.periodBlocks must be positive, was " + blocks);
        }
        return blocks;
    }

    /**
     * The latest height, its time, and the mean time between the last {@value #BLOCK_TIME_SPAN}
     * blocks (fewer on a young chain; 1 s when there is only one block to go by).
     */
    public Pace pace() throws IOException {
        JsonNode st = source.get("/status").path("result").path("sync_info");
        long height = st.path("latest_block_height").asLong(-1);
        Instant time = instant(st.path("latest_block_time").asText(""), "/status latest_block_time");
        if (height < 1) {
            throw new IOException("the chain's /status has no latest_block_height");
        }
        long back = Math.min(BLOCK_TIME_SPAN, height - 1);
        if (back < 1) {
            return new Pace(height, time, 1_000);
        }
        JsonNode b = source.get("/block?height=" + (height - back));
        Instant then = instant(b.at("/result/block/header/time").asText(""), "/block header time");
        long ms = Math.max(1, (time.toEpochMilli() - then.toEpochMilli()) / back);
        return new Pace(height, time, ms);
    }

    /** The contract of (object, payer), or null when the chain holds none. */
    public Contract contract(String object, String payer) throws IOException {
        JsonNode c = source.query("/contract", object + "/" + payer);
        return c == null || c.isNull() ? null : contract(c);
    }

    /** Every contract {@code payer} pays for, page by page. */
    public List<Contract> contractsPaid(String payer) throws IOException {
        return listing("/contracts-paid", payer);
    }

    /** Every contract that names {@code node} as a holder, page by page. */
    public List<Contract> contractsHeld(String node) throws IOException {
        return listing("/contracts-held", node);
    }

    /** {@code node}'s rate and recent payments (rate 0, none, for a node the chain pays nothing). */
    public Payments payments(String node) throws IOException {
        JsonNode p = source.query("/payments", node);
        if (p == null || p.isNull()) {
            return new Payments(node, BigInteger.ZERO, BigInteger.ZERO, List.of());
        }
        List<Payment> out = new ArrayList<>();
        for (JsonNode e : p.path("payments")) {
            out.add(new Payment(count(e, "period", "/payments"), amount(e, "amount", "/payments"), e.path("paid").asBoolean(false)));
        }
        return new Payments(node, p.has("rate") ? amount(p, "rate", "/payments") : BigInteger.ZERO,
                p.has("earned") ? amount(p, "earned", "/payments") : BigInteger.ZERO, out);
    }

    /** The addresses of the registered storage nodes that are active and not leaving: the holders a contract may name. */
    public java.util.Set<String> activeStorageNodes() throws IOException {
        JsonNode nodes = source.query("/storage-nodes", "");
        java.util.Set<String> out = new java.util.HashSet<>();
        if (nodes == null || !nodes.isArray()) {
            return out;
        }
        for (JsonNode n : nodes) {
            if (n.path("active").asBoolean(false) && !n.path("leaving").asBoolean(false)) {
                out.add(n.path("address").asText());
            }
        }
        return out;
    }

    /** The chain's record of storage node {@code node} as its query answers it, or null when not registered. */
    public JsonNode storageNode(String node) throws IOException {
        JsonNode n = source.query("/storage-node", node);
        return n == null || n.isNull() ? null : n;
    }

    private List<Contract> listing(String path, String who) throws IOException {
        List<Contract> out = new ArrayList<>();
        String cursor = "";
        do {
            JsonNode page = source.query(path, cursor.isEmpty() ? who : who + "/" + cursor);
            if (page == null || page.isNull()) {
                break;
            }
            for (JsonNode c : page.path("contracts")) {
                out.add(contract(c));
                if (out.size() > MAX_CONTRACTS) {
                    throw new IOException(path + " for " + who + " lists more than " + MAX_CONTRACTS + " contracts");
                }
            }
            String next = page.path("next").asText("");
            if (!next.isEmpty() && next.equals(cursor)) {
                throw new IOException(path + " for " + who + " answered the same cursor twice (" + next + ")");
            }
            cursor = next;
        } while (!cursor.isEmpty());
        return out;
    }

    static Contract contract(JsonNode c) throws IOException {
        String what = "a contract";
        String object = text(c, "object", what);
        String payer = text(c, "payer", what);
        List<Holder> holders = new ArrayList<>();
        for (JsonNode h : c.path("holders")) {
            holders.add(new Holder(text(h, "holder", what), count(h, "bytes", what), amount(h, "share", what), text(h, "root", what)));
        }
        List<Term> terms = new ArrayList<>();
        for (JsonNode t : c.path("terms")) {
            terms.add(new Term(count(t, "start", what), count(t, "end", what), amount(t, "cost", what)));
        }
        return new Contract(object, payer, count(c, "bytes", what), count(c, "start", what), count(c, "end", what),
                amount(c, "costPerPeriod", what), amount(c, "escrow", what), holders, terms);
    }

    private static String text(JsonNode n, String field, String what) throws IOException {
        String s = n.path(field).asText("");
        if (s.isEmpty()) {
            throw new IOException(what + " from the chain has no '" + field + "'");
        }
        return s;
    }

    private static long count(JsonNode n, String field, String what) throws IOException {
        JsonNode v = n.path(field);
        if (!v.canConvertToLong() && !v.isTextual()) {
            throw new IOException(what + " from the chain has no number '" + field + "'");
        }
        try {
            long x = v.isTextual() ? Long.parseLong(v.asText()) : v.asLong();
            if (x < 0) {
                throw new IOException(what + " from the chain has a negative '" + field + "': " + x);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new IOException(what + " from the chain has a malformed '" + field + "': " + v.asText());
        }
    }

    private static BigInteger amount(JsonNode n, String field, String what) throws IOException {
        String s = n.path(field).asText("");
        try {
            BigInteger v = new BigInteger(s);
            if (v.signum() < 0) {
                throw new IOException(what + " from the chain has a negative amount '" + field + "': " + s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IOException(what + " from the chain has no amount '" + field + "' (was '" + s + "')");
        }
    }

    private static Instant instant(String s, String what) throws IOException {
        try {
            return Instant.parse(s);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IOException("the chain's " + what + " is not a time: '" + s + "'");
        }
    }

    @Override
    public void close() {
        owned.forEach(CometRpc::close);
    }
}
