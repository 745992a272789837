package io.oecloud.node.audit;

import io.oecloud.dht.PeerId;
import java.io.IOException;
import java.time.Duration;

/**
 * {@link AuditServer.Gate} from the chain: admits a peer on the audit committee of the current
 * window, or of the window before it (the asker's view of the chain may be a block ahead of ours
 * or behind it at a boundary). The chain's answer is kept for {@code fresh} (1 s in the node), so
 * a burst of requests costs one query; an asker not found makes it read again when the answer is
 * older than 100 ms (the asker may have seen the next window first), so strangers cost at most ten
 * reads a second. A chain that was never read admits no one; one that cannot be read now keeps
 * the last answer.
 */
public final class CommitteeGate implements AuditServer.Gate {
    private static final System.Logger LOG = System.getLogger(CommitteeGate.class.getName());

    private final AuditChain chain;
    private final java.time.InstantSource clock;
    private final long freshNanos;
    private AuditChain.Window current;
    private AuditChain.Window previous;
    private long readAt;

    public CommitteeGate(AuditChain chain, Duration fresh) {
        this(chain, fresh, java.time.InstantSource.system());
    }

    /** With {@code clock} for the answers' age (tests pass a manual one). */
    public CommitteeGate(AuditChain chain, Duration fresh, java.time.InstantSource clock) {
        this.chain = chain;
        this.clock = clock;
        this.freshNanos = fresh.toNanos();
    }

    /** A miss re-reads the chain when the last read is older than this: the asker may have seen the next window first. */
    private static final long MISS_REREAD_NANOS = 100_000_000L;

    @Override
    public synchronized long admit(PeerId asker) {
        java.time.Instant t = clock.instant();
        long now = t.getEpochSecond() * 1_000_000_000L + t.getNano();
        if (current == null || now - readAt > freshNanos) {
            read(now);
        }
        long w = lookup(asker.toString());
        if (w < 0 && current != null && now - readAt > MISS_REREAD_NANOS) {
            read(now); // at most ten reads a second however many strangers ask
            w = lookup(asker.toString());
        }
        return w;
    }

    private void read(long now) {
        try {
            AuditChain.Window w = chain.window();
            if (current != null && w.firstBlock() != current.firstBlock()) {
                previous = current;
            }
            current = w;
            readAt = now;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot read the audit committee: {0}", e.getMessage());
        }
    }

    private long lookup(String a) {
        if (current == null) {
            return -1;
        }
        if (current.committee().contains(a)) {
            return current.firstBlock();
        }
        if (previous != null && previous.committee().contains(a)) {
            return previous.firstBlock();
        }
        return -1;
    }
}
