package io.oecloud.chain.node;

import io.oecloud.chain.ledger.Ledger;
import io.oecloud.wire.Uvarint;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The ledger's mempool: transactions admitted against the check state and not yet in a block,
 * bounded by count and bytes, ordered by what they pay per byte of their signed bytes. Not
 * thread-safe: {@link LedgerApp} guards it (only {@link #size} may be read from any thread).
 *
 * <p>Three orders, one per use:
 * <ul>
 *   <li><b>Arrival</b> ({@link #all}): the order they were applied to the check state, so
 *       applying them again in it (after a block) sees the states they were admitted on.</li>
 *   <li><b>Blocks</b> ({@link #reap}): highest fee per byte first, each account's transactions in
 *       nonce order: the accounts' first pending transactions compete (a priority queue), and
 *       taking one puts the account's next in the running. Ties go to the older.</li>
 *   <li><b>Eviction</b> ({@link #plan}): when full, a transaction that pays more per byte than the
 *       cheapest the pool can drop takes its place. Only an account's last pending transaction can
 *       be dropped (its later ones would be left with a nonce gap), and it goes at the price of the
 *       cheapest transaction before it in its account: a block takes an account's transactions in
 *       nonce order, so a well-paying one behind a cheap one waits for the cheap one anyway. Each
 *       transaction keeps that prefix minimum; an account's eviction price is its last one's.</li>
 * </ul>
 *
 * <p>A dropped transaction's effects stay in the check state until the next block rebuilds it
 * (the pool does not replay 20,000 transactions per eviction): until then its account's next
 * nonce stays taken and what depended on it may be admitted and is dropped at that block.
 */
final class TxPool {
    /** A pending transaction, with what ordering needs. */
    static final class Entry {
        final String hash;
        final Ledger.Checked checked;
        final BigInteger fee;
        /** The fee when it is below 2^63 (always, in practice), else -1: for {@link #compareRate(Entry, Entry)}. */
        final long smallFee;
        final int size;
        /** Arrival number: ties go to the older. */
        final long seq;
        /** The cheapest per byte of this account's pending transactions up to this one. */
        Entry cheapest;

        Entry(String hash, Ledger.Checked checked, long seq) {
            this.hash = hash;
            this.checked = checked;
            this.fee = checked.fee();
            this.smallFee = fee.signum() >= 0 && fee.bitLength() < 63 ? fee.longValue() : -1;
            this.size = checked.bytes().length;
            this.seq = seq;
        }

        byte[] tx() {
            return checked.bytes();
        }

        String sender() {
            return checked.sender();
        }

        /** Fee per byte, as a compact string for messages. */
        String rate() {
            return new java.math.BigDecimal(fee).divide(java.math.BigDecimal.valueOf(size), 2, java.math.RoundingMode.FLOOR)
                    .stripTrailingZeros().toPlainString();
        }
    }

    /** Whether a pays less per byte than b (fee_a / size_a vs fee_b / size_b, exactly). */
    static int compareRate(BigInteger feeA, int sizeA, BigInteger feeB, int sizeB) {
        if (feeA.bitLength() < 63 && feeB.bitLength() < 63 && sizeA >= 0 && sizeB >= 0) {
            return compareRate(feeA.longValue(), sizeA, feeB.longValue(), sizeB);
        }
        return feeA.multiply(BigInteger.valueOf(sizeB)).compareTo(feeB.multiply(BigInteger.valueOf(sizeA)));
    }

    /**
     * The same comparison for fees of 0 to 2^63 - 1 and sizes of 0 to 2^31 - 1, on the exact
     * 128-bit products (high halves, then the low halves unsigned): no allocation. The pool
     * compares on every admission (its eviction index), every reap step and every eviction plan,
     * ~20 times per transaction; with BigInteger products that was ~2 % of the ledgers' CPU.
     */
    static int compareRate(long feeA, int sizeA, long feeB, int sizeB) {
        long highA = Math.multiplyHigh(feeA, sizeB);
        long highB = Math.multiplyHigh(feeB, sizeA);
        return highA != highB ? Long.compare(highA, highB) : Long.compareUnsigned(feeA * sizeB, feeB * sizeA);
    }

    private static int compareRate(Entry a, Entry b) {
        return a.smallFee >= 0 && b.smallFee >= 0 ? compareRate(a.smallFee, a.size, b.smallFee, b.size)
                : compareRate(a.fee, a.size, b.fee, b.size);
    }

    /** An account's pending transactions, in nonce (= arrival) order. */
    private static final class Account {
        final String address;
        final List<Entry> txs = new ArrayList<>(2);

        Account(String address) {
            this.address = address;
        }

        Entry last() {
            return txs.get(txs.size() - 1);
        }
    }

    /** A position in an account's pending transactions. */
    private record Cursor(Account account, int index) {
        Entry entry() {
            return account.txs.get(index);
        }
    }

    /** Accounts by eviction price: the cheapest first; among equals the newest last transaction first, then the address. */
    private static final Comparator<Account> BY_EVICTION_PRICE = (a, b) -> {
        int c = compareRate(a.last().cheapest, b.last().cheapest);
        if (c != 0) {
            return c;
        }
        c = Long.compare(b.last().seq, a.last().seq);
        return c != 0 ? c : a.address.compareTo(b.address);
    };

    private final LinkedHashMap<String, Entry> pending = new LinkedHashMap<>();
    private final Map<String, Account> accounts = new HashMap<>();
    /** Every account with pending transactions whose prefix minimums are current. */
    private final TreeSet<Account> byEvictionPrice = new TreeSet<>(BY_EVICTION_PRICE);
    /** Accounts that lost a transaction other than their last: prefix minimums to recompute. */
    private final Set<Account> dirty = new HashSet<>();
    private final int maxTxs;
    private final long maxBytes;
    private long bytes;
    private long seq;
    /** The count, for readers that do not hold the ledger's lock (metrics, GET /v1/chain/mempool). */
    private volatile int count;

    TxPool(int maxTxs, long maxBytes) {
        this.maxTxs = maxTxs;
        this.maxBytes = maxBytes;
    }

    boolean contains(String hash) {
        return pending.containsKey(hash);
    }

    Entry get(String hash) {
        return pending.get(hash);
    }

    /** What admitting a transaction takes: nothing, dropping {@code victims}, or it is refused ({@code refusal} says why). */
    record Plan(List<Entry> victims, String refusal) {
        static final Plan FITS = new Plan(List.of(), null);

        boolean refused() {
            return refusal != null;
        }
    }

    /**
     * Whether a transaction of {@code size} bytes paying {@code fee} from {@code sender} can come
     * in: it fits, or the cheapest droppable transactions that pay less per byte than it make room
     * (the pool is left unchanged: {@link #evict} them once the newcomer is found valid), or it is
     * refused because it pays no more than the cheapest the pool could drop.
     */
    Plan plan(String sender, BigInteger fee, int size) {
        if (fits(0, 0, size)) {
            return Plan.FITS;
        }
        settle();
        // what the newcomer is worth to a block: no more than the cheapest of its account's before it
        BigInteger effFee = fee;
        int effSize = size;
        Account own = accounts.get(sender);
        if (own != null) {
            Entry c = own.last().cheapest;
            if (compareRate(c.fee, c.size, fee, size) < 0) {
                effFee = c.fee;
                effSize = c.size;
            }
        }
        List<Entry> victims = new ArrayList<>();
        long freedBytes = 0;
        Iterator<Account> fresh = byEvictionPrice.iterator();
        Account nextFresh = fresh.hasNext() ? fresh.next() : null;
        // accounts already giving up their last: each cursor is at their next droppable transaction
        PriorityQueue<Cursor> partial = new PriorityQueue<>((x, y) -> {
            int c = compareRate(x.entry().cheapest, y.entry().cheapest);
            return c != 0 ? c : Long.compare(y.entry().seq, x.entry().seq);
        });
        while (!fits(victims.size(), freedBytes, size)) {
            Cursor next;
            Cursor top = partial.peek();
            if (nextFresh != null && (top == null || compareRate(nextFresh.last().cheapest, top.entry().cheapest) <= 0)) {
                next = new Cursor(nextFresh, nextFresh.txs.size() - 1);
                nextFresh = fresh.hasNext() ? fresh.next() : null;
            } else if (top != null) {
                next = partial.poll();
            } else {
                return new Plan(List.of(), "the mempool is full (" + pending.size() + " transactions, " + bytes
                        + " bytes) and holds nothing it could drop for this one");
            }
            Account acc = next.account();
            int idx = next.index();
            Entry victim = acc.txs.get(idx);
            if (compareRate(victim.cheapest.fee, victim.cheapest.size, effFee, effSize) >= 0) {
                return new Plan(List.of(), "the mempool is full (" + pending.size() + " transactions, " + bytes + " bytes) and this"
                        + " transaction pays no more per byte than the cheapest it holds (" + victim.cheapest.rate()
                        + " base units per byte): pay more per byte or try again after the next block");
            }
            if (acc.address.equals(sender)) {
                continue; // never drop the newcomer's own predecessors (cannot happen: they price it)
            }
            victims.add(victim);
            freedBytes += victim.size;
            if (idx > 0) {
                partial.add(new Cursor(acc, idx - 1));
            }
        }
        return new Plan(victims, null);
    }

    private boolean fits(int freedCount, long freedBytes, int size) {
        return pending.size() - freedCount < maxTxs && bytes - freedBytes + size <= maxBytes;
    }

    /** Appends a transaction that the check state admitted: the last of its account. */
    Entry add(String hash, Ledger.Checked checked) {
        if (pending.containsKey(hash)) {
            return pending.get(hash);
        }
        Entry e = new Entry(hash, checked, seq++);
        Account acc = accounts.computeIfAbsent(e.sender(), Account::new);
        boolean indexed = !dirty.contains(acc);
        if (indexed && !acc.txs.isEmpty()) {
            byEvictionPrice.remove(acc);
        }
        Entry before = acc.txs.isEmpty() ? null : acc.last().cheapest;
        e.cheapest = before != null && compareRate(before, e) <= 0 ? before : e;
        acc.txs.add(e);
        if (indexed) {
            byEvictionPrice.add(acc);
        }
        pending.put(hash, e);
        bytes += e.size;
        count = pending.size();
        return e;
    }

    /** Drops a transaction {@link #plan} chose: the last of its account. */
    void evict(Entry e) {
        Account acc = accounts.get(e.sender());
        if (acc == null || dirty.contains(acc) || acc.txs.isEmpty() || acc.last() != e) {
            remove(e.hash); // not indexed or no longer the last (plan settles first, so not expected): the general way
            return;
        }
        byEvictionPrice.remove(acc);
        acc.txs.remove(acc.txs.size() - 1);
        if (acc.txs.isEmpty()) {
            accounts.remove(acc.address);
        } else {
            byEvictionPrice.add(acc); // the prefix minimums before it are unchanged
        }
        pending.remove(e.hash);
        bytes -= e.size;
        count = pending.size();
    }

    /** Takes a transaction out wherever it is (a block held it, or a block made it invalid). */
    void remove(String hash) {
        Entry e = pending.remove(hash);
        if (e == null) {
            return;
        }
        bytes -= e.size;
        count = pending.size();
        Account acc = accounts.get(e.sender());
        if (dirty.add(acc)) {
            byEvictionPrice.remove(acc); // before its transactions change: the set is ordered by them
        }
        acc.txs.remove(e);
    }

    /** Recomputes the prefix minimums of the accounts that lost a transaction, and indexes them again. */
    private void settle() {
        if (dirty.isEmpty()) {
            return;
        }
        for (Account acc : dirty) {
            if (acc.txs.isEmpty()) {
                accounts.remove(acc.address);
                continue;
            }
            Entry min = null;
            for (Entry e : acc.txs) {
                min = min != null && compareRate(min, e) <= 0 ? min : e;
                e.cheapest = min;
            }
            byEvictionPrice.add(acc);
        }
        dirty.clear();
    }

    int size() {
        return count;
    }

    long bytes() {
        return bytes;
    }

    /**
     * A block's transactions: highest fee per byte first, each account's in nonce order, whose
     * encodings in a block (each with its protobuf field tag and length prefix, as CometBFT
     * counts them) take at most {@code maxBytes}. {@code accept} sees each candidate in that order
     * (the proposer applies it to a scratch state); a refused one, or one that does not fit, ends
     * its account's part of this block (its later nonces cannot go without it).
     */
    List<Entry> reap(long maxBytes, Predicate<Entry> accept) {
        settle();
        PriorityQueue<Cursor> heads = new PriorityQueue<>((x, y) -> {
            int c = compareRate(y.entry(), x.entry()); // the best paying first
            return c != 0 ? c : Long.compare(x.entry().seq, y.entry().seq);
        });
        for (Account acc : accounts.values()) {
            heads.add(new Cursor(acc, 0));
        }
        List<Entry> out = new ArrayList<>();
        long size = 0;
        while (!heads.isEmpty() && maxBytes - size >= blockBytes(1)) {
            Cursor c = heads.poll();
            Entry e = c.entry();
            long need = blockBytes(e.size);
            if (size + need > maxBytes || !accept.test(e)) {
                continue;
            }
            out.add(e);
            size += need;
            if (c.index() + 1 < c.account().txs.size()) {
                heads.add(new Cursor(c.account(), c.index() + 1));
            }
        }
        return out;
    }

    /** Every pending transaction in arrival order (a copy: the caller may remove while walking it). */
    List<Entry> all() {
        return new ArrayList<>(pending.values());
    }

    /** A transaction's size inside a block's data: field tag, uvarint length, bytes. */
    static long blockBytes(int length) {
        return 1 + Uvarint.size(length) + (long) length;
    }
}
