package io.oecloud.node.audit;

import io.oecloud.dht.PeerId;
import java.io.IOException;
import java.time.Duration;

/**
 * {@link AuditServer.Gate} from the chain: admits a peer on the audit committee of the current
 * window, or of the window before it (the asker's view of the chain may be a block ahead of ours
 * or behind it at a boundary). The chain's answer is kept for {@code fresh} (1 s in the node), so
 * a burst of requests costs one query; a chain that cannot be read admits no one.
 */
public final class CommitteeGate implements AuditServer.Gate {
    private static final System.Logger LOG = System.getLogger(CommitteeGate.class.getName());

    private final AuditChain chain;
    private final long freshNanos;
    private AuditChain.Window current;
    private AuditChain.Window previous;
    private long readAt;

    public CommitteeGate(AuditChain chain, Duration fresh) {
        this.chain = chain;
        this.freshNanos = fresh.toNanos();
    }

    @Override
    public synchronized long admit(PeerId asker) {
        long now = System.nanoTime();
        if (current == null || now - readAt > freshNanos) {
            try {
                AuditChain.Window w = chain.window();
                if (current != null && w.firstBlock() != current.firstBlock()) {
                    previous = current;
                }
                current = w;
                readAt = now;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "cannot read the audit committee: {0}", e.getMessage());
                if (current == null) {
                    return -1;
                }
            }
        }
        String a = asker.toString();
        if (current.committee().contains(a)) {
            return current.firstBlock();
        }
        if (previous != null && previous.committee().contains(a)) {
            return previous.firstBlock();
        }
        return -1;
    }
}
