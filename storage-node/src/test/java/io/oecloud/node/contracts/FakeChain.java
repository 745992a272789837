package io.oecloud.node.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.oecloud.dht.PeerId;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The chain's answers to {@code /price}, {@code /account} and {@code /contracts-held} in the shapes
 * chain-bridge serves them (s31 "Query shapes"), from a model the test sets: a period and price,
 * balances, contracts (paged {@code pageSize} at a time). {@code failing} makes every query throw,
 * {@code malformed} answers a page without its list: both must leave the holder's view alone.
 */
final class FakeChain implements ChainSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Contract(Cid object, PeerId payer, long start, long end, List<PeerId> holders) {}

    volatile long period = 10;
    volatile BigInteger price = BigInteger.ONE.shiftLeft(30); // 1 base unit a byte per period: easy sums
    final Map<String, BigInteger> balances = new HashMap<>();
    final List<Contract> contracts = new ArrayList<>();
    volatile boolean failing;
    volatile boolean malformed;
    volatile int pageSize = 2;
    final AtomicInteger queries = new AtomicInteger();

    @Override
    public synchronized JsonNode query(String path, String data) throws IOException {
        queries.incrementAndGet();
        if (failing) {
            throw new IOException("no super-node answered (the test's chain is down)");
        }
        switch (path) {
            case "/price" -> {
                ObjectNode n = JSON.createObjectNode();
                n.put("period", period);
                n.put("price", price.toString());
                n.put("default", false);
                return n;
            }
            case "/account" -> {
                BigInteger b = balances.get(data);
                if (b == null) {
                    return null;
                }
                ObjectNode n = JSON.createObjectNode();
                n.put("balance", b.toString());
                n.put("nonce", 0);
                return n;
            }
            case "/contracts-held" -> {
                int slash = data.indexOf('/');
                String node = slash < 0 ? data : data.substring(0, slash);
                int from = slash < 0 ? 0 : Integer.parseInt(data.substring(slash + 1));
                List<Contract> mine = contracts.stream().filter(c -> c.holders().stream().anyMatch(h -> h.toString().equals(node)))
                        .toList();
                ObjectNode page = JSON.createObjectNode();
                if (malformed) {
                    page.put("contracts", "not a list");
                    return page;
                }
                ArrayNode list = page.putArray("contracts");
                int to = Math.min(mine.size(), from + pageSize);
                for (Contract c : mine.subList(from, to)) {
                    ObjectNode o = list.addObject();
                    o.put("object", c.object().toString());
                    o.put("payer", c.payer().toString());
                    o.put("bytes", "4096");
                    o.put("start", c.start());
                    o.put("end", c.end());
                    o.put("costPerPeriod", "1");
                    o.put("escrow", "1");
                    ArrayNode hs = o.putArray("holders");
                    for (PeerId h : c.holders()) {
                        hs.addObject().put("holder", h.toString()).put("bytes", "1").put("share", "1");
                    }
                    o.putArray("terms").addObject().put("start", c.start()).put("end", c.end()).put("cost", "1");
                }
                page.put("next", to < mine.size() ? String.valueOf(to) : "");
                return page;
            }
            default -> throw new IOException("unknown query path " + path);
        }
    }
}
