package io.oecloud.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.dht.PeerId;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Who the chain lets audit this node: the current window's committee, the previous one's, no one else. */
class CommitteeGateTest {
    private final PeerId a = Identity.generate().peerId();
    private final PeerId b = Identity.generate().peerId();
    private final PeerId stranger = Identity.generate().peerId();
    private final AtomicReference<AuditChain.Window> now = new AtomicReference<>();
    private final AtomicInteger reads = new AtomicInteger();
    private volatile boolean down;

    private final AuditChain chain = new AuditChain() {
        @Override
        public Window window() throws IOException {
            reads.incrementAndGet();
            if (down) {
                throw new IOException("no RPC");
            }
            return now.get();
        }

        @Override
        public void submit(TxBody.Builder tx) {
            throw new AssertionError("the gate only reads the chain, it never submits");
        }
    };

    private static AuditChain.Window window(long first, PeerId... committee) {
        return new AuditChain.Window(first, 1, 0, first, first + 4, first + 9, java.util.Arrays.stream(committee).map(PeerId::toString).toList(),
                4, 2000, List.of());
    }

    @Test
    void currentAndPreviousCommitteesOnly() throws Exception {
        io.oecloud.testkit.ManualClock clock = new io.oecloud.testkit.ManualClock();
        CommitteeGate gate = new CommitteeGate(chain, Duration.ofMillis(50), clock);
        down = true;
        assertEquals(-1, gate.admit(a), "a chain never read admits no one");
        down = false;
        now.set(window(20, a));
        assertEquals(20, gate.admit(a));
        assertEquals(-1, gate.admit(b));
        assertEquals(-1, gate.admit(stranger));
        clock.advance(Duration.ofMillis(120)); // older than fresh (50 ms) and than the miss re-read (100 ms)
        now.set(window(25, b));
        assertEquals(25, gate.admit(b), "a miss re-reads a stale answer: the asker saw the next window first");
        assertEquals(20, gate.admit(a), "the previous window's member still may (the views straddle a boundary)");
        int before = reads.get();
        for (int i = 0; i < 1000; i++) {
            assertEquals(-1, gate.admit(stranger));
        }
        org.junit.jupiter.api.Assertions.assertTrue(reads.get() - before <= 2, "strangers do not make the node read the chain each time: "
                + (reads.get() - before) + " reads");
        clock.advance(Duration.ofMillis(40)); // fresh enough for the members, past nothing
        before = reads.get();
        for (int i = 0; i < 1000; i++) {
            gate.admit(stranger);
        }
        assertEquals(0, reads.get() - before, "within 100 ms of a read, a stranger costs no read at all");
        clock.advance(Duration.ofMillis(120));
        before = reads.get();
        for (int i = 0; i < 1000; i++) {
            gate.admit(stranger);
        }
        assertEquals(1, reads.get() - before, "past the answer's age, a thousand strangers cost one read");
        down = true;
        clock.advance(Duration.ofMillis(120)); // older than fresh (50 ms) and than the miss re-read (100 ms)
        assertEquals(25, gate.admit(b), "a chain that cannot be read now keeps the last answer");
    }
}
