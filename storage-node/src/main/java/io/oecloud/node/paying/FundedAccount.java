package io.oecloud.node.paying;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Amounts;
import io.oecloud.chain.pb.ChainProto.Transfer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An account that another one keeps funded: whenever {@code account} holds less than
 * {@code floor}, {@code from} sends it what brings it to twice the floor (one transfer, logged).
 * The S3 namespace's account, funded by its node's: the namespace key pays for the gateway's
 * storage, and the holders admit its blocks only while it can pay, so it must never sit empty.
 *
 * <p>When: at every {@link #balance} (each contract purchase reads it first, so a purchase never
 * fails for a top-up not yet made) and every {@code every} once {@link #start}ed (the holders'
 * admission needs the money before the upload's blocks are placed). A floor of 0 turns top-ups
 * off: the operator funds the account. A top-up that fails is logged and the next check tries
 * again; the account's own balance then decides (the buyer refuses, naming it).
 */
public final class FundedAccount implements PayerAccount, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FundedAccount.class.getName());

    private final PayerAccount account;
    private final PayerAccount from;
    private final BigInteger floor;
    /** Whether a background check ever read the balance (touched by the timer's thread only). */
    private boolean answered;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-account-top-up");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param account the account kept funded
     * @param from the account that pays its top-ups
     * @param floor base units under which it is topped up (0: never)
     */
    public FundedAccount(PayerAccount account, PayerAccount from, BigInteger floor) {
        if (floor.signum() < 0) {
            throw new IllegalArgumentException("the floor of an account must not be negative, was " + floor);
        }
        if (account.address().equals(from.address())) {
            throw new IllegalArgumentException("an account cannot fund itself (" + account.address() + ")");
        }
        this.account = account;
        this.from = from;
        this.floor = floor;
    }

    /** A check that could not read the chain is tried again this soon (at most {@code every}): a node starting before its chain answers. */
    static final Duration RETRY = Duration.ofSeconds(2);

    /**
     * Checks the balance now and then every {@code every}, in the background; a check that fails
     * is tried again after {@link #RETRY}, so the account is funded soon after the chain answers.
     */
    public FundedAccount start(Duration every) {
        if (every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("the interval of balance checks must be positive, was " + every);
        }
        timer.execute(() -> check(every));
        return this;
    }

    private void check(Duration every) {
        Duration next = RETRY.compareTo(every) < 0 ? RETRY : every; // unless the check succeeds
        try {
            topUp();
            answered = true;
            next = every;
        } catch (IOException | RuntimeException e) {
            // quiet while the chain has never answered (a node starting with its chain)
            LOG.log(answered ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                    "could not read the balance of account {0} (tried again in {1}): {2}", account.address(), next, e.getMessage());
        } finally { // a periodic task never dies: whatever the check threw, the next one is scheduled
            try {
                timer.schedule(() -> check(every), next.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // closed: no more checks
            }
        }
    }

    /**
     * Tops the account up when it holds less than the floor.
     *
     * @return its balance afterwards (as read before the top-up when the top-up failed)
     * @throws IOException when its balance could not be read
     */
    public synchronized BigInteger topUp() throws IOException {
        BigInteger balance = account.balance();
        if (balance.compareTo(floor) >= 0) {
            return balance;
        }
        BigInteger amount = floor.shiftLeft(1).subtract(balance);
        try {
            from.submit(TxBody.newBuilder().setTransfer(Transfer.newBuilder().setTo(account.address())
                    .setAmount(ByteString.copyFrom(Amounts.encode(amount)))));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "account {0} holds {1} base units, under its floor of {2}, and topping it up from {3}"
                    + " failed: {4}", account.address(), balance, floor, from.address(), e.getMessage());
            return balance;
        }
        LOG.log(System.Logger.Level.INFO, "moved {0} base units from account {1} to account {2} (it held {3}, under its floor of {4})",
                amount, from.address(), account.address(), balance, floor);
        return account.balance();
    }

    @Override
    public String address() {
        return account.address();
    }

    /** {@inheritDoc} Topped up first when under the floor ({@link #topUp}). */
    @Override
    public BigInteger balance() throws IOException {
        return topUp();
    }

    @Override
    public long submit(TxBody.Builder tx) throws IOException {
        return account.submit(tx);
    }

    @Override
    public String submitAdmitted(TxBody.Builder tx) throws IOException {
        return account.submitAdmitted(tx);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
