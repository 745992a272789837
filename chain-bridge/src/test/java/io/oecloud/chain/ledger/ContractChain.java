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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A {@link StorageChain} for the paid-storage tests: storage nodes with real shards that commit
 * their roots and prove their windows period after period (or, when told, miss them), answering
 * their contract picks from the blocks their receipts' entries roots name, payers, receipts signed
 * by the holders' keys, and after every block the checks of the ledger's books: the supply
 * invariant (also checked by {@link Block#end}), the escrow pool equal to the unspent escrow
 * recomputed over every contract, every node's held list against the contracts
 * ({@link #checkHeld}), and, at each period's last block (after its settlement), every node's
 * rate equal to the sum of its shares of the contracts' next period.
 */
final class ContractChain {
    /** The blocks behind every entries root a receipt of these tests was signed over, by root (hex): what a holder answers its picks from. */
    static final Map<String, StorageChain.Shards> HELD = new java.util.concurrent.ConcurrentHashMap<>();

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

    /**
     * A receipt signed by {@code holder} for this chain, its entries root over {@link #heldBlocks}
     * of the arguments (a zero root for a block count no tree has: the receipts tests expect refused).
     */
    static ChainProto.Receipt receipt(Identity holder, byte[] object, String payer, long bytes, int blocks, long period) {
        byte[] root = blocks >= 1 && blocks <= 4096 ? heldBlocks(addr(holder) + "/" + payer, object, blocks).tree.root() : new byte[32];
        return receipt(holder, object, payer, bytes, blocks, root, period);
    }

    /** A receipt signed by {@code holder} over {@code root}. */
    static ChainProto.Receipt receipt(Identity holder, byte[] object, String payer, long bytes, int blocks, byte[] root, long period) {
        byte[] sig = holder.sign(Contracts.receiptMessage(StorageChain.CHAIN, object, payer, addr(holder), bytes, blocks, root, period));
        return ChainProto.Receipt.newBuilder().setHolder(addr(holder)).setBytes(bytes).setBlocks(blocks).setPeriod(period)
                .setEntriesRoot(ByteString.copyFrom(root)).setSignature(ByteString.copyFrom(sig)).build();
    }

    /**
     * {@code blocks} distinct small blocks of {@code object} (real bytes, BLAKE3 raw CIDs), the same
     * for the same arguments, with their tree: what a holder named {@code who} keeps for it.
     * Registered in {@link #HELD} under its root.
     */
    static StorageChain.Shards heldBlocks(String who, byte[] object, int blocks) {
        java.util.Random r = new java.util.Random(java.util.Arrays.hashCode(object) * 1_000_003L + who.hashCode() * 7919L + blocks);
        Map<Cid, byte[]> content = new HashMap<>();
        for (int i = 0; i < blocks; i++) {
            byte[] b = new byte[4 + r.nextInt(3000)];
            r.nextBytes(b);
            ByteBuffer.wrap(b).putInt(i); // distinct blocks, distinct CIDs
            content.put(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b), b);
        }
        StorageChain.Shards s = new StorageChain.Shards(content);
        HELD.put(java.util.HexFormat.of().formatHex(s.tree.root()), s);
        return s;
    }

    /** {@code n}'s answers to its contract picks of period {@code p}, from the blocks under each pick's root ({@link #HELD}). */
    List<ChainProto.ContractAnswer> contractAnswers(Identity n, long p) {
        List<ChainProto.ContractAnswer> l = new ArrayList<>();
        for (Storage.ContractPick pick : Storage.contractPicks(c.state, p, addr(n))) {
            StorageChain.Shards held = HELD.get(java.util.HexFormat.of().formatHex(pick.root()));
            l.add(StorageChain.contractAnswer(pick, held, held.content));
        }
        return l;
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
        runUntil(provers, first, (nextPeriod() + 1) * c.state.storageParams().periodBlocks() - 1 - stopBefore);
    }

    /** {@link #finishPeriod} up to block {@code last} of the next block's period, included (the rest can follow with another call). */
    void runUntil(Collection<Identity> provers, List<byte[]> first, long last) {
        long p = nextPeriod();
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
                            shards.get(n).content), contractAnswers(n, p))));
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

    /**
     * The held lists' invariant, after any block: with u the first period not settled yet (the
     * current one, or the next after its last block's settlement), node N's list holds exactly the
     * contracts that list N as a holder and end after u (that pay it for u or later), each once;
     * its indexes are exactly 0 .. count - 1 (dense, no hole), {@code held-index} names each one's
     * position, a count is never 0, and no entry is left over for any node.
     */
    static void checkHeld(LedgerState s) {
        long pb = s.storageParams().periodBlocks();
        long h = Math.max(0, s.height());
        long unsettled = h / pb + (h % pb == pb - 1 ? 1 : 0);
        TreeMap<String, java.util.TreeSet<String>> want = new TreeMap<>();
        String cursor = s.heldCursor.get(""); // ended contracts after it may still be listed (Contracts.leaveEnded)
        for (Contracts.Contract k : Contracts.all(s).values()) {
            String endKey = Storage.periodKey(k.end()) + "/" + k.key();
            if (k.end() > unsettled || (cursor == null || endKey.compareTo(cursor) > 0)) {
                for (String n : k.holders().keySet()) {
                    want.computeIfAbsent(n, x -> new java.util.TreeSet<>()).add(k.key());
                }
            }
        }
        Map<String, Contracts.Contract> all = Contracts.all(s);
        java.util.TreeSet<String> nodes = new java.util.TreeSet<>(want.keySet());
        nodes.addAll(s.heldCount.keySet());
        long total = 0;
        long weights = 0;
        for (String n : nodes) {
            long count = Contracts.heldCount(s, n);
            java.util.TreeSet<String> got = new java.util.TreeSet<>();
            for (long i = 0; i < count; i++) {
                String key = Contracts.held(s, n, i);
                assertNotNull(key, "held list of " + n + " has a hole at " + i + " of " + count + ", block " + s.height());
                assertEquals(Long.valueOf(i), s.heldIndex.get(n + "/" + key), "the index of " + key + " in " + n + "'s list");
                org.junit.jupiter.api.Assertions.assertTrue(got.add(key), key + " twice in " + n + "'s list");
            }
            org.junit.jupiter.api.Assertions.assertNotEquals(Long.valueOf(0), s.heldCount.get(n), "a count of 0 is absent");
            assertEquals(want.getOrDefault(n, new java.util.TreeSet<>()), got, "held list of " + n + " at block " + s.height());
            total += count;
            // the weight tree: every position whose range [pos - lowbit, pos) meets [0, count) holds the sum of the node's
            // bytes in the contracts there (recomputed from the holdings), no other position exists, the root is the total
            long[] prefix = new long[(int) count + 1];
            for (int i = 0; i < count; i++) {
                prefix[i + 1] = prefix[i] + all.get(Contracts.held(s, n, i)).holders().get(n).bytes();
            }
            TreeMap<String, Long> tree = new TreeMap<>();
            for (long i = 0; i < count; i++) {
                for (long pos = i + 1; pos <= Contracts.MAX_HELD; pos += pos & -pos) {
                    tree.put(Contracts.heldWeightKey(n, pos), prefix[(int) Math.min(pos, count)] - prefix[(int) (pos - (pos & -pos))]);
                }
            }
            assertEquals(tree, new TreeMap<>(s.heldWeight.subMap(n + "/", n + "0")), "weight tree of " + n + " at block " + s.height());
            assertEquals(prefix[(int) count], Contracts.heldBytes(s, n), "listed bytes of " + n);
            for (long i = 0; i <= count; i++) {
                assertEquals(prefix[(int) i], Contracts.heldPrefix(s, n, i), "prefix " + i + " of " + n);
            }
            weights += tree.size();
        }
        assertEquals(total, s.heldList.size(), "held-list entries beyond the counts at block " + s.height());
        assertEquals(total, s.heldIndex.size(), "held-index entries beyond the counts at block " + s.height());
        assertEquals(weights, s.heldWeight.size(), "held-weight entries of nodes without a list at block " + s.height());
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

    /** The books: supply, escrow pool against its recomputation, held lists, and after a settlement the rates against the contracts. */
    static void checkBooks(LedgerState s) {
        assertEquals(s.expectedSupply(), s.supply(), "supply at block " + s.height());
        assertEquals(unspentEscrow(s), s.escrowPool(), "escrow pool against the contracts' unspent escrow at block " + s.height());
        checkHeld(s);
        long pb = s.storageParams().periodBlocks();
        if (s.height() % pb == pb - 1) {
            assertEquals(expectedRates(s, s.height() / pb + 1), Contracts.rates(s), "rates after settling period " + s.height() / pb);
        }
    }
}
