package io.oecloud.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.TxBody;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The auditor's rounds against a model of the ledger's rule (one verdict per auditor, target and
 * period, refused with VERDICT_EXISTS otherwise). The targets are unreachable, so every verdict is
 * TIMEOUT and no network is needed.
 */
class AuditorRoleTest {
    private static final String SELF = peer(1);
    private static final String A = peer(2);
    private static final String B = peer(3);

    private static String peer(int i) {
        byte[] seed = new byte[32];
        seed[0] = (byte) i;
        return io.oecloud.dht.Identity.fromSeed(seed).peerId().toString();
    }

    /** Windows set by the test; verdicts kept by (target, period) as the ledger keeps them. */
    private static final class ModelChain implements AuditChain {
        AuditChain.Window window;
        final Set<String> recorded = new HashSet<>();
        final List<String> refusals = new ArrayList<>();
        int submits;
        boolean timeOutAfterCommit; // the next submit commits but its answer is lost

        @Override
        public Window window() {
            return window;
        }

        @Override
        public void submit(TxBody.Builder tx) throws IOException {
            submits++;
            ChainProto.AuditVerdicts v = tx.getAuditVerdicts();
            for (ChainProto.AuditVerdict x : v.getVerdictsList()) {
                if (recorded.contains(x.getTarget() + "@" + v.getPeriod())) {
                    String why = SELF + " recorded its verdict on " + x.getTarget() + " for period " + v.getPeriod() + " already";
                    refusals.add(why);
                    throw new ChainClient.Refused(422, Ledger.Code.VERDICT_EXISTS.value(), why);
                }
            }
            v.getVerdictsList().forEach(x -> recorded.add(x.getTarget() + "@" + v.getPeriod()));
            if (timeOutAfterCommit) {
                timeOutAfterCommit = false;
                throw new ChainClient.Refused(504, -1, "not committed in time");
            }
        }
    }

    private static AuditChain.Window window(long period, int w, List<String> targets) {
        long first = period * 100 + w * 10;
        return new AuditChain.Window(first, period, w, first, first + 9, first + 9, List.of(SELF), 1, 1000,
                targets.stream().map(t -> new AuditChain.Target(t, new byte[32], 4)).toList());
    }

    private static AuditorRole role(ModelChain chain) {
        return new AuditorRole(chain, null, SELF, p -> CompletableFuture.failedFuture(new IOException("unreachable")), new SimpleMeterRegistry());
    }

    @Test
    void aTargetJudgedInOneWindow_isNotJudgedAgainInTheSamePeriod_butIsInTheNext() throws Exception {
        ModelChain chain = new ModelChain();
        AuditorRole role = role(chain);
        List<String> targets = List.of(A, B);
        for (int w = 0; w < 4; w++) { // one target a window: A and B in the first two, nothing left after
            chain.window = window(7, w, targets);
            role.tick();
        }
        assertEquals(Set.of(A + "@7", B + "@7"), chain.recorded);
        assertEquals(2, chain.submits, "no verdict sent for a target judged this period already");
        assertEquals(List.of(), chain.refusals);
        chain.window = window(8, 0, targets);
        role.tick();
        assertEquals(3, chain.recorded.size(), "a new period judges again: " + chain.recorded);
        assertEquals(0L, role.status().get("errors"));
    }

    @Test
    void verdictsCommittedAfterTheirAnswerTimedOut_countAsRecorded_notRetriedUntilDropped() throws Exception {
        ModelChain chain = new ModelChain();
        AuditorRole role = role(chain);
        chain.timeOutAfterCommit = true;
        chain.window = window(3, 0, List.of(A));
        role.tick(); // committed, but the answer was lost: still pending
        assertEquals(1L, role.status().get("errors"));
        role.tick(); // sent again: the ledger has it already
        assertEquals(2, chain.submits);
        assertEquals(1L, role.status().get("windowsAudited"), "recorded once: " + role.status());
        assertEquals(1L, role.status().get("sentTimeout"));
        role.tick();
        assertEquals(2, chain.submits, "nothing pending any more");
        assertTrue(chain.recorded.contains(A + "@3"));
    }
}
