package io.oecloud.chain.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.RequestQuery;
import io.oecloud.chain.abci.AbciTypesProto.ResponseQuery;
import io.oecloud.chain.abci.CryptoproofProto.ProofOp;
import io.oecloud.chain.abci.CryptoproofProto.ProofOps;
import io.oecloud.chain.ledger.Contracts;
import io.oecloud.chain.ledger.Fees;
import io.oecloud.chain.ledger.LedgerState;
import io.oecloud.chain.ledger.StateTree;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ABCI queries, answered at the committed height in JSON: {@code /account} (data = address),
 * {@code /cid} (data = CID), {@code /name} (data = a name; code 1 naming what is wrong with an invalid one), {@code /candidates}, {@code /params}, {@code /beacon},
 * {@code /storage-nodes}, {@code /storage-node} (data = address), {@code /storage-faults} (data =
 * a cursor, see {@link #storageFaults}), and paid storage's {@code /price}, {@code /contract} (data =
 * OBJECTCID/PAYER), {@code /contracts-paid} and {@code /contracts-held} (data = address or
 * address/cursor), {@code /payments} (data = address), {@code /escrow}. With {@code prove}, the
 * answers with one state entry behind them ({@code /account}, {@code /cid}, {@code /name}, {@code /beacon},
 * {@code /storage-node}, {@code /contract}, {@code /price}, {@code /payments}: the node's rate,
 * {@code /escrow}) carry a {@link StateTree} proof of the entry (its presence, or its absence) as
 * proof op {@link StateTree#PROOF_TYPE}.
 *
 * <p>Threading: called under the {@link LedgerApp}'s monitor (the committed tree is built lazily).
 */
final class Queries {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> PATHS = List.of("/account", "/cid", "/name", "/candidates", "/params", "/beacon", "/storage-nodes", "/storage-node",
            "/audits", "/storage-faults", "/price", "/contract", "/contracts-paid", "/contracts-held", "/payments", "/escrow");
    /** Contracts per {@code /contracts-paid} and {@code /contracts-held} page. */
    static final int CONTRACTS_PAGE = 1000;
    /** Fault lists per {@code /storage-faults} page, and CIDs (a page holds at least one list whatever its size). */
    static final int FAULTS_PAGE = 256;
    static final int FAULT_CIDS_PAGE = 16_384;

    private Queries() {}

    /** The answer to {@code r} from the committed state of {@code blocks}; {@code fees} is null before InitChain. */
    static ResponseQuery answer(RequestQuery r, BlockCommitter blocks, Fees fees) throws IOException {
        LedgerState committed = blocks.committed();
        String data = r.getData().toString(StandardCharsets.UTF_8);
        if (r.getPath().equals("/storage-faults") && storageFaultsCursor(data) == null) {
            return ResponseQuery.newBuilder().setHeight(committed.height()).setKey(r.getData()).setCode(1)
                    .setLog("a /storage-faults cursor is empty or ADDRESS/PERIOD (the last page's \"next\"), not '"
                            + (data.length() > 80 ? data.substring(0, 80) + "…" : data) + "'").build();
        }
        if (r.getPath().equals("/name") && io.oecloud.chain.ledger.Names.problem(data) != null) {
            return ResponseQuery.newBuilder().setHeight(committed.height()).setKey(r.getData()).setCode(1)
                    .setLog(io.oecloud.chain.ledger.Names.problem(data)).build();
        }
        Object answer = switch (r.getPath()) {
            case "/account" -> account(committed, data);
            case "/cid" -> cid(committed, data);
            case "/name" -> name(committed, data);
            case "/candidates" -> candidates(committed);
            case "/params" -> params(committed, fees);
            case "/beacon" -> beacon(committed);
            case "/storage-nodes" -> storageNodes(committed);
            case "/storage-node" -> storageNode(committed, data);
            case "/audits" -> audits(committed, data);
            case "/storage-faults" -> storageFaults(committed, data);
            case "/price" -> price(committed);
            case "/contract" -> contract(committed, data);
            case "/contracts-paid" -> contractsPage(committed, data, true);
            case "/contracts-held" -> contractsPage(committed, data, false);
            case "/payments" -> payments(committed, data);
            case "/escrow" -> Map.of("pool", committed.escrowPool().toString(), "height", committed.height());
            case "/supply" -> supply(committed);
            default -> null;
        };
        ResponseQuery.Builder b = ResponseQuery.newBuilder().setHeight(committed.height()).setKey(r.getData());
        String stateKey = switch (r.getPath()) {
            case "/account" -> "account/" + data;
            case "/cid" -> "cid/" + data;
            case "/name" -> "name/" + data;
            case "/beacon" -> "beacon/seed";
            case "/storage-node" -> "storage-node/" + data;
            case "/contract" -> "contract/" + data;
            case "/price" -> "price/value";
            case "/payments" -> "rate/" + data;
            case "/escrow" -> "pool/escrow";
            default -> null;
        };
        if (r.getProve() && stateKey != null) {
            b.setProofOps(ProofOps.newBuilder().addOps(ProofOp.newBuilder().setType(StateTree.PROOF_TYPE)
                    .setKey(ByteString.copyFromUtf8(stateKey)).setData(blocks.tree().prove(stateKey, committed.height()).toByteString())));
        }
        if (answer == null) {
            boolean known = PATHS.contains(r.getPath());
            return b.setCode(known ? 2 : 1).setLog(known ? data + " is not registered" : "unknown query path '" + r.getPath()
                    + "' (known: /account, /cid, /name, /candidates, /params, /beacon, /storage-nodes, /storage-node, /audits, /storage-faults, /price, /contract, /contracts-paid, /contracts-held, /payments, /escrow)").build();
        }
        return b.setCode(0).setValue(ByteString.copyFrom(JSON.writeValueAsBytes(answer))).build();
    }

    static Map<String, Object> account(LedgerState s, String addr) {
        LedgerState.Account a = s.account(addr);
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("address", addr);
        m.put("balance", a.balance().toString());
        m.put("nonce", a.nonce());
        Map<String, String> bonded = new java.util.LinkedHashMap<>();
        s.delegationsOf(addr).forEach((c, v) -> bonded.put(c, v.toString()));
        m.put("delegations", bonded);
        List<Map<String, Object>> unbonding = new ArrayList<>();
        for (LedgerState.Unbonding u : s.unbondingsOf(addr)) {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("candidate", u.candidate());
            e.put("amount", u.amount().toString());
            e.put("completeHeight", u.completeHeight());
            unbonding.add(e);
        }
        m.put("unbonding", unbonding);
        return m;
    }

    static Map<String, Object> cid(LedgerState s, String cid) {
        LedgerState.CidRecord c = s.cid(cid);
        if (c == null) {
            return null;
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("cid", cid);
        m.put("owner", c.owner());
        m.put("sinceHeight", c.sinceHeight());
        m.put("sinceTime", java.time.Instant.ofEpochMilli(c.sinceMillis()).toString());
        m.put("title", c.title());
        m.put("license", c.license());
        return m;
    }

    /** A name's record ({@code /name}): null when it is not registered. */
    static Map<String, Object> name(LedgerState s, String name) {
        io.oecloud.chain.ledger.Names.Record n = s.name(name);
        if (n == null) {
            return null;
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("name", name);
        m.put("owner", n.owner());
        m.put("root", n.root().toString());
        m.put("sinceHeight", n.sinceHeight());
        m.put("updatedHeight", n.updatedHeight());
        m.put("updatedTime", java.time.Instant.ofEpochMilli(n.updatedMillis()).toString());
        return m;
    }

    /** Every candidate, by stake (largest first), with its power when it is a validator. */
    static List<Map<String, Object>> candidates(LedgerState s) {
        List<Map<String, Object>> l = new ArrayList<>();
        s.candidates().forEach((op, c) -> {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("address", op);
            m.put("moniker", c.moniker());
            m.put("validatorAddress", c.validatorAddress());
            m.put("validatorKey", java.util.Base64.getEncoder().encodeToString(c.validatorKey()));
            m.put("stake", c.stake().toString());
            m.put("selfBond", s.delegation(op, op).toString());
            m.put("delegators", s.delegationsTo(op).size());
            m.put("commissionPpm", c.commissionPpm());
            m.put("jailed", c.jailed());
            m.put("jailedUntil", c.jailedUntil());
            m.put("power", s.validators().getOrDefault(op, 0L));
            LedgerState.BeaconKey bk = s.beaconKey(op);
            if (bk != null) { // a candidate without one cannot contribute to the beacon
                m.put("beaconKey", java.util.Base64.getEncoder().encodeToString(bk.publicKey()));
            }
            l.add(m);
        });
        l.sort(java.util.Comparator.comparing((Map<String, Object> m) -> new BigInteger((String) m.get("stake"))).reversed()
                .thenComparing(m -> (String) m.get("address")));
        return l;
    }

    /**
     * The beacon after the committed block: its seed (hex), the height it is the seed of, the
     * last height whose block carried a beacon ({@code advanced}: this block's did), and how many
     * validators registered beacon keys. Null (not registered) in a ledger made before the beacon.
     */
    static Map<String, Object> beacon(LedgerState s) {
        byte[] seed = s.beaconSeed();
        if (seed == null) {
            return null;
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("height", s.height());
        m.put("seed", java.util.HexFormat.of().formatHex(seed));
        m.put("beaconHeight", s.beaconHeight());
        m.put("advanced", s.beaconHeight() == s.height() && s.height() > 0);
        m.put("previousSeed", java.util.HexFormat.of().formatHex(s.beaconPreviousSeed()));
        return m;
    }

    /** Every registered storage node with its collateral and record, by address. */
    static List<Map<String, Object>> storageNodes(LedgerState s) {
        List<Map<String, Object>> l = new ArrayList<>();
        s.storageNodes().forEach((addr, n) -> l.add(storageNodeView(s, addr, n)));
        return l;
    }

    /**
     * One storage node: collateral, record, the roots it committed that the state still holds
     * (by period: root, count, window, answers, seed, status, and the contract picks fixed at the
     * seed: object, payer, root, count, entry, j, chunkHigh, chunkLow) and its fault lists (by
     * period: missed, the CIDs it declared). Null (not registered) for any other address.
     */
    static Map<String, Object> storageNode(LedgerState s, String addr) {
        LedgerState.StorageNode n = s.storageNode(addr);
        if (n == null) {
            return null;
        }
        Map<String, Object> m = storageNodeView(s, addr, n);
        List<Map<String, Object>> roots = new ArrayList<>();
        s.storageRootsOf(addr).forEach((period, r) -> {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("period", period);
            e.put("root", java.util.HexFormat.of().formatHex(r.root()));
            e.put("count", r.count());
            e.put("committedHeight", r.height());
            e.put("window", r.window());
            e.put("answered", r.answered());
            e.put("seed", s.storageSeed(period, r.window()) == null ? null : java.util.HexFormat.of().formatHex(s.storageSeed(period, r.window())));
            e.put("status", switch (r.status()) {
                case LedgerState.StorageRoot.PROVEN -> "proven";
                case LedgerState.StorageRoot.MISSED -> "missed";
                default -> "open";
            });
            // fixed with the seed; the SubmitProof completing the window answers each under its root
            List<Map<String, Object>> picks = new ArrayList<>();
            for (io.oecloud.chain.ledger.Storage.ContractPick p : io.oecloud.chain.ledger.Storage.contractPicks(s, period, addr)) {
                Map<String, Object> x = new java.util.LinkedHashMap<>();
                x.put("object", p.object());
                x.put("payer", p.payer());
                x.put("root", java.util.HexFormat.of().formatHex(p.root()));
                x.put("count", p.count());
                x.put("entry", p.challenge().entry());
                x.put("j", p.challenge().j());
                x.put("chunkHigh", p.challenge().chunkHigh());
                x.put("chunkLow", p.challenge().chunkLow());
                picks.add(x);
            }
            e.put("contractPicks", picks);
            roots.add(e);
        });
        m.put("roots", roots);
        List<Map<String, Object>> faults = new ArrayList<>();
        s.storageFaultsOf(addr).forEach((period, f) -> {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("period", period);
            e.put("missed", f.missed());
            e.put("cids", List.copyOf(f.cids()));
            faults.add(e);
        });
        m.put("faults", faults);
        return m;
    }

    /** A parsed {@code /storage-faults} cursor: after this node's list of this period. */
    record Cursor(String node, long period) {}

    /** The cursor in {@code data}: "" (from the start) or "ADDRESS/PERIOD"; null when malformed. */
    static Cursor storageFaultsCursor(String data) {
        if (data.isEmpty()) {
            return new Cursor("", -1);
        }
        int slash = data.lastIndexOf('/');
        if (slash <= 0 || slash > 128 || data.length() - slash - 1 > 19) {
            return null;
        }
        try {
            long period = Long.parseLong(data.substring(slash + 1));
            return period < 0 ? null : new Cursor(data.substring(0, slash), period);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Every fault list the state holds (the last {@code retainPeriods} periods), by node address
     * then period: {@code {"height", "period", "retainPeriods", "faults": [{"node", "period",
     * "missed", "cids", "provenAfter"}], "next"}}. {@code provenAfter} is the first later period
     * whose root the node proved (null while none is): a fault list with one is answered for. A
     * page holds at most {@value #FAULTS_PAGE} lists and about {@value #FAULT_CIDS_PAGE} CIDs;
     * {@code next} (null on the last page) is the cursor for the following one. Only nodes whose
     * record counts a miss or a declared fault can have lists, so the others cost nothing.
     *
     * @param data "" or the cursor {@code next} of the page before (see {@link #storageFaultsCursor})
     */
    static Map<String, Object> storageFaults(LedgerState s, String data) {
        Cursor after = storageFaultsCursor(data);
        if (after == null) {
            throw new IllegalArgumentException("malformed cursor"); // answer() refuses it first
        }
        long current = s.height() < 0 ? 0 : s.storageParams().windowing().period(s.height());
        List<Map<String, Object>> lists = new ArrayList<>();
        String next = null;
        int cids = 0;
        outer:
        for (Map.Entry<String, LedgerState.StorageNode> e : s.storageNodes().tailMap(after.node()).entrySet()) {
            String addr = e.getKey();
            LedgerState.StorageNode n = e.getValue();
            if (n.missed() == 0 && n.faultsDeclared() == 0) {
                continue;
            }
            for (Map.Entry<Long, LedgerState.FaultList> f : s.storageFaultsOf(addr).entrySet()) {
                long period = f.getKey();
                if (addr.equals(after.node()) && period <= after.period()) {
                    continue;
                }
                if (lists.size() == FAULTS_PAGE || (!lists.isEmpty() && cids + f.getValue().cids().size() > FAULT_CIDS_PAGE)) {
                    Map<String, Object> last = lists.getLast();
                    next = last.get("node") + "/" + last.get("period");
                    break outer;
                }
                Long provenAfter = null;
                for (long q = period + 1; q <= current + 1; q++) {
                    LedgerState.StorageRoot r = s.storageRoot(q, addr);
                    if (r != null && r.status() == LedgerState.StorageRoot.PROVEN) {
                        provenAfter = q;
                        break;
                    }
                }
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("node", addr);
                m.put("period", period);
                m.put("missed", f.getValue().missed());
                m.put("cids", List.copyOf(f.getValue().cids()));
                m.put("provenAfter", provenAfter);
                lists.add(m);
                cids += f.getValue().cids().size();
            }
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("height", s.height());
        m.put("period", current);
        m.put("retainPeriods", s.storageParams().retainPeriods());
        m.put("faults", lists);
        m.put("next", next);
        return m;
    }

    private static Map<String, Object> storageNodeView(LedgerState s, String addr, LedgerState.StorageNode n) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("address", addr);
        m.put("capacity", n.capacity());
        m.put("collateral", n.collateral().toString());
        m.put("active", n.active());
        m.put("registeredHeight", n.registeredHeight());
        m.put("window", s.storageParams().windowing().nodeWindow(io.oecloud.chain.ledger.Storage.nodeId(addr)));
        m.put("proven", n.proven());
        m.put("missed", n.missed());
        m.put("faultsDeclared", n.faultsDeclared());
        m.put("penalties", n.penalties().toString());
        // leaving: unregistered, its collateral (0 here) in a withdrawal of `withdrawing` base units paid at block withdrawAt
        LedgerState.StorageWithdrawal w = s.storageWithdrawal(addr);
        m.put("leaving", n.leaving());
        m.put("withdrawAt", n.leaving() ? n.withdrawAt() : null);
        m.put("withdrawing", w == null ? "0" : w.amount().toString());
        io.oecloud.chain.ledger.Audits.Record a = io.oecloud.chain.ledger.Audits.record(s, addr);
        m.put("auditsPassed", a == null ? 0 : a.passed());
        m.put("auditsFailed", a == null ? 0 : a.failed());
        m.put("auditTimeouts", a == null ? 0 : a.timeouts());
        m.put("auditsBad", a == null ? 0 : a.bad());
        m.put("poorStanding", io.oecloud.chain.ledger.Audits.poorStanding(s, addr));
        return m;
    }

    /**
     * The audit committee of a window and what it audits ({@code /audits}; data empty: the window
     * of the committed height, or "PERIOD/WINDOW"): the committee (null before it is drawn), the
     * audit parameters, and the audit targets, the active (or leaving) storage nodes with a non-empty root in
     * the period (address, root hex, count). Null (not registered) for malformed data.
     */
    static Map<String, Object> audits(LedgerState s, String data) {
        io.oecloud.proofs.storage.Windows w = s.storageParams().windowing();
        long period;
        int window;
        try {
            if (data.isEmpty()) {
                long h = Math.max(0, s.height());
                period = w.period(h);
                window = w.window(h);
            } else {
                int slash = data.indexOf('/');
                period = Long.parseLong(data.substring(0, slash));
                window = Integer.parseInt(data.substring(slash + 1));
                w.blocks(period, window); // in range
            }
        } catch (RuntimeException e) {
            return null;
        }
        io.oecloud.chain.ledger.StorageParams p = s.storageParams();
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("height", s.height());
        m.put("period", period);
        m.put("window", window);
        io.oecloud.proofs.storage.Windows.BlockRange r = w.blocks(period, window);
        m.put("firstBlock", r.first());
        m.put("lastBlock", r.last());
        m.put("verdictsUntil", r.last() + p.auditVerdictBlocks());
        m.put("committee", io.oecloud.chain.ledger.Audits.committee(s, period, window));
        m.put("auditors", p.auditors());
        m.put("auditTargets", p.auditTargets());
        m.put("deadlineMillis", p.auditDeadlineMillis());
        List<Map<String, Object>> targets = new ArrayList<>();
        s.storageNodes().forEach((addr, n) -> {
            LedgerState.StorageRoot root = s.storageRoot(period, addr);
            // a leaving node is audited for the periods it committed, as it is challenged for them
            if ((n.active() || n.leaving()) && root != null && root.count() > 0) {
                Map<String, Object> t = new java.util.LinkedHashMap<>();
                t.put("address", addr);
                t.put("root", java.util.HexFormat.of().formatHex(root.root()));
                t.put("count", root.count());
                targets.add(t);
            }
        });
        m.put("targets", targets);
        return m;
    }

    /**
     * {@code /price}: the price of the current period, {@code {"period", "price", "default"}}, and
     * the asks it came from ({@code "asks": [{"node", "ask", "capacity"}]}, active non-leaving nodes).
     */
    static Map<String, Object> price(LedgerState s) {
        Contracts.Price p = Contracts.currentPrice(s);
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("period", p.period());
        m.put("price", p.value().toString());
        m.put("default", p.isDefault());
        List<Map<String, Object>> asks = new ArrayList<>();
        s.storageNodes().forEach((addr, n) -> {
            java.math.BigInteger ask = Contracts.ask(s, addr);
            if (ask != null && n.active() && !n.leaving()) {
                asks.add(Map.of("node", addr, "ask", ask.toString(), "capacity", n.capacity()));
            }
        });
        m.put("asks", asks);
        return m;
    }

    /** {@code /contract} (data "OBJECTCID/PAYER"): the contract, or null. */
    static Map<String, Object> contract(LedgerState s, String data) {
        int slash = data.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        Contracts.Contract c = Contracts.contract(s, data.substring(0, slash), data.substring(slash + 1));
        return c == null ? null : contractView(s, c);
    }

    /** A contract as the queries show it; {@code escrow} is what it still holds (periods not settled yet). */
    static Map<String, Object> contractView(LedgerState s, Contracts.Contract c) {
        long p = s.height() < 0 ? 0 : s.storageParams().windowing().period(s.height());
        // the last block of a period settled it
        long unsettled = s.height() >= 0 && s.height() % s.storageParams().periodBlocks() == s.storageParams().periodBlocks() - 1 ? p + 1 : p;
        java.math.BigInteger cost = c.costAt(Math.max(p + 1, c.start()));
        if (cost.signum() == 0) {
            cost = c.terms().isEmpty() ? java.math.BigInteger.ZERO : c.terms().getLast().cost();
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("object", c.object());
        m.put("payer", c.payer());
        m.put("bytes", c.bytes());
        m.put("start", c.start());
        m.put("end", c.end());
        m.put("costPerPeriod", cost.toString());
        m.put("escrow", c.unspent(unsettled).toString());
        List<Map<String, Object>> holders = new ArrayList<>();
        java.util.SortedMap<String, java.math.BigInteger> shares = c.shares(cost);
        c.holders().forEach((h, x) -> {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("holder", h);
            e.put("bytes", x.bytes());
            e.put("blocks", x.blocks());
            e.put("root", java.util.HexFormat.of().formatHex(x.root())); // the holder's entries root from its receipt
            e.put("share", shares.getOrDefault(h, java.math.BigInteger.ZERO).toString());
            holders.add(e);
        });
        m.put("holders", holders);
        List<Map<String, Object>> terms = new ArrayList<>();
        for (Contracts.Term t : c.terms()) {
            Map<String, Object> e = new java.util.LinkedHashMap<>();
            e.put("start", t.start());
            e.put("end", t.end());
            e.put("cost", t.cost().toString());
            terms.add(e);
        }
        m.put("terms", terms);
        return m;
    }

    /**
     * {@code /contracts-paid} (data PAYER or PAYER/CURSOR, CURSOR the last page's object) and
     * {@code /contracts-held} (data NODE or NODE/CURSOR, CURSOR "OBJECT/PAYER"): at most
     * {@value #CONTRACTS_PAGE} contracts and {@code next}, the cursor of the following page ("" on the last).
     */
    static Map<String, Object> contractsPage(LedgerState s, String data, boolean paid) {
        int slash = data.indexOf('/');
        String who = slash < 0 ? data : data.substring(0, slash);
        String after = slash < 0 ? "" : data.substring(slash + 1);
        List<Contracts.Contract> page = paid ? Contracts.paidBy(s, who, after, CONTRACTS_PAGE + 1)
                : Contracts.heldBy(s, who, after, CONTRACTS_PAGE + 1);
        String next = "";
        if (page.size() > CONTRACTS_PAGE) {
            page = page.subList(0, CONTRACTS_PAGE);
            Contracts.Contract last = page.getLast();
            next = paid ? last.object() : last.object() + "/" + last.payer();
        }
        List<Map<String, Object>> l = new ArrayList<>();
        for (Contracts.Contract c : page) {
            l.add(contractView(s, c));
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("contracts", l);
        m.put("next", next);
        return m;
    }

    /** {@code /payments} (data NODE): its rate now and its settled payments the state holds, newest first. */
    static Map<String, Object> payments(LedgerState s, String node) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("node", node);
        m.put("rate", Contracts.rate(s, node).toString());
        m.put("earned", Contracts.earned(s, node).toString());
        List<Map<String, Object>> l = new ArrayList<>();
        for (Map.Entry<Long, Contracts.Payment> e : Contracts.payments(s, node)) {
            Map<String, Object> x = new java.util.LinkedHashMap<>();
            x.put("period", e.getKey());
            x.put("amount", e.getValue().amount().toString());
            x.put("paid", e.getValue().paid());
            l.add(x);
        }
        m.put("payments", l);
        return m;
    }

    /**
     * The supply invariant of the committed state, as the ledger checks it at the end of every block
     * (a block that broke it would not have been committed): supply, where it is, and what it should
     * be (genesis + minted − slashed).
     */
    static Map<String, Object> supply(LedgerState s) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("height", s.height());
        m.put("supply", s.supply().toString());
        m.put("expected", s.expectedSupply().toString());
        Map<String, String> parts = new java.util.LinkedHashMap<>();
        s.supplyParts().forEach((k, v) -> parts.put(k, v.toString()));
        m.put("parts", parts);
        m.put("genesis", s.genesisSupply().toString());
        m.put("minted", s.minted().toString());
        m.put("slashed", s.slashed().toString());
        return m;
    }

    static Map<String, Object> params(LedgerState s, Fees fees) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(s.params().toMap());
        if (fees != null) {
            m.putAll(fees.toMap());
        }
        m.put("feePool", s.feePool().toString());
        m.put("reserve", s.reserve().toString());
        m.put("genesisSupply", s.genesisSupply().toString());
        m.put("minted", s.minted().toString());
        m.put("slashed", s.slashed().toString());
        m.put("storage", s.storageParams().toMap());
        m.put("storageCollateral", s.storageCollateral().toString());
        m.put("escrowPool", s.escrowPool().toString());
        m.put("names", Map.of("registerFee", s.nameRegisterFee().toString()));
        return m;
    }
}
