package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A {@link StorageChain} for the paid-storage tests: storage nodes with real shards that commit
 * their roots and prove their windows period after period (or, when told, miss them), payers,
 * receipts signed by the holders' keys, and after every block the checks of the ledger's books:
 * the supply invariant (also checked by {@link Block#end}), the escrow pool equal to the unspent
 * escrow recomputed over every contract, and, at each period's last block (after its settlement),
 * every node's rate equal to the sum of its shares of the contracts' next period.
 */
final class ContractChain {
    final StorageChain c;
    final Map<Identity, StorageChain.Shards> shards = new LinkedHashMap<>();
    /** Base units paid to nodes by settlement so far (from the payments recorded, before pruning). */
    int blocks;
    /** Contract transactions accepted: CreateContract, RenewContract, EndContract, MoveShares. */
    final int[] accepted = new int[4];

    ContractChain(long salt, Identity... funded) throws Exception {
        c = new StorageChain(salt, funded);
    }

    static Identity id(int i) {
        byte[] s = new byte[32];
        s[0] = (byte) i;
        s[1] = (byte) (i >> 8);
        s[31] = 7;
        return Identity.fromSeed(s);
    }

    static String addr(Identity id) {
        return StorageChain.addr(id);
    }

    LedgerState state() {
        return c.state;
    }

    long period() {
        return c.windows().period(Math.max(0, c.state.height()));
    }

    /** The period of the next block. */
    long nextPeriod() {
        return c.windows().period(c.state.height() + 1);
    }

    static byte[] object(String name) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, name.getBytes(StandardCharsets.UTF_8)).toBytes();
    }

    static String objectText(byte[] object) {
        return Cid.fromBytes(object).toString();
    }

    static TxBody.Builder register(long capacity, BigInteger collateral, BigInteger ask) {
        TxBody.Builder b = StorageChain.register(capacity, collateral);
        if (ask != null) {
            b.getRegisterStorageNodeBuilder().setAsk(ByteString.copyFrom(Amounts.encode(ask)));
        }
        return b;
    }

    /** A receipt signed by {@code holder} for this chain. */
    static ChainProto.Receipt receipt(Identity holder, byte[] object, String payer, long bytes, int blocks, long period) {
        byte[] sig = holder.sign(Contracts.receiptMessage(StorageChain.CHAIN, object, payer, addr(holder), bytes, blocks, period));
        return ChainProto.Receipt.newBuilder().setHolder(addr(holder)).setBytes(bytes).setBlocks(blocks).setPeriod(period)
                .setSignature(ByteString.copyFrom(sig)).build();
    }

    static TxBody.Builder create(byte[] object, int periods, List<ChainProto.Receipt> receipts) {
        return TxBody.newBuilder().setCreateContract(ChainProto.CreateContract.newBuilder().setObject(ByteString.copyFrom(object))
                .setPeriods(periods).addAllReceipts(receipts));
    }

    static TxBody.Builder renew(byte[] object, int periods) {
        return TxBody.newBuilder().setRenewContract(ChainProto.RenewContract.newBuilder().setObject(ByteString.copyFrom(object)).setPeriods(periods));
    }

    static TxBody.Builder end(byte[] object) {
        return TxBody.newBuilder().setEndContract(ChainProto.EndContract.newBuilder().setObject(ByteString.copyFrom(object)));
    }

    static TxBody.Builder move(byte[] object, List<String> remove, List<ChainProto.Receipt> receipts) {
        return TxBody.newBuilder().setMoveShares(ChainProto.MoveShares.newBuilder().setObject(ByteString.copyFrom(object))
                .addAllRemove(remove).addAllReceipts(receipts));
    }

    /** Registers {@code nodes} (each with 8 real shards) in one block, with the given capacities and asks. */
    void registerNodes(List<Identity> nodes, long[] capacities, BigInteger[] asks) {
        List<byte[]> txs = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            shards.put(nodes.get(i), new StorageChain.Shards(1000 + i, 8));
            txs.add(c.tx(nodes.get(i), register(capacities[i], StorageChain.MIN_COLLATERAL.multiply(BigInteger.TEN),
                    asks == null ? null : asks[i])));
        }
        ok(block(txs));
    }

    static void ok(List<Ledger.Result> rs) {
        for (Ledger.Result r : rs) {
            assertEquals(Ledger.Code.OK, r.code(), r.log());
        }
    }

    /** One block with {@code txs}, then the books checked. */
    List<Ledger.Result> block(List<byte[]> txs) {
        List<Ledger.Result> rs = c.block(txs.toArray(new byte[0][]));
        blocks++;
        for (int i = 0; i < txs.size(); i++) {
            if (rs.get(i).ok()) {
                try {
                    switch (TxBody.parseFrom(ChainProto.Tx.parseFrom(txs.get(i)).getBody()).getKindCase()) {
                        case CREATE_CONTRACT -> accepted[0]++;
                        case RENEW_CONTRACT -> accepted[1]++;
                        case END_CONTRACT -> accepted[2]++;
                        case MOVE_SHARES -> accepted[3]++;
                        default -> { }
                    }
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    throw new AssertionError(e);
                }
            }
        }
        checkBooks(c.state);
        return rs;
    }

    List<Ledger.Result> block(byte[]... txs) {
        return block(List.of(txs));
    }

    /** The next block with {@code body} by {@code key}; its result. */
    Ledger.Result submit(Identity key, TxBody.Builder body) {
        return block(c.tx(key, body)).getFirst();
    }

    /**
     * Runs the rest of the next block's period: every node in {@code shards} that is active and
     * not leaving commits its root for the next period (at the first block it has no other
     * transaction in), and those of {@code provers} with a root for this period answer their
     * window; the others miss it. {@code first} transactions go into the first block.
     */
    void finishPeriod(Collection<Identity> provers, List<byte[]> first) {
        runPeriod(provers, first, 0);
    }

    /** {@link #finishPeriod} up to the block before the period's last (its settlement): windows end before it except the last one's. */
    void finishPeriodUntilLast(Collection<Identity> provers) {
        runPeriod(provers, List.of(), 1);
    }

    private void runPeriod(Collection<Identity> provers, List<byte[]> first, int stopBefore) {
        long p = nextPeriod();
        long last = (p + 1) * c.state.storageParams().periodBlocks() - 1 - stopBefore;
        Set<Identity> toCommit = new HashSet<>();
        for (Identity n : shards.keySet()) {
            LedgerState.StorageNode sn = c.state.storageNode(addr(n));
            if (sn != null && sn.active() && !sn.leaving() && c.state.storageRoot(p + 1, addr(n)) == null) {
                toCommit.add(n);
            }
        }
        Set<Identity> toProve = new HashSet<>();
        for (Identity n : provers) {
            LedgerState.StorageRoot r = c.state.storageRoot(p, addr(n));
            if (r != null && r.status() == LedgerState.StorageRoot.OPEN) {
                toProve.add(n);
            }
        }
        List<byte[]> pending = new ArrayList<>(first);
        while (c.state.height() < last) {
            long h = c.state.height() + 1;
            List<byte[]> txs = new ArrayList<>(pending);
            int fixed = txs.size();
            pending.clear();
            Set<Identity> busy = new HashSet<>();
            for (Identity n : List.copyOf(toProve)) {
                Windows.BlockRange w = c.windows().nodeBlocks(Storage.nodeId(addr(n)), p);
                if (h > w.first() && h <= w.last()) {
                    byte[] seed = c.state.storageSeed(p, c.windows().nodeWindow(Storage.nodeId(addr(n))));
                    assertNotNull(seed);
                    txs.add(c.tx(n, StorageChain.proof(p, 0, shards.get(n).answers(seed, Storage.nodeId(addr(n)), p, 0, 32,
                            shards.get(n).content))));
                    busy.add(n);
                    toProve.remove(n);
                }
            }
            if (fixed == 0) { // the first block's transactions may come from the nodes: roots wait a block
                for (Identity n : List.copyOf(toCommit)) {
                    LedgerState.StorageNode sn = c.state.storageNode(addr(n));
                    if (sn == null || sn.leaving() || !sn.active()) {
                        toCommit.remove(n); // it left or fell below the minimum in the first block
                    } else if (!busy.contains(n)) {
                        StorageChain.Shards s = shards.get(n);
                        txs.add(c.tx(n, StorageChain.commit(p + 1, s.tree.root(), s.tree.count())));
                        toCommit.remove(n);
                    }
                }
            }
            List<Ledger.Result> rs = block(txs);
            ok(rs.subList(fixed, rs.size())); // the caller's transactions may be refused: theirs to judge
        }
    }

    void finishPeriod(Collection<Identity> provers) {
        finishPeriod(provers, List.of());
    }

    /** The sum of the unspent escrow of every contract, as of the state's block (a period is spent once settled at its last block). */
    static BigInteger unspentEscrow(LedgerState s) {
        long pb = s.storageParams().periodBlocks();
        long h = Math.max(0, s.height());
        long unsettled = h / pb + (h % pb == pb - 1 ? 1 : 0);
        BigInteger sum = BigInteger.ZERO;
        for (Contracts.Contract k : Contracts.all(s).values()) {
            sum = sum.add(k.unspent(unsettled));
        }
        return sum;
    }

    /** Every node's due rate for period {@code q}, from the contracts: the sum of its shares of their cost in q. */
    static SortedMap<String, BigInteger> expectedRates(LedgerState s, long q) {
        TreeMap<String, BigInteger> m = new TreeMap<>();
        for (Contracts.Contract k : Contracts.all(s).values()) {
            BigInteger cost = k.costAt(q);
            if (cost.signum() > 0) {
                k.shares(cost).forEach((h, v) -> m.merge(h, v, BigInteger::add));
            }
        }
        m.values().removeIf(v -> v.signum() == 0);
        return m;
    }

    /** The books: supply, escrow pool against its recomputation, and after a settlement the rates against the contracts. */
    static void checkBooks(LedgerState s) {
        assertEquals(s.expectedSupply(), s.supply(), "supply at block " + s.height());
        assertEquals(unspentEscrow(s), s.escrowPool(), "escrow pool against the contracts' unspent escrow at block " + s.height());
        long pb = s.storageParams().periodBlocks();
        if (s.height() % pb == pb - 1) {
            assertEquals(expectedRates(s, s.height() / pb + 1), Contracts.rates(s), "rates after settling period " + s.height() / pb);
        }
    }
}
