package io.oecloud.chain.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.oecloud.chain.abci.AbciTypesProto.RequestQuery;
import io.oecloud.chain.abci.AbciTypesProto.ResponseQuery;
import io.oecloud.chain.abci.CryptoproofProto.ProofOp;
import io.oecloud.chain.abci.CryptoproofProto.ProofOps;
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
 * {@code /cid} (data = CID), {@code /candidates}, {@code /params}. With {@code prove}, the
 * {@code /account} and {@code /cid} answers carry a {@link StateTree} proof of the state entry
 * (its presence, or its absence) as proof op {@link StateTree#PROOF_TYPE}.
 *
 * <p>Threading: called under the {@link LedgerApp}'s monitor (the committed tree is built lazily).
 */
final class Queries {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> PATHS = List.of("/account", "/cid", "/candidates", "/params", "/beacon", "/storage-nodes", "/storage-node", "/audits");

    private Queries() {}

    /** The answer to {@code r} from the committed state of {@code blocks}; {@code fees} is null before InitChain. */
    static ResponseQuery answer(RequestQuery r, BlockCommitter blocks, Fees fees) throws IOException {
        LedgerState committed = blocks.committed();
        String data = r.getData().toString(StandardCharsets.UTF_8);
        Object answer = switch (r.getPath()) {
            case "/account" -> account(committed, data);
            case "/cid" -> cid(committed, data);
            case "/candidates" -> candidates(committed);
            case "/params" -> params(committed, fees);
            case "/beacon" -> beacon(committed);
            case "/storage-nodes" -> storageNodes(committed);
            case "/storage-node" -> storageNode(committed, data);
            case "/audits" -> audits(committed, data);
            default -> null;
        };
        ResponseQuery.Builder b = ResponseQuery.newBuilder().setHeight(committed.height()).setKey(r.getData());
        String stateKey = switch (r.getPath()) {
            case "/account" -> "account/" + data;
            case "/cid" -> "cid/" + data;
            case "/beacon" -> "beacon/seed";
            case "/storage-node" -> "storage-node/" + data;
            default -> null;
        };
        if (r.getProve() && stateKey != null) {
            b.setProofOps(ProofOps.newBuilder().addOps(ProofOp.newBuilder().setType(StateTree.PROOF_TYPE)
                    .setKey(ByteString.copyFromUtf8(stateKey)).setData(blocks.tree().prove(stateKey, committed.height()).toByteString())));
        }
        if (answer == null) {
            boolean known = PATHS.contains(r.getPath());
            return b.setCode(known ? 2 : 1).setLog(known ? data + " is not registered" : "unknown query path '" + r.getPath()
                    + "' (known: /account, /cid, /candidates, /params, /beacon, /storage-nodes, /storage-node, /audits)").build();
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
     * (by period: root, count, window, answers, status) and its fault lists (by period: missed,
     * the CIDs it declared). Null (not registered) for any other address.
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
     * audit parameters, and the audit targets, the active storage nodes with a non-empty root in
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
            if (n.active() && root != null && root.count() > 0) {
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
        return m;
    }
}
