package io.oecloud.node.paying;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.CreateContract;
import io.oecloud.chain.pb.ChainProto.EndContract;
import io.oecloud.chain.pb.ChainProto.MoveShares;
import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.chain.pb.ChainProto.RenewContract;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.PeerId;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.RepairListener;
import io.oecloud.node.object.StoredHook;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The payer side of paid storage: this node's account buys, renews, ends and moves the storage
 * contracts of the objects uploaded through it (chain-bridge's {@code CreateContract},
 * {@code RenewContract}, {@code EndContract}, {@code MoveShares}).
 *
 * <p>Buying, the last step of an upload ({@link #hook}): every node the manifest names (each
 * shard's holders, and the nodes that took a copy of the manifest, this one among them) is asked
 * at once for a receipt of the object's blocks it holds pinned by this node's key, for the current
 * period (only those the chain lists as active storage nodes: no other can be paid); those that
 * answer within {@code receiptDeadline} form the certificate. The contract
 * covers the holders that answered. One that did not is asked again every few seconds for a minute
 * and added when it signs (a node that had not registered yet, or was restarting); failing that it
 * is not paid: it drops the blocks after its grace (nothing covers them), and repair then rebuilds
 * them elsewhere and moves the share to the new holder ({@link #placed}, {@link ContractKeeper}). Before sending, the cost is checked against the account's balance so
 * an account that cannot pay is told so at once; the ledger stays the judge. A refusal fails the
 * upload with {@link ObjectException.Code#PAYMENT_REQUIRED} and the chain's words, and the upload's
 * blocks are taken back: nothing unpaid is acknowledged. One refusal is remedied instead: a holder
 * that stopped being an active storage node between the read of the active nodes and the
 * transaction (a missed proof cut its collateral) is left out and the contract sent again with the
 * others ({@link #HOLDER_RESENDS} times at most).
 *
 * <p>An object uploaded twice (the same CID) by this node has one contract: the second upload is
 * answered with the contract already paid, and nothing is charged.
 *
 * <p>Threads: {@link #buy}, {@link #renew}, {@link #end} and {@link #contracts} block on the network
 * (call them from work threads); {@link #placed} hands its work to a thread of its own.
 */
public final class ContractBuyer implements RepairListener, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ContractBuyer.class.getName());
    /** A GiB, the unit of the price. */
    private static final BigInteger GIB = BigInteger.ONE.shiftLeft(30);

    /**
     * Asks a holder for its signed receipt of the object's blocks pinned by this node's key, for
     * {@code period}, with the map of the blocks it counts (checked against the manifest before
     * the receipt is used: {@link ReceiptBlocks}).
     */
    @FunctionalInterface
    public interface Receipts {
        CompletableFuture<io.oecloud.node.shard.Receipts.Signed> receipt(PeerId holder, Cid object, long period);
    }

    /** A holder of a contract as the answers show it. */
    public record Held(String holder, long bytes, BigInteger share) {}

    /**
     * A contract as an upload, a renewal or a listing shows it.
     *
     * @param object the object's CID
     * @param bytes bytes paid for (the holders' sum)
     * @param periods periods bought by this request (0 for a listing or an object bought before)
     * @param costPerPeriod base units a period, at the current term
     * @param escrow base units left in escrow
     * @param start first paid period
     * @param end the first period no longer paid (paid through {@code end - 1})
     * @param paidUntil when period {@code end - 1} ends, estimated from the chain's recent block time
     * @param holders who is paid for what
     * @param unanswered holders asked for a receipt that did not give one (an upload only)
     * @param existing the contract was there before this request (an upload of an object already paid for)
     */
    public record Bought(String object, long bytes, long periods, BigInteger costPerPeriod, BigInteger escrow, long start, long end,
                         Instant paidUntil, List<Held> holders, List<String> unanswered, boolean existing, String pendingTx) {
        public Bought {
            holders = List.copyOf(holders);
            unanswered = List.copyOf(unanswered);
        }

        /** The same purchase, as answered to a later upload of the same object. */
        Bought asExisting() {
            return new Bought(object, bytes, periods, costPerPeriod, escrow, start, end, paidUntil, holders, unanswered, true, pendingTx);
        }

        /** The last paid period. */
        public long paidThrough() {
            return end - 1;
        }

        /** As the API answers it. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("object", object);
            m.put("bytes", bytes);
            if (periods > 0) {
                m.put("periods", periods);
            }
            m.put("costPerPeriod", costPerPeriod.toString());
            m.put("escrow", escrow.toString());
            m.put("start", start);
            m.put("paidThrough", paidThrough());
            m.put("paidUntil", paidUntil == null ? null : paidUntil.toString());
            List<Map<String, Object>> hs = new ArrayList<>();
            for (Held h : holders) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("holder", h.holder());
                e.put("bytes", h.bytes());
                e.put("share", h.share().toString());
                hs.add(e);
            }
            m.put("holders", hs);
            if (!unanswered.isEmpty()) {
                m.put("unanswered", unanswered);
            }
            if (existing) {
                m.put("existing", true);
            }
            if (pendingTx != null) {
                // sent and admitted by the chain's mempool, not yet in a block: start and paidThrough
                // hold if a block of the current period takes it (one later if the next does)
                m.put("pending", true);
                m.put("tx", pendingTx);
            }
            return m;
        }
    }

    /** An early end: the refund (base units back to the account) and the last period still paid. */
    public record Ended(String object, BigInteger refund, long paidThrough) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("object", object);
            m.put("refund", refund.toString());
            m.put("paidThrough", paidThrough);
            return m;
        }
    }

    private final PayerChain chain;
    private final PayerAccount account;
    private final Receipts receipts;
    private final Duration receiptDeadline;
    private final java.util.concurrent.ScheduledExecutorService moves = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-contract-moves");
        t.setDaemon(true);
        return t;
    });
    /** Looks for pending purchases on the chain; apart from {@link #moves}, whose tasks may wait for them. */
    private final java.util.concurrent.ScheduledExecutorService confirms = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-contract-confirms");
        t.setDaemon(true);
        return t;
    });
    private final byte[] ownerKey;
    private final Counter bought;
    private final Counter renewed;
    private final Counter ended;
    private final Counter moved;
    private final Counter escrowPaid;
    private final Counter refunds;
    private final Counter receiptsGathered;
    private final Counter receiptsFailed;
    private final Counter refused;
    private final Counter holdersDropped;
    /** Where an upload's contract purchase spends its time: chain reads, the holders' receipts, the transaction until its block. */
    private final io.micrometer.core.instrument.Timer buyReads;
    private final io.micrometer.core.instrument.Timer buyReceipts;
    private final io.micrometer.core.instrument.Timer buySubmit;
    private final Counter unconfirmed;
    /**
     * Purchases the mempool admitted whose contract is not on the chain yet, by object CID: an
     * upload is answered at admission (about a block, 0.6 s on a devnet, sooner than waiting for
     * it), and what needs the contract on the chain (ending, renewing, moving it) waits for it.
     */
    private final Map<String, Pending> pending = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicReference<BigInteger> lastPrice = new AtomicReference<>(BigInteger.ZERO);

    /**
     * @param ownerKey this node's public key: the owner of the objects it pays for
     * @param receiptDeadline how long an upload waits for the holders' receipts
     */
    public ContractBuyer(PayerChain chain, PayerAccount account, Receipts receipts, byte[] ownerKey, Duration receiptDeadline,
                         MeterRegistry metrics) {
        this.chain = chain;
        this.account = account;
        this.receipts = receipts;
        this.ownerKey = ownerKey.clone();
        this.receiptDeadline = receiptDeadline;
        this.bought = Counter.builder("oe_contracts_bought").description("Storage contracts this node's account bought").register(metrics);
        this.renewed = Counter.builder("oe_contracts_renewed").description("Storage contracts this node's account renewed").register(metrics);
        this.ended = Counter.builder("oe_contracts_ended").description("Storage contracts this node's account ended early").register(metrics);
        this.moved = Counter.builder("oe_contract_moves").description("MoveShares sent after repair placed blocks on new holders").register(metrics);
        this.escrowPaid = Counter.builder("oe_contract_escrow_paid_base_units")
                .description("Base units this node's account moved into contract escrow (buys and renewals)").register(metrics);
        this.refunds = Counter.builder("oe_contract_refunds_base_units")
                .description("Base units returned to this node's account by early ends").register(metrics);
        this.receiptsGathered = Counter.builder("oe_contract_receipts_gathered").description("Holders' receipts gathered for contracts").register(metrics);
        this.receiptsFailed = Counter.builder("oe_contract_receipts_failed")
                .description("Holders asked for a receipt that refused or did not answer in time").register(metrics);
        this.refused = Counter.builder("oe_contract_refusals").description("Contract transactions the chain refused").register(metrics);
        this.holdersDropped = Counter.builder("oe_contract_holders_dropped")
                .description("Receipts left out of a contract sent again: their holders stopped being active storage nodes meanwhile")
                .register(metrics);
        this.unconfirmed = Counter.builder("oe_contracts_unconfirmed")
                .description("Contract purchases the mempool admitted that no block took within " + CONFIRM_TRIES + " s (bought again once)")
                .register(metrics);
        this.buyReads = buyTimer(metrics, "reads");
        this.buyReceipts = buyTimer(metrics, "receipts");
        this.buySubmit = buyTimer(metrics, "submit");
        Gauge.builder("oe_storage_price_seen", lastPrice, p -> p.get().doubleValue())
                .description("The storage price last read from the chain (base units per GiB per period)").register(metrics);
    }

    private static io.micrometer.core.instrument.Timer buyTimer(MeterRegistry metrics, String phase) {
        return io.micrometer.core.instrument.Timer.builder("oe_contract_buy").tag("phase", phase)
                .description("Time an upload's contract purchase spent in each phase: chain reads, holders' receipts, the"
                        + " CreateContract transaction until the chain's mempool admitted it").register(metrics);
    }

    /** The address that pays (this node's account). */
    public String payer() {
        return account.address();
    }

    /** The chain reads this buyer uses. */
    public PayerChain chain() {
        return chain;
    }

    /**
     * The last step of an upload buying its contract for {@code terms}; what it bought goes to
     * {@code out} (for the upload's answer).
     */
    public StoredHook hook(Terms terms, AtomicReference<Bought> out) {
        return (object, manifest, copies) -> out.set(buy(object, manifest, copies, terms));
    }

    /**
     * Buys the contract of a stored object: receipts from its holders, then {@code CreateContract}.
     *
     * @throws ObjectException PAYMENT_REQUIRED when the account cannot pay or the chain refused (its
     *     words); CHAIN_UNAVAILABLE when the chain could not be read or written; PLACEMENT_FAILED when
     *     no holder signed a receipt
     */
    public Bought buy(Cid object, Manifest manifest, List<PeerId> copies, Terms terms) throws ObjectException {
        return buy(object, manifest, copies, terms, true);
    }

    private Bought buy(Cid object, Manifest manifest, List<PeerId> copies, Terms terms, boolean retryIfLost) throws ObjectException {
        long t0 = System.nanoTime();
        String cid = object.toString();
        Pending sent = pending.get(cid);
        if (sent != null) {
            return sent.bought().asExisting(); // the same object uploaded again while its purchase is on its way
        }
        PayerChain.Price price;
        long periodBlocks;
        PayerChain.Pace pace;
        PayerChain.Contract before;
        try {
            price = price();
            periodBlocks = chain.periodBlocks();
            pace = chain.pace();
            before = chain.contract(cid, payer());
        } catch (IOException e) {
            throw unavailable("reading the price and contracts", e);
        }
        if (before != null) {
            if (before.end() > price.period() + 1) {
                return view(before, 0, List.of(), true, periodBlocks, pace);
            }
            throw new ObjectException(ObjectException.Code.PAYMENT_REQUIRED, "this node's contract for " + cid + " ended with period "
                    + (before.end() - 1) + " and the chain still keeps it; it cannot be bought again until the chain drops it"
                    + " (a few periods after its end)");
        }
        long periods = terms.toPeriods(periodBlocks, pace.blockMillis());
        Set<PeerId> holders = holdersOf(manifest, copies);
        Set<String> active = activeAmong(holders);
        long t1 = System.nanoTime();
        buyReads.record(t1 - t0, TimeUnit.NANOSECONDS);
        // Only registered, active storage nodes can be paid (the ledger refuses a receipt of any
        // other): the rest are not asked, and count as holders that gave no receipt.
        Set<PeerId> payable = new LinkedHashSet<>();
        for (PeerId p : holders) {
            if (active.contains(p.toString())) {
                payable.add(p);
            }
        }
        Map<PeerId, Receipt> got = gather(payable, object, new ReceiptBlocks(object, manifest), price.period());
        long t2 = System.nanoTime();
        buyReceipts.record(t2 - t1, TimeUnit.NANOSECONDS);
        if (got.isEmpty()) {
            throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, "none of the " + holders.size() + " holders of " + cid
                    + " could be paid: " + (payable.isEmpty() ? "none is a registered, active storage node on the chain yet"
                    : "none of the " + payable.size() + " registered ones signed a receipt within " + receiptDeadline.toSeconds() + " s")
                    + ", so no contract could be bought");
        }
        long t3 = System.nanoTime();
        Created created = create(object, got, periods, terms, price);
        buySubmit.record(System.nanoTime() - t3, TimeUnit.NANOSECONDS);
        long bytes = created.bytes();
        BigInteger cost = created.cost();
        BigInteger escrow = created.escrow();
        String tx = created.tx();
        List<String> unanswered = new ArrayList<>();
        for (PeerId p : holders) {
            if (!got.containsKey(p)) {
                unanswered.add(p.toString());
            }
        }
        bought.increment();
        escrowPaid.increment(escrow.doubleValue());
        if (!unanswered.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "the contract of {0} covers {1} of its {2} holders; {3} gave no receipt: they are asked"
                    + " again for a while (LATE_TRIES), and failing that drop their blocks after the grace and repair moves them",
                    cid, got.size(), holders.size(), unanswered);
            List<PeerId> late = holders.stream().filter(p -> !got.containsKey(p)).toList();
            moves.schedule(() -> askLate(object, manifest, late, LATE_TRIES), LATE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
        PayerChain.Contract expected = new PayerChain.Contract(cid, payer(), bytes, price.period() + 1, price.period() + 1 + periods, cost,
                escrow, got.values().stream().map(r -> new PayerChain.Holder(r.getHolder(), r.getBytes(), BigInteger.ZERO,
                        java.util.HexFormat.of().formatHex(r.getEntriesRoot().toByteArray()))).toList(),
                List.of(new PayerChain.Term(price.period() + 1, price.period() + 1 + periods, cost)));
        Bought v = view(expected, periods, unanswered, false, periodBlocks, pace);
        Bought answer = new Bought(v.object(), v.bytes(), v.periods(), v.costPerPeriod(), v.escrow(), v.start(), v.end(), v.paidUntil(),
                v.holders(), v.unanswered(), false, tx);
        Pending p = new Pending(answer, new CompletableFuture<>(), () -> {
            if (retryIfLost) {
                buy(object, manifest, copies, terms, false);
            }
        });
        pending.put(cid, p);
        confirms.schedule(() -> confirm(cid, p, CONFIRM_TRIES), CONFIRM_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        return answer;
    }

    /**
     * Times a CreateContract is sent again after the chain refused a holder of its receipts it
     * cannot pay (see {@link #create}).
     */
    static final int HOLDER_RESENDS = 2;

    /** A CreateContract the chain's mempool admitted: the bytes its receipts cover, their cost, and the transaction's hash. */
    private record Created(long bytes, BigInteger cost, BigInteger escrow, String tx) {}

    /**
     * Sends the CreateContract of {@code got}'s receipts, answered at the mempool's admission.
     *
     * <p>The active storage nodes were read before the receipts were gathered; a holder may turn
     * inactive meanwhile (its collateral cut below the minimum for a missed proof) or start
     * leaving, and the ledger then refuses the whole contract ({@code NOT_STORAGE_NODE} or
     * {@code LEAVING}, the codes CreateContract gives only for a receipt's holder). On that
     * refusal the active set is read again, the receipts of holders no longer in it are removed
     * from {@code got}, and the contract is sent again with the rest, at most
     * {@value #HOLDER_RESENDS} times. The removed holders are then holders without a receipt: they
     * are asked again later like any ({@link #askLate}, which asks only active ones).
     *
     * @throws ObjectException PLACEMENT_FAILED when no receipt is left (naming the cause);
     *     PAYMENT_REQUIRED on any other refusal, or when the chain refuses a holder yet lists them all as
     *     active; CHAIN_UNAVAILABLE
     */
    private Created create(Cid object, Map<PeerId, Receipt> got, long periods, Terms terms, PayerChain.Price price) throws ObjectException {
        String cid = object.toString();
        String what = "buying the storage contract of " + cid;
        List<String> dropped = new ArrayList<>();
        for (int resends = 0; ; resends++) {
            long bytes = got.values().stream().mapToLong(Receipt::getBytes).sum();
            BigInteger cost = costPerPeriod(bytes, price.price());
            BigInteger escrow = cost.multiply(BigInteger.valueOf(periods));
            checkBalance(escrow, "storing " + bytes + " bytes of " + cid + " for " + periods + " periods (" + terms + ") at " + price.price()
                    + " base units per GiB per period costs " + cost + " a period, " + escrow + " in all");
            CreateContract.Builder cc = CreateContract.newBuilder().setObject(ByteString.copyFrom(object.toBytes()))
                    .setPeriods(Math.toIntExact(periods));
            got.values().forEach(cc::addReceipts);
            PayerAccount.Refused no;
            try {
                return new Created(bytes, cost, escrow, account.submitAdmitted(TxBody.newBuilder().setCreateContract(cc)));
            } catch (PayerAccount.Refused e) {
                refused.increment();
                no = e;
            } catch (IOException e) {
                throw unavailable(what, e);
            }
            boolean holderRefused = no.is(Ledger.Code.NOT_STORAGE_NODE) || no.is(Ledger.Code.LEAVING);
            if (!holderRefused || resends >= HOLDER_RESENDS) {
                throw new ObjectException(ObjectException.Code.PAYMENT_REQUIRED, what + " failed: " + no.getMessage()
                        + (dropped.isEmpty() ? "" : " (sent again without " + dropped + ", no longer active storage nodes)"));
            }
            Set<String> active;
            try {
                active = chain.activeStorageNodes();
            } catch (IOException e) {
                throw unavailable("reading the storage nodes again after the chain refused a holder of " + cid, e);
            }
            List<PeerId> gone = got.keySet().stream().filter(p -> !active.contains(p.toString())).toList();
            if (gone.isEmpty()) {
                throw new ObjectException(ObjectException.Code.PAYMENT_REQUIRED, what + " failed: " + no.getMessage()
                        + "; yet the chain lists every holder of its receipts as an active storage node");
            }
            gone.forEach(got::remove);
            gone.forEach(p -> dropped.add(p.toString()));
            holdersDropped.increment(gone.size());
            if (got.isEmpty()) {
                throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, "no holder of " + cid + " can be paid: every one that"
                        + " signed a receipt (" + dropped + ") stopped being an active storage node on the chain while the contract was"
                        + " bought (collateral below the minimum after a missed proof, or leaving; the chain said: " + no.getMessage()
                        + "), so no contract could be bought");
            }
            LOG.log(System.Logger.Level.INFO, "the chain refused the contract of {0} for a holder it cannot pay ({1}); sending it again"
                    + " without {2}, no longer active storage nodes", cid, no.getMessage(), gone);
        }
    }

    /** Seconds a purchase the mempool admitted is looked for on the chain, once a second, before it is bought again. */
    static final int CONFIRM_TRIES = 30;
    static final Duration CONFIRM_EVERY = Duration.ofSeconds(1);

    /** A purchase sent but not seen on the chain yet: what the upload was told, done when seen (true) or given up (false). */
    private record Pending(Bought bought, CompletableFuture<Boolean> onChain, Rebuy rebuy) {}

    @FunctionalInterface
    private interface Rebuy {
        void run() throws ObjectException;
    }

    /** Looks for a pending purchase's contract on the chain; buys once more when no block took it in time. */
    private void confirm(String cid, Pending p, int tries) {
        try {
            if (chain.contract(cid, payer()) != null) {
                pending.remove(cid, p);
                p.onChain().complete(true);
                return;
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "looking for the contract of {0} failed: {1}", cid, e.getMessage());
        }
        if (tries > 1) {
            confirms.schedule(() -> confirm(cid, p, tries - 1), CONFIRM_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        unconfirmed.increment();
        pending.remove(cid, p);
        p.onChain().complete(false);
        LOG.log(System.Logger.Level.WARNING, "the contract of {0} (tx {1}) is not on the chain {2} s after the mempool admitted it;"
                + " buying it again", cid, p.bought().pendingTx(), CONFIRM_TRIES);
        try {
            p.rebuy().run();
        } catch (ObjectException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "buying the contract of {0} again failed: {1} (its holders drop the blocks after"
                    + " their grace)", cid, e.getMessage());
        }
    }

    /** Waits (at most the confirmation time and a little) until a pending purchase of {@code cid} is on the chain or given up. */
    private void awaitPending(String cid) {
        Pending p = pending.get(cid);
        if (p == null) {
            return;
        }
        try {
            if (chain.contract(cid, payer()) != null) { // in a block already: no need to wait for the next look
                pending.remove(cid, p);
                p.onChain().complete(true);
                return;
            }
        } catch (IOException | RuntimeException e) {
            // wait for the confirmations' verdict
        }
        try {
            p.onChain().get(CONFIRM_TRIES * CONFIRM_EVERY.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // read what the chain holds now
        }
    }

    /**
     * Extends this node's contract of {@code object} by {@code terms} at the current price.
     *
     * @throws ObjectException NOT_FOUND without a contract; PAYMENT_REQUIRED when the account cannot
     *     pay or the chain refused; CHAIN_UNAVAILABLE
     */
    public Bought renew(Cid object, Terms terms) throws ObjectException {
        String cid = object.toString();
        awaitPending(cid);
        PayerChain.Price price;
        long periodBlocks;
        PayerChain.Pace pace;
        PayerChain.Contract c;
        try {
            price = price();
            periodBlocks = chain.periodBlocks();
            pace = chain.pace();
            c = chain.contract(cid, payer());
        } catch (IOException e) {
            throw unavailable("reading the contract", e);
        }
        if (c == null) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "this node's account " + payer() + " has no contract for " + cid);
        }
        long periods = terms.toPeriods(periodBlocks, pace.blockMillis());
        BigInteger cost = costPerPeriod(c.bytes(), price.price());
        BigInteger escrow = cost.multiply(BigInteger.valueOf(periods));
        checkBalance(escrow, "renewing " + cid + " (" + c.bytes() + " bytes) for " + periods + " periods at " + price.price()
                + " base units per GiB per period costs " + cost + " a period, " + escrow + " in all");
        send(TxBody.newBuilder().setRenewContract(RenewContract.newBuilder().setObject(ByteString.copyFrom(object.toBytes()))
                .setPeriods(Math.toIntExact(periods))), "renewing the storage contract of " + cid);
        renewed.increment();
        escrowPaid.increment(escrow.doubleValue());
        return readBack(cid, periods, List.of(), periodBlocks, pace, c);
    }

    /**
     * Ends this node's contract of {@code object} early: every paid period after the current one
     * is refunded to the account.
     *
     * @return the refund, or null when the account has no contract for it (nothing to end)
     * @throws ObjectException PAYMENT_REQUIRED when the chain refused; CHAIN_UNAVAILABLE
     */
    public Ended end(Cid object) throws ObjectException {
        String cid = object.toString();
        awaitPending(cid);
        PayerChain.Contract c;
        long periodBlocks;
        try {
            c = chain.contract(cid, payer());
            if (c == null) {
                return null;
            }
            periodBlocks = chain.periodBlocks();
            if (c.end() <= price().period() + 1) {
                return new Ended(cid, BigInteger.ZERO, c.end() - 1); // nothing after the current period is paid: no refund to claim
            }
        } catch (IOException e) {
            throw unavailable("reading the contract", e);
        }
        long height = send(TxBody.newBuilder().setEndContract(EndContract.newBuilder().setObject(ByteString.copyFrom(object.toBytes()))),
                "ending the storage contract of " + cid);
        long p = height >= 0 ? height / periodBlocks : c.start() - 1;
        BigInteger refund = BigInteger.ZERO;
        for (PayerChain.Term t : c.terms()) { // the periods after p of every term go back (the ledger's rule)
            long from = Math.max(t.start(), p + 1);
            if (t.end() > from) {
                refund = refund.add(t.cost().multiply(BigInteger.valueOf(t.end() - from)));
            }
        }
        ended.increment();
        refunds.increment(refund.doubleValue());
        return new Ended(cid, refund, Math.min(p, c.end() - 1));
    }

    /** This node's account's contracts, as the chain lists them. */
    public List<Bought> contracts() throws ObjectException {
        try {
            long periodBlocks = chain.periodBlocks();
            PayerChain.Pace pace = chain.pace();
            List<Bought> out = new ArrayList<>();
            for (PayerChain.Contract c : chain.contractsPaid(payer())) {
                out.add(view(c, 0, List.of(), false, periodBlocks, pace));
            }
            return out;
        } catch (IOException e) {
            throw unavailable("listing the contracts", e);
        }
    }

    /** This node's contract of {@code object}, or null. */
    public Bought contract(Cid object) throws ObjectException {
        try {
            PayerChain.Contract c = chain.contract(object.toString(), payer());
            if (c == null) {
                Pending p = pending.get(object.toString());
                return p == null ? null : p.bought(); // admitted, not in a block yet
            }
            return view(c, 0, List.of(), false, chain.periodBlocks(), chain.pace());
        } catch (IOException e) {
            throw unavailable("reading the contract", e);
        }
    }

    /**
     * Repair placed blocks of an object on new holders: when this node pays for the object, the new
     * holders' receipts go on chain ({@code MoveShares}), and the lost holders that no longer hold
     * any of its blocks (they give no receipt) are removed, so the new holders are paid from the
     * next period and the lost ones no longer are. Runs on a thread of its own.
     */
    @Override
    public void placed(Cid object, Manifest manifest, List<PeerId> added, List<PeerId> lost) {
        if (!java.util.Arrays.equals(manifest.getOwner().toByteArray(), ownerKey)) {
            return; // another key's object: its payer's node moves its shares
        }
        moves.execute(() -> {
            try {
                move(object, manifest, added, lost);
            } catch (ObjectException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "moving the contract shares of {0} after repair failed: {1}", object, e.getMessage());
            }
        });
    }

    /** Times a holder that gave no receipt at upload is asked again, {@link #LATE_EVERY} apart (a minute in all). */
    static final int LATE_TRIES = 12;
    static final Duration LATE_EVERY = Duration.ofSeconds(5);

    /**
     * Asks holders that gave no receipt at upload (not registered yet, slow, restarting) again, and
     * adds those that now sign to the contract ({@code MoveShares} with their receipts), before their
     * grace for blocks without a contract runs out; tries {@code tries} times.
     */
    private void askLate(Cid object, Manifest manifest, List<PeerId> late, int tries) {
        List<PeerId> still = late;
        awaitPending(object.toString());
        try {
            PayerChain.Contract c = chain.contract(object.toString(), payer());
            if (c == null || c.end() <= price().period() + 1) {
                return;
            }
            Set<String> active = chain.activeStorageNodes();
            Set<PeerId> ask = new LinkedHashSet<>();
            for (PeerId p : late) {
                if (active.contains(p.toString())) {
                    ask.add(p);
                }
            }
            Map<PeerId, Receipt> got = ask.isEmpty() ? Map.of() : gather(ask, object, new ReceiptBlocks(object, manifest), price().period());
            if (!got.isEmpty()) {
                MoveShares.Builder ms = MoveShares.newBuilder().setObject(ByteString.copyFrom(object.toBytes()));
                got.values().forEach(ms::addReceipts);
                send(TxBody.newBuilder().setMoveShares(ms), "adding late holders to the contract of " + object);
                moved.increment();
                LOG.log(System.Logger.Level.INFO, "contract of {0}: late receipts from {1} added", object, got.keySet());
            }
            still = late.stream().filter(p -> !got.containsKey(p)).toList();
        } catch (IOException | ObjectException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "asking the late holders of {0} failed: {1}", object, e.getMessage());
        }
        if (!still.isEmpty() && tries > 1) {
            List<PeerId> next = still;
            moves.schedule(() -> askLate(object, manifest, next, tries - 1), LATE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The {@code MoveShares} of {@link #placed}, on the calling thread.
     *
     * @return whether a transaction was sent (false: no contract, or nothing to change)
     */
    boolean move(Cid object, Manifest manifest, List<PeerId> added, List<PeerId> lost) throws ObjectException {
        String cid = object.toString();
        awaitPending(cid);
        PayerChain.Contract c;
        PayerChain.Price price;
        try {
            c = chain.contract(cid, payer());
            if (c == null) {
                return false;
            }
            price = price();
        } catch (IOException e) {
            throw unavailable("reading the contract", e);
        }
        if (c.end() <= price.period() + 1) {
            return false; // nothing paid after this period: nothing to move
        }
        Set<String> current = new LinkedHashSet<>();
        c.holders().forEach(h -> current.add(h.holder()));
        Set<PeerId> ask = new LinkedHashSet<>(added);
        for (PeerId p : lost) {
            if (current.contains(p.toString())) {
                ask.add(p);
            }
        }
        try {
            Set<String> active = chain.activeStorageNodes();
            ask.removeIf(p -> !active.contains(p.toString()) && !current.contains(p.toString()));
        } catch (IOException e) {
            throw unavailable("reading the storage nodes", e);
        }
        Map<PeerId, Receipt> got = gather(ask, object, new ReceiptBlocks(object, manifest), price.period());
        MoveShares.Builder ms = MoveShares.newBuilder().setObject(ByteString.copyFrom(object.toBytes()));
        for (PeerId p : lost) {
            if (current.contains(p.toString()) && !got.containsKey(p) && !added.contains(p)) {
                ms.addRemove(p.toString());
            }
        }
        for (Map.Entry<PeerId, Receipt> e : got.entrySet()) {
            PayerChain.Holder now = c.holders().stream().filter(h -> h.holder().equals(e.getKey().toString())).findFirst().orElse(null);
            // another root is news too (blocks changed, same bytes): the chain must challenge the holder under what it now keeps
            if (now == null || now.bytes() != e.getValue().getBytes()
                    || !now.root().equals(java.util.HexFormat.of().formatHex(e.getValue().getEntriesRoot().toByteArray()))) {
                ms.addReceipts(e.getValue());
            }
        }
        if (ms.getRemoveCount() == 0 && ms.getReceiptsCount() == 0) {
            return false;
        }
        if (ms.getRemoveCount() >= current.size() && ms.getReceiptsCount() == 0) {
            return false; // the chain keeps at least one holder; nothing new to put in their place
        }
        send(TxBody.newBuilder().setMoveShares(ms), "moving the contract shares of " + cid);
        moved.increment();
        LOG.log(System.Logger.Level.INFO, "contract of {0}: removed {1}, new receipts from {2}", cid, ms.getRemoveList(),
                ms.getReceiptsList().stream().map(Receipt::getHolder).toList());
        return true;
    }

    /**
     * The chain's active storage nodes, read again every second for up to {@code receiptDeadline}
     * while some of {@code holders} are not among them yet (a node just started registers within
     * seconds: a devnet's first uploads must not leave its holders unpaid for that).
     */
    private Set<String> activeAmong(Set<PeerId> holders) throws ObjectException {
        long until = System.nanoTime() + receiptDeadline.toNanos();
        while (true) {
            Set<String> active;
            try {
                active = chain.activeStorageNodes();
            } catch (IOException e) {
                throw unavailable("reading the storage nodes", e);
            }
            boolean all = holders.stream().allMatch(p -> active.contains(p.toString()));
            if (all || System.nanoTime() - until > 0) {
                return active;
            }
            try {
                Thread.sleep(1_000); // a poll with a deadline: registrations come with blocks
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return active;
            }
        }
    }

    /** The nodes that hold blocks of the object: its shards' holders and its manifest's copies. */
    static Set<PeerId> holdersOf(Manifest m, List<PeerId> copies) {
        Set<PeerId> out = new LinkedHashSet<>(copies);
        for (Segment seg : m.getSegmentsList()) {
            for (Shard sh : seg.getShardsList()) {
                for (ByteString h : sh.getHoldersList()) {
                    out.add(PeerId.fromBytes(h.toByteArray()));
                }
            }
        }
        return out;
    }

    /**
     * Receipts of {@code holders}, asked at once; those that answered well within the deadline
     * with a receipt of the object's own blocks ({@code blocks}).
     */
    private Map<PeerId, Receipt> gather(Set<PeerId> holders, Cid object, ReceiptBlocks blocks, long period) {
        Map<PeerId, CompletableFuture<io.oecloud.node.shard.Receipts.Signed>> asked = new LinkedHashMap<>();
        for (PeerId p : holders) {
            CompletableFuture<io.oecloud.node.shard.Receipts.Signed> f;
            try {
                f = receipts.receipt(p, object, period);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            asked.put(p, f);
        }
        try {
            CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new))
                    .get(receiptDeadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // late or failed ones are left out below
        }
        Map<PeerId, Receipt> got = new LinkedHashMap<>();
        asked.forEach((p, f) -> {
            String why = null;
            if (f.isDone() && !f.isCompletedExceptionally() && !f.isCancelled()) {
                io.oecloud.node.shard.Receipts.Signed s = f.join();
                Receipt r = s == null ? null : s.receipt();
                if (r == null || !r.getHolder().equals(p.toString()) || r.getBytes() <= 0) {
                    why = "a receipt for another holder or of no bytes";
                } else if ((why = blocks.problem(s)) == null) {
                    got.put(p, r);
                    receiptsGathered.increment();
                    return;
                }
            } else {
                f.cancel(true);
                why = f.isDone() ? describe(f) : "no answer in time";
            }
            receiptsFailed.increment();
            LOG.log(System.Logger.Level.DEBUG, "no receipt of {0} from {1}: {2}", object, p, why);
        });
        return got;
    }

    private static String describe(CompletableFuture<?> f) {
        try {
            f.join();
            return "an answer that is no receipt";
        } catch (RuntimeException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return c.getMessage() == null ? c.toString() : c.getMessage();
        }
    }

    /** cost per period = max(1, ceil(bytes · price / 2^30)), the ledger's rule. */
    static BigInteger costPerPeriod(long bytes, BigInteger price) {
        BigInteger[] qr = BigInteger.valueOf(bytes).multiply(price).divideAndRemainder(GIB);
        BigInteger c = qr[0].add(qr[1].signum() > 0 ? BigInteger.ONE : BigInteger.ZERO);
        return c.max(BigInteger.ONE);
    }

    private PayerChain.Price price() throws IOException {
        PayerChain.Price p = chain.price();
        lastPrice.set(p.price());
        return p;
    }

    private void checkBalance(BigInteger escrow, String what) throws ObjectException {
        BigInteger balance;
        try {
            balance = account.balance();
        } catch (IOException e) {
            throw unavailable("reading this node's account", e);
        }
        if (balance.compareTo(escrow) < 0) {
            refused.increment();
            throw new ObjectException(ObjectException.Code.PAYMENT_REQUIRED, "the paying account " + payer() + " holds " + balance
                    + " base units: not enough, " + what + " (plus the transaction fee)");
        }
    }

    /** Sends {@code tx} and waits for its block: the block's height (-1 when the endpoint did not say). */
    private long send(TxBody.Builder tx, String what) throws ObjectException {
        return onChain(() -> account.submit(tx), what);
    }

    /** A transaction of the account's. */
    @FunctionalInterface
    private interface Submission<T> {
        T run() throws IOException;
    }

    /** Runs {@code s}: a refusal is PAYMENT_REQUIRED with the ledger's words, a chain that did not answer CHAIN_UNAVAILABLE. */
    private <T> T onChain(Submission<T> s, String what) throws ObjectException {
        try {
            return s.run();
        } catch (PayerAccount.Refused e) {
            refused.increment();
            throw new ObjectException(ObjectException.Code.PAYMENT_REQUIRED, what + " failed: " + e.getMessage());
        } catch (IOException e) {
            throw unavailable(what, e);
        }
    }

    private static ObjectException unavailable(String what, IOException e) {
        return new ObjectException(ObjectException.Code.CHAIN_UNAVAILABLE, what + " failed, the chain did not answer: " + e.getMessage());
    }

    /** The contract as the chain holds it after a transaction; {@code fallback} (what was sent) when it cannot be read. */
    private Bought readBack(String cid, long periods, List<String> unanswered, long periodBlocks, PayerChain.Pace pace,
                            PayerChain.Contract fallback) {
        PayerChain.Contract c = fallback;
        try {
            PayerChain.Contract now = chain.contract(cid, payer());
            if (now != null) {
                c = now;
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "reading back the contract of {0} failed: {1}", cid, e.getMessage());
        }
        return view(c, periods, unanswered, false, periodBlocks, pace);
    }

    static Bought view(PayerChain.Contract c, long periods, List<String> unanswered, boolean existing, long periodBlocks,
                       PayerChain.Pace pace) {
        Instant until = null;
        if (pace != null) {
            long blocks = c.end() * periodBlocks - pace.height(); // period end-1 ends at block end·P
            until = pace.time().plusMillis(Math.max(0, blocks) * pace.blockMillis());
        }
        List<Held> holders = c.holders().stream().map(h -> new Held(h.holder(), h.bytes(), h.share())).toList();
        return new Bought(c.object(), c.bytes(), periods, c.costPerPeriod(), c.escrow(), c.start(), c.end(), until, holders,
                unanswered, existing, null);
    }

    @Override
    public void close() {
        moves.shutdownNow();
        confirms.shutdownNow();
        chain.close();
    }
}
