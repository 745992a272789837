package io.oecloud.node.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.node.store.StoredShard;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * No free storage: a PUT pinned by an owner the operator does not trust is admitted only
 * provisionally, and only while the owner's chain account can pay for what it has pending here:
 * balance ≥ ceil((provisional bytes of the owner here + this block) × price / 2^30) × minimum
 * periods ({@link PaidConfig#minPeriods}), the price per GiB-period from {@code /price}, the
 * balance from {@code /account}. Provisional bytes are capped per owner and in total
 * ({@link PaidConfig#perOwner}, {@link PaidConfig#total}); each admitted block is recorded with
 * its admission time ({@link ShardStore#recordProvisional}) and {@link Coverage} drops it after the
 * grace unless a contract covers it by then.
 *
 * <p>Reads are cached ({@link #PRICE_FRESH}, {@link #BALANCE_FRESH}) and done on the I/O thread
 * that stores the block, never on the event loop. A read that fails falls back to the last answer
 * while it is at most {@link #STALE_LIMIT} old; with none, the PUT is refused (a node that cannot
 * tell whether it will be paid takes nothing from strangers). A block the owner already pins here
 * adds nothing; keys the operator trusts ({@code Quotas.trusts}: the node's own, {@code trust-owner})
 * are admitted as before paid storage.
 *
 * <p>Thread-safe.
 */
public final class PaidAdmission implements ShardServer.Admission {
    private static final System.Logger LOG = System.getLogger(PaidAdmission.class.getName());
    /** How long a read price is used without asking again. */
    public static final Duration PRICE_FRESH = Duration.ofSeconds(30);
    /** How long a read balance is used without asking again. */
    public static final Duration BALANCE_FRESH = Duration.ofSeconds(5);
    /** How old a read may be and still answer when the chain does not. */
    public static final Duration STALE_LIMIT = Duration.ofMinutes(10);
    /** Balances remembered at once (the least recently read go first). */
    static final int MAX_BALANCES = 100_000;

    private record Read<T>(T value, long atMillis) {}

    private final ShardStore store;
    private final ChainSource chain;
    private final PaidConfig config;
    private final InstantSource clock;
    private volatile Read<BigInteger> price;
    private final Map<ByteBuffer, Read<BigInteger>> balances = new ConcurrentHashMap<>();
    /** Provisional bytes per owner: recorded ones and those being stored now (guarded by this). */
    private final Map<ByteBuffer, Long> pending = new HashMap<>();
    /** All of {@link #pending} together (guarded by this). */
    private long pendingTotal;

    public PaidAdmission(ShardStore store, ChainSource chain, PaidConfig config, InstantSource clock) throws StoreException {
        this.store = store;
        this.chain = chain;
        this.config = config;
        this.clock = clock;
        recount();
    }

    @Override
    public String admit(Cid cid, byte[] owner, long size) {
        if (store.quotas().trusts(owner)) {
            return null;
        }
        try {
            StoredShard s = store.metadata(cid);
            if (s != null && s.isPinnedBy(owner)) {
                return ""; // one more pin of a block it already has here: nothing more to pay for (nothing reserved)
            }
        } catch (StoreException e) {
            return "this node cannot read its store (" + e.code() + ")";
        }
        String payer = Ledger.address(owner);
        BigInteger perGib;
        BigInteger balance;
        try {
            perGib = price();
            balance = balance(owner, payer);
        } catch (IOException e) {
            return "this node cannot read " + payer + "'s account or the price from the chain now (" + e.getMessage()
                    + "); it takes no unpaid storage";
        }
        if (balance == null) {
            return "account " + payer + " does not exist on the chain: storage here is paid for (PAYMENT_REQUIRED)";
        }
        synchronized (this) {
            ByteBuffer k = ByteBuffer.wrap(owner.clone());
            long mine = pending.getOrDefault(k, 0L);
            if (mine + size > config.perOwner()) {
                return "owner " + payer + " has " + mine + " bytes here awaiting a contract, at most " + config.perOwner()
                        + " may (this block: " + size + ")";
            }
            if (pendingTotal + size > config.total()) {
                return "this node holds " + pendingTotal + " bytes awaiting contracts, at most " + config.total()
                        + " may; try again once contracts cover them";
            }
            BigInteger bytes = BigInteger.valueOf(mine + size);
            BigInteger perPeriod = ceilDiv(bytes.multiply(perGib), BigInteger.ONE.shiftLeft(30)).max(BigInteger.ONE);
            BigInteger needed = perPeriod.multiply(BigInteger.valueOf(config.minPeriods()));
            if (balance.compareTo(needed) < 0) {
                return "account " + payer + " has " + balance + " base units; " + bytes + " bytes here for "
                        + config.minPeriods() + " period(s) at " + perGib + " per GiB-period need " + needed;
            }
            pending.merge(k, size, Long::sum);
            pendingTotal += size;
            return null;
        }
    }

    @Override
    public void settled(Cid cid, byte[] owner, long size, boolean stored) {
        if (store.quotas().trusts(owner)) {
            return;
        }
        boolean keep = false;
        if (stored) {
            try {
                // false when one was recorded before: it keeps its time (pinning again does not restart
                // the grace) and its bytes are counted already
                keep = store.recordProvisional(new ShardStore.Provisional(cid, owner, size, clock.millis()));
            } catch (StoreException e) {
                LOG.log(System.Logger.Level.WARNING, "recording the provisional admission of {0} failed: {1}"
                        + " (the coverage pass records it when it finds the pin)", cid, e.getMessage());
            }
        }
        if (!keep) {
            synchronized (this) {
                ByteBuffer k = ByteBuffer.wrap(owner.clone());
                long now = pending.merge(k, -size, Long::sum);
                if (now <= 0) {
                    pending.remove(k);
                }
                pendingTotal -= size;
            }
        }
    }

    /**
     * {@inheritDoc} Here: from fresh answers cached ({@link #BALANCE_FRESH}, {@link #PRICE_FRESH}), the owner's
     * account is known to be absent, or its balance cannot pay one period of this block alone. A
     * fuller refusal (what it has pending, the caps) waits for {@link #admit}: a block it already
     * pins here costs nothing more, which only the store can say.
     */
    @Override
    public String refuseEarly(byte[] owner, long size) {
        if (store.quotas().trusts(owner)) {
            return null;
        }
        long now = clock.millis();
        Read<BigInteger> b = balances.get(ByteBuffer.wrap(owner));
        Read<BigInteger> p = price;
        if (b == null || now - b.atMillis() >= BALANCE_FRESH.toMillis()) {
            return null; // only a fresh answer refuses early: an account funded since is read again by admit
        }
        String payer = Ledger.address(owner);
        if (b.value() == null) {
            return "account " + payer + " does not exist on the chain: storage here is paid for (PAYMENT_REQUIRED)";
        }
        if (p == null || now - p.atMillis() >= PRICE_FRESH.toMillis()) {
            return null;
        }
        BigInteger perPeriod = ceilDiv(BigInteger.valueOf(Math.max(0, size)).multiply(p.value()), BigInteger.ONE.shiftLeft(30))
                .max(BigInteger.ONE);
        BigInteger needed = perPeriod.multiply(BigInteger.valueOf(config.minPeriods()));
        if (b.value().compareTo(needed) < 0) {
            return "account " + payer + " has " + b.value() + " base units; " + size + " bytes for " + config.minPeriods()
                    + " period(s) at " + p.value() + " per GiB-period need " + needed;
        }
        return null;
    }

    /** Counts the provisional bytes again from the store's records (the coverage pass calls it after it changed them). */
    public synchronized void recount() throws StoreException {
        recountLocked();
    }

    private void recountLocked() throws StoreException {
        List<ShardStore.Provisional> all = store.provisionals();
        pending.clear();
        pendingTotal = 0;
        for (ShardStore.Provisional p : all) {
            pending.merge(ByteBuffer.wrap(p.owner()), p.size(), Long::sum);
            pendingTotal += p.size();
        }
    }

    /** Provisional bytes of all owners together. */
    public synchronized long provisionalBytes() {
        return pendingTotal;
    }

    /** Provisional bytes of {@code owner}. */
    public synchronized long provisionalBytes(byte[] owner) {
        return pending.getOrDefault(ByteBuffer.wrap(owner), 0L);
    }

    private BigInteger price() throws IOException {
        long now = clock.millis();
        Read<BigInteger> p = price;
        if (p != null && now - p.atMillis() < PRICE_FRESH.toMillis()) {
            return p.value();
        }
        try {
            JsonNode a = chain.query("/price", "");
            if (a == null || !a.path("price").isTextual()) {
                throw new IOException("the chain's /price answer has no price");
            }
            BigInteger v = parseAmount(a.path("price").asText(), "/price");
            price = new Read<>(v, now);
            return v;
        } catch (IOException e) {
            if (p != null && now - p.atMillis() < STALE_LIMIT.toMillis()) {
                return p.value();
            }
            throw e;
        }
    }

    /** The owner's balance, or null when it has no account. */
    private BigInteger balance(byte[] owner, String address) throws IOException {
        long now = clock.millis();
        ByteBuffer k = ByteBuffer.wrap(owner.clone());
        Read<BigInteger> b = balances.get(k);
        if (b != null && now - b.atMillis() < BALANCE_FRESH.toMillis()) {
            return b.value();
        }
        try {
            JsonNode a = chain.query("/account", address);
            BigInteger v = a == null || a.isNull() ? null : parseAmount(a.path("balance").asText(""), "/account");
            if (balances.size() >= MAX_BALANCES) {
                balances.clear(); // a burst of strangers: start over rather than grow
            }
            balances.put(k, new Read<>(v, now));
            return v;
        } catch (IOException e) {
            if (b != null && now - b.atMillis() < STALE_LIMIT.toMillis()) {
                return b.value();
            }
            throw e;
        }
    }

    static BigInteger parseAmount(String s, String what) throws IOException {
        if (s.isEmpty() || s.length() > 40 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IOException("the chain's " + what + " answer has '" + (s.length() > 40 ? s.substring(0, 40) + "…" : s)
                    + "', not an amount in base units");
        }
        return new BigInteger(s);
    }

    private static BigInteger ceilDiv(BigInteger a, BigInteger b) {
        BigInteger[] qr = a.divideAndRemainder(b);
        return qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
    }
}
