package io.oecloud.chain.ledger;

import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.ledger.Ledger.Result;
import io.oecloud.chain.ledger.LedgerState.StorageNode;
import io.oecloud.chain.ledger.LedgerState.StorageRoot;
import io.oecloud.chain.pb.ChainProto.CreateContract;
import io.oecloud.chain.pb.ChainProto.MoveShares;
import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.chain.pb.ChainProto.RenewContract;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Paid storage (chain-bridge/README.md, "Storage contracts"): the price of each period from the
 * storage nodes' asks, contracts bought into escrow with their holders' receipts, renewed, ended
 * early (refund) or moved to other holders, and the settlement of each period from per-node rates
 * kept incrementally, so that a period settles in work proportional to the nodes with a rate and
 * the rate changes due, never to the contracts. Deterministic: integer arithmetic on
 * {@link BigInteger}, sorted maps, no clock.
 *
 * <p>Periods: a transaction in period p (this block's) buys periods from p + 1 on; period p is
 * settled at its last block (after {@link Storage#endBlock}'s last-window penalties): each node
 * with a rate r is paid r when its root for p is proven (and not empty), otherwise r goes to the
 * fee pool. Returning a failed holder's share to its payers instead would need a walk over that
 * node's contracts, making settlement O(contracts); the payer's remedy is {@code MoveShares}.
 */
public final class Contracts {
    /** Receipts in one CreateContract or MoveShares, holders of a contract, addresses in one MoveShares' remove. */
    public static final int MAX_RECEIPTS = 256;
    /** Terms one contract keeps (a renewal at another price adds one; at the same price it extends the last). */
    public static final int MAX_TERMS = 16;
    /** A contract holds at most 2^50 bytes (1 PiB). */
    public static final long MAX_BYTES = 1L << 50;
    /** The most contracts one node's held list may hold: the implicit size of its weight tree ({@code held-weight/}). */
    public static final long MAX_HELD = 1L << 24;
    /** The most bytes one node may hold in its listed contracts together (2^62, 4 EiB): every weight sum fits a u64 (and a long). */
    public static final long MAX_HELD_BYTES = 1L << 62;
    /** The domain of a holder's receipt signature (v2: the receipt commits to the holder's entries root). */
    static final byte[] RECEIPT_DOMAIN = "oechain/receipt/v2".getBytes(StandardCharsets.US_ASCII);
    private static final BigInteger GIB = BigInteger.ONE.shiftLeft(30);

    private Contracts() {}

    /**
     * A holder's part of a contract: bytes and blocks (shards and manifest copies) it holds, and
     * {@code root}, proofs' NodeRoot over those blocks' (CID, size) entries from its receipt (32
     * bytes): the tree the contract picks are answered under.
     */
    public record Holding(long bytes, int blocks, byte[] root) {
        public Holding {
            if (root == null || root.length != 32) {
                throw new IllegalArgumentException("a holding's entries root is 32 bytes, not " + (root == null ? "null" : root.length));
            }
            root = root.clone();
        }

        @Override
        public byte[] root() {
            return root.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Holding h && bytes == h.bytes && blocks == h.blocks && java.util.Arrays.equals(root, h.root);
        }

        @Override
        public int hashCode() {
            return (Long.hashCode(bytes) * 31 + blocks) * 31 + java.util.Arrays.hashCode(root);
        }

        @Override
        public String toString() {
            return "Holding[bytes=" + bytes + ", blocks=" + blocks + ", root=" + java.util.HexFormat.of().formatHex(root) + "]";
        }
    }

    /** Paid periods [start, end) at {@code cost} base units a period. */
    public record Term(long start, long end, BigInteger cost) {}

    /**
     * A storage contract ({@code contract/OBJECTCID/PAYER}): paid periods [start, end) split into
     * terms (each at its own cost per period, contiguous, the last ending at {@code end}), and the
     * holders paid from it, each its bytes' share of the current term's cost. An ended contract
     * (EndContract before it started) may have no term left: start == end. Encoded: u64
     * createdHeight, u64 start, u64 end, u16 n, n × (u16 length, holder address, u64 bytes, u32
     * blocks, 32-byte entries root) in address order, u8 m, m × (u64 start, u64 end, u8 length,
     * cost), big-endian.
     */
    public record Contract(String object, String payer, long createdHeight, long start, long end, SortedMap<String, Holding> holders,
                           List<Term> terms) {
        public Contract {
            holders = Collections.unmodifiableSortedMap(new TreeMap<>(holders));
            terms = List.copyOf(terms);
        }

        /** The bytes of all holders. */
        public long bytes() {
            long b = 0;
            for (Holding h : holders.values()) {
                b += h.bytes();
            }
            return b;
        }

        /** The cost of paid period {@code period} (0 outside [start, end)). */
        public BigInteger costAt(long period) {
            for (Term t : terms) {
                if (t.start() <= period && period < t.end()) {
                    return t.cost();
                }
            }
            return BigInteger.ZERO;
        }

        /** The escrow of periods {@code from} and later: what the contract still holds. */
        public BigInteger unspent(long from) {
            BigInteger u = BigInteger.ZERO;
            for (Term t : terms) {
                long n = t.end() - Math.max(t.start(), from);
                if (n > 0) {
                    u = u.add(t.cost().multiply(BigInteger.valueOf(n)));
                }
            }
            return u;
        }

        /** Each holder's share of {@code cost}: see {@link Contracts#shares}. */
        public SortedMap<String, BigInteger> shares(BigInteger cost) {
            return Contracts.shares(cost, holders);
        }

        String key() {
            return object + "/" + payer;
        }

        byte[] encode() {
            int n = 8 * 3 + 2 + 1;
            List<byte[]> names = new ArrayList<>();
            for (String h : holders.keySet()) {
                byte[] b = h.getBytes(StandardCharsets.US_ASCII);
                names.add(b);
                n += 2 + b.length + 8 + 4 + 32;
            }
            List<byte[]> costs = new ArrayList<>();
            for (Term t : terms) {
                byte[] c = Amounts.encode(t.cost());
                costs.add(c);
                n += 16 + 1 + c.length;
            }
            ByteBuffer out = ByteBuffer.allocate(n).putLong(createdHeight).putLong(start).putLong(end).putShort((short) holders.size());
            int i = 0;
            for (Holding h : holders.values()) {
                byte[] b = names.get(i++);
                out.putShort((short) b.length).put(b).putLong(h.bytes()).putInt(h.blocks()).put(h.root);
            }
            out.put((byte) terms.size());
            for (int j = 0; j < terms.size(); j++) {
                out.putLong(terms.get(j).start()).putLong(terms.get(j).end()).put((byte) costs.get(j).length).put(costs.get(j));
            }
            return out.array();
        }

        /** The contract stored at {@code key} ("OBJECTCID/PAYER") with value {@code bytes} (the form {@link #encode} writes). */
        public static Contract decode(String key, byte[] bytes) {
            int slash = key.indexOf('/');
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long created = in.getLong();
            long start = in.getLong();
            long end = in.getLong();
            int n = in.getShort() & 0xffff;
            TreeMap<String, Holding> holders = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[in.getShort() & 0xffff];
                in.get(b);
                long bytesHeld = in.getLong();
                int blocks = in.getInt();
                byte[] root = new byte[32];
                in.get(root);
                holders.put(new String(b, StandardCharsets.US_ASCII), new Holding(bytesHeld, blocks, root));
            }
            int m = in.get() & 0xff;
            List<Term> terms = new ArrayList<>();
            for (int i = 0; i < m; i++) {
                long s = in.getLong();
                long e = in.getLong();
                byte[] c = new byte[in.get() & 0xff];
                in.get(c);
                terms.add(new Term(s, e, new BigInteger(1, c)));
            }
            return new Contract(key.substring(0, slash), key.substring(slash + 1), created, start, end, holders, terms);
        }
    }

    /** What a node was due for a period, and whether it was paid (else it went to the fee pool). Encoded: u8 paid, amount. */
    public record Payment(BigInteger amount, boolean paid) {
        byte[] encode() {
            byte[] a = Amounts.encode(amount);
            return ByteBuffer.allocate(1 + a.length).put((byte) (paid ? 1 : 0)).put(a).array();
        }

        static Payment decode(byte[] v) {
            return new Payment(new BigInteger(1, java.util.Arrays.copyOfRange(v, 1, v.length)), v[0] == 1);
        }
    }

    /** A period's price: base units per GiB per period, and whether it is the genesis default (no node had an ask). */
    public record Price(long period, BigInteger value, boolean isDefault) {}

    /**
     * The message a holder signs for a receipt: "oechain/receipt/v2", then each of chain ID,
     * object (binary CID), payer and holder (addresses, ASCII) as u16 length + bytes, then u64
     * bytes, u32 blocks, the 32-byte entries root (proofs' NodeRoot over the holder's sorted,
     * distinct (CID, size) entries of the object's blocks the receipt counts: {@code blocks} of
     * them, {@code bytes} their size sum), u64 period, all big-endian. The storage node signs it
     * with its peer key (Ed25519); the chain checks it with the key inside the holder's peer ID.
     *
     * @throws IllegalArgumentException unless the root is 32 bytes, or for a field over 65,535 bytes
     */
    public static byte[] receiptMessage(String chainId, byte[] object, String payer, String holder, long bytes, int blocks, byte[] entriesRoot,
                                        long period) {
        byte[] c = chainId.getBytes(StandardCharsets.UTF_8);
        byte[] p = payer.getBytes(StandardCharsets.US_ASCII);
        byte[] h = holder.getBytes(StandardCharsets.US_ASCII);
        if (c.length > 0xffff || object.length > 0xffff || p.length > 0xffff || h.length > 0xffff) {
            throw new IllegalArgumentException("a receipt's chain ID, object, payer and holder are at most 65,535 bytes each");
        }
        if (entriesRoot == null || entriesRoot.length != 32) {
            throw new IllegalArgumentException("a receipt's entries root is 32 bytes, not " + (entriesRoot == null ? "null" : entriesRoot.length));
        }
        return ByteBuffer.allocate(RECEIPT_DOMAIN.length + 8 + c.length + object.length + p.length + h.length + 20 + 32).put(RECEIPT_DOMAIN)
                .putShort((short) c.length).put(c).putShort((short) object.length).put(object).putShort((short) p.length).put(p)
                .putShort((short) h.length).put(h).putLong(bytes).putInt(blocks).put(entriesRoot).putLong(period).array();
    }

    /** Each holder's share of {@code cost}: floor(cost · bytes / total), the remainder to the holder with the most bytes (ties: lowest address). */
    public static SortedMap<String, BigInteger> shares(BigInteger cost, SortedMap<String, Holding> holders) {
        TreeMap<String, BigInteger> m = new TreeMap<>();
        long total = 0;
        String largest = null;
        for (Map.Entry<String, Holding> e : holders.entrySet()) {
            total += e.getValue().bytes();
            if (largest == null || e.getValue().bytes() > holders.get(largest).bytes()) {
                largest = e.getKey();
            }
        }
        if (total == 0) {
            return m;
        }
        BigInteger t = BigInteger.valueOf(total);
        BigInteger sum = BigInteger.ZERO;
        for (Map.Entry<String, Holding> e : holders.entrySet()) {
            BigInteger s = cost.multiply(BigInteger.valueOf(e.getValue().bytes())).divide(t);
            m.put(e.getKey(), s);
            sum = sum.add(s);
        }
        m.put(largest, m.get(largest).add(cost.subtract(sum)));
        return m;
    }

    /** The cost per period of {@code bytes} at {@code price}: ceil(bytes · price / 2^30), at least 1. */
    public static BigInteger costPerPeriod(long bytes, BigInteger price) {
        BigInteger[] qr = BigInteger.valueOf(bytes).multiply(price).divideAndRemainder(GIB);
        BigInteger c = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
        return c.max(BigInteger.ONE);
    }

    static long period(LedgerState s) {
        return s.storageParams.windowing().period(Math.max(0, s.height));
    }

    /**
     * The price of the state's current period: the stored one when it is that period's, else
     * computed from the asks now (what the period's first block will store).
     */
    public static Price currentPrice(LedgerState s) {
        long p = period(s);
        if (s.pricePeriod == p) {
            return new Price(p, s.price, s.priceDefault);
        }
        return computePrice(s, p);
    }

    /**
     * The capacity-weighted median of the asks of the active, non-leaving storage nodes that have
     * one (sorted by ask, then address; the lowest ask at which the running capacity reaches half
     * the total), or the genesis default when none has an ask (or all offer capacity 0).
     */
    static Price computePrice(LedgerState s, long period) {
        record Ask(BigInteger ask, String node, long capacity) {}
        List<Ask> asks = new ArrayList<>();
        BigInteger total = BigInteger.ZERO;
        for (Map.Entry<String, BigInteger> e : s.storageAsks.entrySet()) {
            StorageNode n = s.storageNodes.get(e.getKey());
            if (n != null && n.active() && !n.leaving() && n.capacity() > 0) {
                asks.add(new Ask(e.getValue(), e.getKey(), n.capacity()));
                total = total.add(BigInteger.valueOf(n.capacity()));
            }
        }
        if (asks.isEmpty()) {
            return new Price(period, s.storageParams.defaultPrice(), true);
        }
        asks.sort(java.util.Comparator.comparing(Ask::ask).thenComparing(Ask::node));
        BigInteger running = BigInteger.ZERO;
        for (Ask a : asks) {
            running = running.add(BigInteger.valueOf(a.capacity()));
            if (running.shiftLeft(1).compareTo(total) >= 0) {
                return new Price(period, a.ask(), false);
            }
        }
        throw new IllegalStateException("unreachable: the running capacity reaches the total");
    }

    /** The start of block {@code s.height}: at a period's first block (or the first block run in it), its price is fixed. */
    static void beginBlock(LedgerState s) {
        if (s.height < 0) {
            return;
        }
        long p = period(s);
        if (s.pricePeriod != p) {
            Price price = computePrice(s, p);
            s.pricePeriod = p;
            s.price = price.value();
            s.priceDefault = price.isDefault();
        }
    }

    /** The holder's key from its address, or null when the peer ID does not carry an Ed25519 key. */
    private static byte[] holderKey(String holder) {
        try {
            return io.oecloud.dht.PeerId.parse(holder).ed25519PublicKey();
        } catch (RuntimeException e) { // whatever a malformed string makes the parser throw: this runs on every admission
            return null;
        }
    }

    /**
     * The state-free checks of a transaction's receipts (Ledger.check runs them, outside the
     * ledger's lock): at most {@link #MAX_RECEIPTS}, each holder an address whose peer ID carries
     * its Ed25519 key, the entries root 32 bytes, the signature 64 bytes and valid over
     * {@link #receiptMessage}. Null when they pass.
     */
    static Result checkReceiptSignatures(String chainId, byte[] object, String payer, List<Receipt> receipts, Ledger.Verifier verify) {
        if (receipts.size() > MAX_RECEIPTS) {
            return new Result(Code.TOO_LARGE, receipts.size() + " receipts: at most " + MAX_RECEIPTS + " a transaction");
        }
        for (int i = 0; i < receipts.size(); i++) {
            Receipt r = receipts.get(i);
            byte[] key = holderKey(r.getHolder());
            if (key == null) {
                return new Result(Code.BAD_RECEIPT, "receipt " + i + ": holder '" + abbreviate(r.getHolder())
                        + "' is not a peer ID that carries an Ed25519 key");
            }
            if (r.getEntriesRoot().size() != 32) {
                return new Result(Code.BAD_RECEIPT, "receipt " + i + " of " + r.getHolder() + ": an entries root is 32 bytes, not "
                        + r.getEntriesRoot().size());
            }
            if (r.getSignature().size() != 64) {
                return new Result(Code.RECEIPT_SIGNATURE, "receipt " + i + " of " + r.getHolder() + ": a signature is 64 bytes, not "
                        + r.getSignature().size());
            }
            byte[] msg = receiptMessage(chainId, object, payer, r.getHolder(), r.getBytes(), r.getBlocks(), r.getEntriesRoot().toByteArray(),
                    r.getPeriod());
            if (!verify.verify(r.getSignature().toByteArray(), key, msg)) {
                return new Result(Code.RECEIPT_SIGNATURE, "receipt " + i + " of " + r.getHolder() + " does not verify for object, payer "
                        + payer + ", " + r.getBytes() + " bytes, " + r.getBlocks() + " blocks, entries root "
                        + java.util.HexFormat.of().formatHex(r.getEntriesRoot().toByteArray()) + ", period " + r.getPeriod()
                        + " on chain " + chainId);
            }
        }
        return null;
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    /** The object's CID in text form, or null (then {@code why} names the problem). */
    private static String object(byte[] b, String[] why) {
        if (b.length == 0 || b.length > NodeEntry.MAX_CID_BYTES) {
            why[0] = "an object is a binary CID of 1 to " + NodeEntry.MAX_CID_BYTES + " bytes, not " + b.length;
            return null;
        }
        try {
            return Cid.fromBytes(b).toString();
        } catch (IllegalArgumentException e) {
            why[0] = "the object is not a CID: " + e.getMessage();
            return null;
        }
    }

    /**
     * The stateful checks of receipts in period {@code p} into {@code holders} (replacing a
     * holder's holding): distinct holders not in {@code removed}, bytes 1 to 2^50, blocks 1 to
     * 2^31 - 1 (an entry count of a NodeRoot, so at most NodeRoot.MAX_COUNT), signed in p or
     * p - 1, each a registered, active storage node that is not leaving. Null when they pass
     * (holders filled with each receipt's bytes, blocks and entries root), else the refusal.
     */
    private static Result takeReceipts(LedgerState s, List<Receipt> receipts, long p, java.util.Set<String> removed,
                                       TreeMap<String, Holding> holders) {
        TreeSet<String> seen = new TreeSet<>();
        for (int i = 0; i < receipts.size(); i++) {
            Receipt r = receipts.get(i);
            String h = r.getHolder();
            if (!seen.add(h) || removed.contains(h)) {
                return new Result(Code.DUPLICATE_HOLDER, "receipt " + i + ": " + h + (removed.contains(h) ? " is also removed" : " has a receipt already"));
            }
            // blocks is read signed: 1 .. 2^31 - 1, within a NodeRoot's count (the picks' Challenges need that)
            if (r.getBytes() < 1 || r.getBytes() > MAX_BYTES || r.getBlocks() < 1 || r.getBlocks() > NodeRoot.MAX_COUNT) {
                return new Result(Code.BAD_RECEIPT, "receipt " + i + " of " + h + ": bytes must be 1 to 2^50 and blocks at least 1, were "
                        + Long.toUnsignedString(r.getBytes()) + " and " + Integer.toUnsignedString(r.getBlocks()));
            }
            if (!(r.getPeriod() == p || (p > 0 && r.getPeriod() == p - 1))) {
                return new Result(Code.STALE_RECEIPT, "receipt " + i + " of " + h + " was signed for period " + Long.toUnsignedString(r.getPeriod())
                        + "; this is period " + p + ", which takes receipts of periods " + Math.max(0, p - 1) + " and " + p);
            }
            StorageNode n = s.storageNodes.get(h);
            if (n == null) {
                return new Result(Code.NOT_STORAGE_NODE, "receipt " + i + ": " + h + " is not a registered storage node");
            }
            if (n.leaving()) {
                return new Result(Code.LEAVING, "receipt " + i + ": " + h + " is leaving the storage network");
            }
            if (!n.active()) {
                return new Result(Code.NOT_STORAGE_NODE, "receipt " + i + ": " + h + " is inactive (collateral below the minimum)");
            }
            if (r.getEntriesRoot().size() != 32) { // checkReceiptSignatures refused it first; never a throw here
                return new Result(Code.BAD_RECEIPT, "receipt " + i + " of " + h + ": an entries root is 32 bytes, not " + r.getEntriesRoot().size());
            }
            holders.put(h, new Holding(r.getBytes(), r.getBlocks(), r.getEntriesRoot().toByteArray()));
        }
        return null;
    }

    private static long totalBytes(SortedMap<String, Holding> holders) {
        long t = 0;
        for (Holding h : holders.values()) {
            t += h.bytes(); // each at most 2^50, at most 256 + 256 of them: no overflow
        }
        return t;
    }

    private static BigInteger maxPrice(com.google.protobuf.ByteString b) throws Amounts.AmountException {
        return b.isEmpty() ? null : Amounts.decode(b.toByteArray(), "max_price");
    }

    /** CreateContract by {@code from} (the payer), {@code spendable} its balance after the fee. */
    static Result create(LedgerState s, String from, BigInteger spendable, CreateContract tx) throws Amounts.AmountException {
        String[] why = new String[1];
        String object = object(tx.getObject().toByteArray(), why);
        if (object == null) {
            return new Result(Code.BAD_CID, why[0]);
        }
        StorageParams sp = s.storageParams;
        long periods = Integer.toUnsignedLong(tx.getPeriods());
        if (periods < 1 || periods > sp.maxContractPeriods()) {
            return new Result(Code.MALFORMED, "a contract buys 1 to " + sp.maxContractPeriods() + " periods, not " + periods);
        }
        if (tx.getReceiptsCount() < 1 || tx.getReceiptsCount() > MAX_RECEIPTS) {
            return new Result(tx.getReceiptsCount() < 1 ? Code.MALFORMED : Code.TOO_LARGE, "a contract has 1 to " + MAX_RECEIPTS
                    + " receipts, not " + tx.getReceiptsCount());
        }
        BigInteger max = maxPrice(tx.getMaxPrice());
        String key = object + "/" + from;
        Contract old = s.contracts.get(key);
        if (old != null) {
            return new Result(Code.CONTRACT_EXISTS, from + " has a contract for " + object + " already (paid periods " + old.start() + " to "
                    + (old.end() - 1) + "): renew it, or end it and wait for its record to go");
        }
        long p = period(s);
        TreeMap<String, Holding> holders = new TreeMap<>();
        Result bad = takeReceipts(s, tx.getReceiptsList(), p, java.util.Set.of(), holders);
        if (bad != null) {
            return bad;
        }
        long bytes = totalBytes(holders);
        if (bytes > MAX_BYTES) {
            return new Result(Code.TOO_LARGE, "the receipts hold " + bytes + " bytes, a contract at most 2^50");
        }
        Result full = heldLimits(s, key, holders);
        if (full != null) {
            return full;
        }
        Price price = currentPrice(s);
        if (max != null && price.value().compareTo(max) > 0) {
            return new Result(Code.PRICE_ABOVE_MAX, "the price of period " + p + " is " + price.value() + " base units per GiB per period,"
                    + " above the max_price " + max);
        }
        BigInteger cost = costPerPeriod(bytes, price.value());
        BigInteger escrow = cost.multiply(BigInteger.valueOf(periods));
        if (escrow.compareTo(Amounts.LIMIT) >= 0) {
            return new Result(Code.BAD_AMOUNT, "the escrow of " + periods + " periods at " + cost + " reaches 2^128");
        }
        if (spendable.compareTo(escrow) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " can spend " + spendable + " after the fee; " + bytes + " bytes for " + periods
                    + " periods at " + cost + " a period cost " + escrow);
        }
        if (p + 1 + periods > Long.MAX_VALUE / sp.periodBlocks()) {
            return new Result(Code.MALFORMED, "the contract would end beyond the chain's periods");
        }
        // every check is done
        LedgerState.Account a = s.account(from);
        s.accounts.put(from, new LedgerState.Account(a.balance().subtract(escrow), a.nonce()));
        s.escrowPool = s.escrowPool.add(escrow);
        Contract c = new Contract(object, from, s.height, p + 1, p + 1 + periods, holders, List.of(new Term(p + 1, p + 1 + periods, cost)));
        put(s, null, c, p + 1);
        return Result.OK;
    }

    /** RenewContract: a new term of {@code periods} after the contract's end, at the current price. */
    static Result renew(LedgerState s, String from, BigInteger spendable, RenewContract tx) throws Amounts.AmountException {
        String[] why = new String[1];
        String object = object(tx.getObject().toByteArray(), why);
        if (object == null) {
            return new Result(Code.BAD_CID, why[0]);
        }
        StorageParams sp = s.storageParams;
        long periods = Integer.toUnsignedLong(tx.getPeriods());
        if (periods < 1 || periods > sp.maxContractPeriods()) {
            return new Result(Code.MALFORMED, "a renewal buys 1 to " + sp.maxContractPeriods() + " periods, not " + periods);
        }
        BigInteger max = maxPrice(tx.getMaxPrice());
        Contract c = s.contracts.get(object + "/" + from);
        if (c == null) {
            return new Result(Code.NO_CONTRACT, from + " has no contract for " + object);
        }
        long p = period(s);
        if (c.end() <= p + 1) {
            return new Result(Code.CONTRACT_ENDED, "the contract of " + object + " has no paid period after " + p + " (it ends at "
                    + c.end() + "): buy a new one once its record is gone");
        }
        Price price = currentPrice(s);
        if (max != null && price.value().compareTo(max) > 0) {
            return new Result(Code.PRICE_ABOVE_MAX, "the price of period " + p + " is " + price.value() + " base units per GiB per period,"
                    + " above the max_price " + max);
        }
        BigInteger cost = costPerPeriod(c.bytes(), price.value());
        BigInteger escrow = cost.multiply(BigInteger.valueOf(periods));
        if (escrow.compareTo(Amounts.LIMIT) >= 0) {
            return new Result(Code.BAD_AMOUNT, "the escrow of " + periods + " periods at " + cost + " reaches 2^128");
        }
        if (c.end() + periods > Long.MAX_VALUE / sp.periodBlocks()) {
            return new Result(Code.MALFORMED, "the contract would end beyond the chain's periods");
        }
        List<Term> terms = new ArrayList<>(c.terms());
        Term last = terms.getLast();
        if (last.cost().equals(cost)) {
            terms.set(terms.size() - 1, new Term(last.start(), c.end() + periods, cost));
        } else {
            if (terms.size() >= MAX_TERMS) {
                terms.removeIf(t -> t.end() <= p); // settled whole: only history
            }
            if (terms.size() >= MAX_TERMS) {
                return new Result(Code.TOO_MANY_TERMS, "the contract of " + object + " has " + terms.size() + " terms at different prices"
                        + " (at most " + MAX_TERMS + "): renew once one has passed");
            }
            terms.add(new Term(c.end(), c.end() + periods, cost));
        }
        if (spendable.compareTo(escrow) < 0) {
            return new Result(Code.INSUFFICIENT_FUNDS, from + " can spend " + spendable + " after the fee; " + periods + " periods at "
                    + cost + " cost " + escrow);
        }
        LedgerState.Account a = s.account(from);
        s.accounts.put(from, new LedgerState.Account(a.balance().subtract(escrow), a.nonce()));
        s.escrowPool = s.escrowPool.add(escrow);
        put(s, c, new Contract(c.object(), c.payer(), c.createdHeight(), c.start(), c.end() + periods, c.holders(), terms),
                p + 1);
        return Result.OK;
    }

    /** EndContract: every paid period after the current one returns to the payer; the record ends at p + 1. */
    static Result end(LedgerState s, String from, byte[] objectBytes) {
        String[] why = new String[1];
        String object = object(objectBytes, why);
        if (object == null) {
            return new Result(Code.BAD_CID, why[0]);
        }
        Contract c = s.contracts.get(object + "/" + from);
        if (c == null) {
            return new Result(Code.NO_CONTRACT, from + " has no contract for " + object);
        }
        long p = period(s);
        if (c.end() <= p + 1) {
            return new Result(Code.CONTRACT_ENDED, "the contract of " + object + " has no paid period after " + p + " (it ends at "
                    + c.end() + ")");
        }
        BigInteger refund = c.unspent(p + 1);
        List<Term> terms = new ArrayList<>();
        for (Term t : c.terms()) {
            if (t.start() < p + 1) {
                terms.add(new Term(t.start(), Math.min(t.end(), p + 1), t.cost()));
            }
        }
        LedgerState.Account a = s.account(from);
        s.accounts.put(from, new LedgerState.Account(a.balance().add(refund), a.nonce()));
        s.escrowPool = s.escrowPool.subtract(refund);
        put(s, c, new Contract(c.object(), c.payer(), c.createdHeight(), Math.min(c.start(), p + 1), p + 1, c.holders(), terms), p + 1);
        return Result.OK;
    }

    /** MoveShares: holders removed, receipts' holders set, from the next period on; the cost unchanged. */
    static Result move(LedgerState s, String from, MoveShares tx) {
        String[] why = new String[1];
        String object = object(tx.getObject().toByteArray(), why);
        if (object == null) {
            return new Result(Code.BAD_CID, why[0]);
        }
        if (tx.getRemoveCount() > MAX_RECEIPTS || tx.getReceiptsCount() > MAX_RECEIPTS) {
            return new Result(Code.TOO_LARGE, "a move removes at most " + MAX_RECEIPTS + " holders and carries at most " + MAX_RECEIPTS
                    + " receipts");
        }
        if (tx.getRemoveCount() == 0 && tx.getReceiptsCount() == 0) {
            return new Result(Code.MALFORMED, "a move removes a holder or carries a receipt");
        }
        Contract c = s.contracts.get(object + "/" + from);
        if (c == null) {
            return new Result(Code.NO_CONTRACT, from + " has no contract for " + object);
        }
        long p = period(s);
        if (c.end() <= p + 1) {
            return new Result(Code.CONTRACT_ENDED, "the contract of " + object + " has no paid period after " + p + " (it ends at "
                    + c.end() + "): nothing to move");
        }
        TreeMap<String, Holding> holders = new TreeMap<>(c.holders());
        TreeSet<String> removed = new TreeSet<>();
        for (String h : tx.getRemoveList()) {
            if (!removed.add(h)) {
                return new Result(Code.DUPLICATE_HOLDER, h + " is removed twice");
            }
            if (holders.remove(h) == null) {
                return new Result(Code.MALFORMED, "'" + abbreviate(h) + "' does not hold a share of the contract of " + object);
            }
        }
        Result bad = takeReceipts(s, tx.getReceiptsList(), p, removed, holders);
        if (bad != null) {
            return bad;
        }
        if (holders.isEmpty()) {
            return new Result(Code.MALFORMED, "a contract keeps at least one holder (end it instead)");
        }
        if (holders.size() > MAX_RECEIPTS) {
            return new Result(Code.TOO_LARGE, "a contract has at most " + MAX_RECEIPTS + " holders, this move leaves " + holders.size());
        }
        long bytes = totalBytes(holders);
        if (bytes > MAX_BYTES) {
            return new Result(Code.TOO_LARGE, "the holders would hold " + bytes + " bytes, a contract at most 2^50");
        }
        Result full = heldLimits(s, c.key(), holders);
        if (full != null) {
            return full;
        }
        put(s, c, new Contract(c.object(), c.payer(), c.createdHeight(), c.start(), c.end(), holders, c.terms()), p + 1);
        return Result.OK;
    }

    /**
     * Stores {@code neu} in place of {@code old} (null: a new contract) with its indexes, and
     * schedules the rate changes that make each holder's rate follow {@code neu} from period
     * {@code from} on (before it, {@code old} was and stays what is paid). A holder removed
     * leaves its held list now, a holder added joins it now. O(holders × terms).
     */
    private static void put(LedgerState s, Contract old, Contract neu, long from) {
        String key = neu.key();
        s.contracts.put(key, neu);
        s.contractsByPayer.put(neu.payer() + "/" + neu.object(), new byte[0]);
        if (old != null) {
            for (String h : old.holders().keySet()) {
                if (!neu.holders().containsKey(h)) {
                    s.contractHolders.remove(h + "/" + key);
                    leaveHeld(s, h, key);
                }
            }
            if (old.end() != neu.end()) {
                s.contractEnds.remove(Storage.periodKey(old.end()) + "/" + key);
            }
        }
        for (Map.Entry<String, Holding> e : neu.holders().entrySet()) {
            String h = e.getKey();
            s.contractHolders.put(h + "/" + key, new byte[0]);
            // a holder already listed keeps its index (a renewal, an end); a receipt replacing its holding changes its weight
            joinHeld(s, h, key, e.getValue().bytes());
        }
        s.contractEnds.put(Storage.periodKey(neu.end()) + "/" + key, new byte[0]);
        reschedule(s, old, neu, from);
    }

    /** The key of index {@code i} of {@code node}'s held list: "NODE/" and the index in 20 digits. */
    static String heldListKey(String node, long i) {
        return node + "/" + Storage.periodKey(i);
    }

    /**
     * Adds contract {@code key} to {@code node}'s held list (the contracts it can be picked for,
     * {@link Storage#contractPicks}), at its end, with weight {@code bytes} (the node's bytes in it);
     * when it is listed already, sets its weight to {@code bytes}. O(log n) reads, O(log 2^24) writes.
     * The caller checked {@link #heldLimits}.
     */
    static void joinHeld(LedgerState s, String node, String key, long bytes) {
        String ik = node + "/" + key;
        Long at = s.heldIndex.get(ik);
        if (at != null) {
            long d = bytes - weightAt(s, node, at);
            if (d != 0) {
                addWeight(s, node, at, d);
            }
            return;
        }
        long n = s.heldCount.getOrDefault(node, 0L);
        if (n >= MAX_HELD) { // heldLimits refused it first; never reached
            throw new IllegalStateException(node + "'s held list is full (" + MAX_HELD + " contracts)");
        }
        s.heldList.put(heldListKey(node, n), key);
        s.heldIndex.put(ik, n);
        s.heldCount.put(node, n + 1);
        addWeight(s, node, n, bytes);
    }

    /**
     * Removes contract {@code key} from {@code node}'s held list, moving the last entry into its
     * place so the list stays dense (a pick is one index below the count), and its weight with it
     * (at the hole: + w(last) - w(removed); at the last index: - w(last)); nothing when it is not
     * listed. O(log n).
     */
    static void leaveHeld(LedgerState s, String node, String key) {
        Long i = s.heldIndex.remove(node + "/" + key);
        if (i == null) {
            return;
        }
        long last = s.heldCount.get(node) - 1;
        long wLast = weightAt(s, node, last);
        if (i != last) {
            long wRemoved = weightAt(s, node, i);
            String moved = s.heldList.get(heldListKey(node, last));
            s.heldList.put(heldListKey(node, i), moved);
            s.heldIndex.put(node + "/" + moved, i);
            if (wLast != wRemoved) {
                addWeight(s, node, i, wLast - wRemoved);
            }
        }
        addWeight(s, node, last, -wLast);
        s.heldList.remove(heldListKey(node, last));
        if (last == 0) {
            s.heldCount.remove(node);
        } else {
            s.heldCount.put(node, last);
        }
    }

    /**
     * Null when every holder of {@code holders} can hold contract {@code key} with those bytes (its
     * list below {@link #MAX_HELD} contracts when it joins, its listed bytes at most
     * {@link #MAX_HELD_BYTES} after), else the refusal ({@code TOO_LARGE}). O(holders × log).
     */
    static Result heldLimits(LedgerState s, String key, SortedMap<String, Holding> holders) {
        for (Map.Entry<String, Holding> e : holders.entrySet()) {
            String h = e.getKey();
            Long at = s.heldIndex.get(h + "/" + key);
            long n = heldCount(s, h);
            if (at == null && n >= MAX_HELD) {
                return new Result(Code.TOO_LARGE, h + " holds " + n + " contracts, the most one node's held list may hold (2^24)");
            }
            long after = heldBytes(s, h) - (at == null ? 0 : weightAt(s, h, at)) + e.getValue().bytes();
            if (after > MAX_HELD_BYTES) {
                return new Result(Code.TOO_LARGE, h + " would hold " + after + " bytes in its contracts, one node at most 2^62");
            }
        }
        return null;
    }

    /** The key of Fenwick position {@code pos} (1 .. 2^24) of {@code node}'s weight tree: "NODE/" and 10 digits. */
    static String heldWeightKey(String node, long pos) {
        return node + "/" + String.format("%010d", pos);
    }

    private static long tree(LedgerState s, String node, long pos) {
        Long v = s.heldWeight.get(heldWeightKey(node, pos));
        return v == null ? 0 : v;
    }

    /** Adds {@code d} to the weight at index {@code i} of {@code node}'s list: the Fenwick update, O(log 2^24) writes; a sum of 0 is removed. */
    private static void addWeight(LedgerState s, String node, long i, long d) {
        for (long pos = i + 1; pos <= MAX_HELD; pos += pos & -pos) {
            String k = heldWeightKey(node, pos);
            long v = tree(s, node, pos) + d;
            if (v < 0) {
                throw new IllegalStateException("weight sum of " + k + " negative: " + v);
            }
            if (v == 0) {
                s.heldWeight.remove(k);
            } else {
                s.heldWeight.put(k, v);
            }
        }
    }

    /** The weight (the node's bytes) of index {@code i} of {@code node}'s held list: a Fenwick point query, O(log) reads. */
    static long weightAt(LedgerState s, String node, long i) {
        long pos = i + 1;
        long w = tree(s, node, pos);
        long stop = pos - (pos & -pos);
        for (long y = pos - 1; y > stop; y -= y & -y) {
            w -= tree(s, node, y);
        }
        return w;
    }

    /** The bytes {@code node} holds in its listed contracts together (the tree's root, position 2^24; absent: 0). */
    public static long heldBytes(LedgerState s, String node) {
        return tree(s, node, MAX_HELD);
    }

    /** The sum of the weights of indexes 0 .. {@code n} - 1 of {@code node}'s list: a Fenwick prefix query, O(log). */
    static long heldPrefix(LedgerState s, String node, long n) {
        long sum = 0;
        for (long pos = n; pos > 0; pos -= pos & -pos) {
            sum += tree(s, node, pos);
        }
        return sum;
    }

    /**
     * The index of {@code node}'s held list whose weight interval [prefix(i), prefix(i) + w(i))
     * holds {@code r} (0 <= r < {@link #heldBytes}): the Fenwick descent, O(log 2^24) reads.
     */
    static long heldAt(LedgerState s, String node, long r) {
        long pos = 0;
        for (long step = MAX_HELD; step > 0; step >>= 1) {
            long next = pos + step;
            if (next <= MAX_HELD) {
                long v = tree(s, node, next);
                if (v <= r) {
                    pos = next;
                    r -= v;
                }
            }
        }
        return pos; // the largest pos with prefix(pos) <= r: index pos's interval holds r
    }

    /** How many contracts {@code node}'s held list has: those that pay it for the current period or later. */
    public static long heldCount(LedgerState s, String node) {
        return s.heldCount.getOrDefault(node, 0L);
    }

    /** The contract key ("OBJECT/PAYER") at index {@code i} of {@code node}'s held list, or null. */
    public static String held(LedgerState s, String node, long i) {
        return s.heldList.get(heldListKey(node, i));
    }

    /** Each holder's rate from {@code c} as a step function: period → the rate from that period on. */
    private static Map<String, TreeMap<Long, BigInteger>> steps(Contract c) {
        Map<String, TreeMap<Long, BigInteger>> m = new TreeMap<>();
        if (c == null) {
            return m;
        }
        for (String h : c.holders().keySet()) {
            m.put(h, new TreeMap<>());
        }
        for (Term t : c.terms()) {
            if (t.end() <= t.start()) {
                continue;
            }
            SortedMap<String, BigInteger> shares = c.shares(t.cost());
            for (String h : c.holders().keySet()) {
                TreeMap<Long, BigInteger> f = m.get(h);
                f.put(t.start(), shares.get(h));
                f.putIfAbsent(t.end(), BigInteger.ZERO); // the next term's start overwrites it
            }
        }
        return m;
    }

    private static BigInteger at(TreeMap<Long, BigInteger> f, long q) {
        if (f == null) {
            return BigInteger.ZERO;
        }
        Map.Entry<Long, BigInteger> e = f.floorEntry(q);
        return e == null ? BigInteger.ZERO : e.getValue();
    }

    /** Adds the rate changes that turn the holders' rates from {@code old}'s into {@code neu}'s from period {@code from} on. */
    private static void reschedule(LedgerState s, Contract old, Contract neu, long from) {
        Map<String, TreeMap<Long, BigInteger>> a = steps(old);
        Map<String, TreeMap<Long, BigInteger>> b = steps(neu);
        TreeSet<String> holders = new TreeSet<>(a.keySet());
        holders.addAll(b.keySet());
        for (String h : holders) {
            TreeMap<Long, BigInteger> fa = a.get(h);
            TreeMap<Long, BigInteger> fb = b.get(h);
            TreeSet<Long> points = new TreeSet<>();
            points.add(from);
            if (fa != null) {
                points.addAll(fa.tailMap(from, false).keySet());
            }
            if (fb != null) {
                points.addAll(fb.tailMap(from, false).keySet());
            }
            BigInteger before = BigInteger.ZERO;
            for (long q : points) {
                BigInteger d = at(fb, q).subtract(at(fa, q));
                addDelta(s, q, h, d.subtract(before));
                before = d;
            }
        }
    }

    private static void addDelta(LedgerState s, long period, String node, BigInteger delta) {
        if (delta.signum() == 0) {
            return;
        }
        String k = Storage.periodKey(period) + "/" + node;
        BigInteger v = s.rateChanges.getOrDefault(k, BigInteger.ZERO).add(delta);
        if (v.signum() == 0) {
            s.rateChanges.remove(k);
        } else {
            s.rateChanges.put(k, v);
        }
    }

    /** Whether {@code node} proved its window of {@code period} with a non-empty root (what earns its rate). */
    static boolean proved(LedgerState s, String node, long period) {
        StorageRoot r = s.storageRoot(period, node);
        return r != null && r.status() == StorageRoot.PROVEN && r.count() > 0;
    }

    /** The end of block {@code s.height}: at a period's last block, the period is settled ({@link #settle}). */
    static Settlement endBlock(LedgerState s) {
        if (s.height < 0) {
            return null;
        }
        long pb = s.storageParams.periodBlocks();
        Settlement done = s.height % pb == pb - 1 ? settle(s, s.height / pb) : null;
        leaveEnded(s, (s.height + 1) / pb, LEAVES_PER_BLOCK);
        return done;
    }

    /** Holders taken out of held lists in one block at most (a contract's holders go together). */
    public static final int LEAVES_PER_BLOCK = 256;

    /**
     * Takes the holders of contracts whose last paid period is settled (end ≤ {@code unsettled},
     * the first period not settled) out of their held lists, in contract-end order from the
     * {@code held-cursor/} on, until {@code budget} holders left (the contract under way is
     * finished). Until then a pick may still land on such a contract and is passed over
     * ({@link Storage#pickContracts}); its holders keep its blocks through its grace periods
     * anyway. Work a block: O(budget × log), whatever the number of contracts. Public for the
     * settlement benchmark, which times one block's step on a large state.
     */
    public static void leaveEnded(LedgerState s, long unsettled, int budget) {
        String cursor = s.heldCursor.get("");
        String upTo = Storage.periodKey(unsettled) + "0"; // every key of an end ≤ unsettled sorts below it
        java.util.SortedMap<String, byte[]> ended = cursor == null ? s.contractEnds.headMap(upTo)
                : cursor.compareTo(upTo) >= 0 ? java.util.Collections.emptySortedMap() : s.contractEnds.subMap(cursor, false, upTo, false);
        int left = 0;
        String last = null;
        for (String k : ended.keySet()) {
            if (left >= budget) {
                break;
            }
            String key = k.substring(k.indexOf('/') + 1);
            Contract c = s.contracts.get(key);
            if (c != null) {
                for (String h : c.holders().keySet()) {
                    leaveHeld(s, h, key);
                    left++;
                }
            }
            last = k;
        }
        if (last != null) {
            s.heldCursor.put("", last);
        }
    }

    /**
     * What one settlement did: the period, each node's payment (FinalizeBlock's events show them),
     * nodes paid and unpaid, base units each way, rate changes applied, records pruned.
     */
    public record Settlement(long period, SortedMap<String, Payment> payments, int paid, int unpaid, BigInteger toNodes, BigInteger toFees,
                             int changes, int pruned) {}

    /**
     * Settles period {@code p} on {@code s} (its last block, after the window penalties): each
     * node with a rate is paid it when it {@link #proved} p, else the rate goes to the fee pool;
     * the escrow pool gives the sum; the rate changes of p + 1 are applied and removed; payments of
     * p - retainPeriods and contracts whose end + contractGracePeriods has come are removed. The
     * contracts whose last paid period was p leave their holders' held lists later, a bounded
     * number a block ({@link #leaveEnded}). Work: O(nodes with a rate + changes due + records
     * pruned), never O(contracts). Public for the
     * ledger benchmark, which times it on a copy of a large state; the ledger calls it from
     * {@link Block#end}.
     */
    public static Settlement settle(LedgerState s, long p) {
        int paid = 0;
        int unpaid = 0;
        BigInteger toNodes = BigInteger.ZERO;
        BigInteger toFees = BigInteger.ZERO;
        String pk = Storage.periodKey(p);
        TreeMap<String, Payment> done = new TreeMap<>();
        for (Map.Entry<String, BigInteger> e : s.rates.entrySet()) {
            String node = e.getKey();
            BigInteger r = e.getValue();
            boolean ok = proved(s, node, p);
            if (ok) {
                LedgerState.Account a = s.account(node);
                s.accounts.put(node, new LedgerState.Account(a.balance().add(r), a.nonce()));
                s.earned.put(node, s.earned.getOrDefault(node, BigInteger.ZERO).add(r));
                toNodes = toNodes.add(r);
                paid++;
            } else {
                toFees = toFees.add(r);
                unpaid++;
            }
            Payment pay = new Payment(r, ok);
            s.payments.put(pk + "/" + node, pay);
            done.put(node, pay);
        }
        s.feePool = s.feePool.add(toFees);
        s.escrowPool = s.escrowPool.subtract(toNodes).subtract(toFees);
        if (s.escrowPool.signum() < 0) {
            throw new IllegalStateException("escrow pool negative after settling period " + p + ": " + s.escrowPool);
        }
        String next = Storage.periodKey(p + 1);
        List<Map.Entry<String, BigInteger>> due = new ArrayList<>(s.rateChanges.subMap(next + "/", next + "0").entrySet());
        for (Map.Entry<String, BigInteger> e : due) {
            String node = e.getKey().substring(next.length() + 1);
            BigInteger r = s.rates.getOrDefault(node, BigInteger.ZERO).add(e.getValue());
            if (r.signum() < 0) {
                throw new IllegalStateException("rate of " + node + " negative from period " + (p + 1) + ": " + r);
            }
            if (r.signum() == 0) {
                s.rates.remove(node);
            } else {
                s.rates.put(node, r);
            }
            s.rateChanges.remove(e.getKey());
        }
        // the contracts paid through p leave their holders' held lists later, a bounded number a block
        // (leaveEnded): here it would make settlement grow with the contracts ending (159 ms at 100,000)
        int pruned = 0;
        long retain = s.storageParams.retainPeriods();
        if (p >= retain) {
            String old = Storage.periodKey(p - retain);
            for (String k : new ArrayList<>(s.payments.subMap(old + "/", old + "0").keySet())) {
                s.payments.remove(k);
                pruned++;
            }
        }
        // a contract that ended at `end` (paid through end - 1) is removed at the last block of period end + grace - 1
        long grace = s.storageParams.contractGracePeriods();
        String upTo = Storage.periodKey(Math.max(0, p + 2 - grace));
        for (String k : new ArrayList<>(s.contractEnds.headMap(upTo).keySet())) {
            String key = k.substring(k.indexOf('/') + 1);
            Contract c = s.contracts.remove(key);
            s.contractEnds.remove(k);
            if (c != null) {
                s.contractsByPayer.remove(c.payer() + "/" + c.object());
                for (String h : c.holders().keySet()) {
                    s.contractHolders.remove(h + "/" + key);
                    leaveHeld(s, h, key); // left at its end's settlement already: a no-op kept for safety
                }
            }
            pruned++;
        }
        return new Settlement(p, Collections.unmodifiableSortedMap(done), paid, unpaid, toNodes, toFees, due.size(), pruned);
    }

    /** The contract of {@code object} (CID text) paid by {@code payer}, or null. */
    public static Contract contract(LedgerState s, String object, String payer) {
        return s.contracts.get(object + "/" + payer);
    }

    /** Up to {@code limit} contracts paid by {@code payer}, after object {@code after} ("" from the first), in object order. */
    public static List<Contract> paidBy(LedgerState s, String payer, String after, int limit) {
        List<Contract> l = new ArrayList<>();
        String from = payer + "/" + after;
        for (String k : s.contractsByPayer.subMap(from, after.isEmpty(), payer + "0", false).keySet()) {
            if (l.size() == limit) {
                break;
            }
            l.add(s.contracts.get(k.substring(payer.length() + 1) + "/" + payer));
        }
        return l;
    }

    /** Up to {@code limit} contracts held by {@code node}, after "OBJECT/PAYER" {@code after} ("" from the first). */
    public static List<Contract> heldBy(LedgerState s, String node, String after, int limit) {
        List<Contract> l = new ArrayList<>();
        String from = node + "/" + after;
        for (String k : s.contractHolders.subMap(from, after.isEmpty(), node + "0", false).keySet()) {
            if (l.size() == limit) {
                break;
            }
            l.add(s.contracts.get(k.substring(node.length() + 1)));
        }
        return l;
    }

    /** The rate due to {@code node} now (base units per period). */
    public static BigInteger rate(LedgerState s, String node) {
        return s.rates.getOrDefault(node, BigInteger.ZERO);
    }

    /** What settlement paid {@code node} since genesis (0 for a node never paid). */
    public static BigInteger earned(LedgerState s, String node) {
        return s.earned.getOrDefault(node, BigInteger.ZERO);
    }

    /** {@code node}'s settled payments the state still holds, newest first. */
    public static List<Map.Entry<Long, Payment>> payments(LedgerState s, String node) {
        List<Map.Entry<Long, Payment>> l = new ArrayList<>();
        long p = period(s);
        for (long q = p; q >= 0 && q >= p - s.storageParams.retainPeriods(); q--) {
            Payment x = s.payments.get(Storage.periodKey(q) + "/" + node);
            if (x != null) {
                l.add(Map.entry(q, x));
            }
        }
        return l;
    }

    /** {@code node}'s ask (base units per GiB per period), or null when it has none. */
    public static BigInteger ask(LedgerState s, String node) {
        return s.storageAsks.get(node);
    }

    /** Every contract, by "OBJECT/PAYER" (tests and the escrow check). */
    public static SortedMap<String, Contract> all(LedgerState s) {
        return Collections.unmodifiableSortedMap(s.contracts);
    }

    /** Every node's rate (tests). */
    public static SortedMap<String, BigInteger> rates(LedgerState s) {
        return Collections.unmodifiableSortedMap(s.rates);
    }

    /** Every scheduled rate change by "PERIOD/NODE" (tests). */
    public static SortedMap<String, BigInteger> rateChanges(LedgerState s) {
        return Collections.unmodifiableSortedMap(s.rateChanges);
    }
}
