package io.oecloud.node.proving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.dht.Identity;
import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.NodeEntry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A block a contract pays for that the store lost before the node committed its root goes into
 * the root all the same and is queued for {@code DeclareFaults} once the root is on the chain,
 * once per period: the chain sees the loss (a fault, the payer's repair) instead of paying for a
 * block that quietly left the root. No chain runs here: the role is never started.
 */
class ProvingRoleLostBlocksTest {
    @TempDir
    Path dir;

    @Test
    void aLostBlockContractsPayFor_isQueuedForDeclaration_onceItsRootIsOnTheChain_andOnce() throws Exception {
        Random rnd = new Random(25);
        byte[] owner = new byte[32];
        try (ShardStore store = ShardStore.open(dir, 1L << 30, false)) {
            byte[] kept = new byte[5_000];
            rnd.nextBytes(kept);
            Cid keptCid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, kept);
            store.put(keptCid, kept, owner);
            byte[] gone = new byte[7_000];
            rnd.nextBytes(gone);
            Cid lost = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, gone); // received, receipted, then lost: never in the store here
            List<NodeEntry> owed = List.of(new NodeEntry(keptCid, kept.length), new NodeEntry(lost, gone.length));
            Prover prover = new Prover(store, c -> true, period -> owed);
            InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 1);
            ChainClient client = new ChainClient(new ChainClient.Endpoints(List.of(nowhere), List.of(nowhere)), Identity.generate(), 1_000);
            try (ProvingRole role = new ProvingRole(client, List.of(nowhere), prover, store, new SimpleMeterRegistry(), null, 1L << 30)) {
                assertEquals(2, prover.commit(4).count(), "the lost block is committed with the one held");
                role.queueAbsent(Set.of(3L));
                assertTrue(role.toDeclare().isEmpty(), "period 4's root is not on the chain yet: " + role.toDeclare());
                role.queueAbsent(Set.of(3L, 4L));
                assertEquals(Map.of(4L, Set.of(lost)), role.toDeclare());
                role.toDeclare().clear(); // declared (the tick sends and forgets them)
                role.queueAbsent(Set.of(3L, 4L));
                assertTrue(role.toDeclare().isEmpty(), "once a period: " + role.toDeclare());
            }
        }
    }

    @Test
    void aPeriodWhoseCheckFailed_isCheckedAgain_notMarkedDone() throws Exception {
        byte[] owner = new byte[32];
        byte[] data = new byte[3_000];
        new Random(26).nextBytes(data);
        Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, data);
        ShardStore store = ShardStore.open(dir, 1L << 30, false);
        store.put(cid, data, owner);
        Prover prover = new Prover(store, c -> true, period -> List.of(new NodeEntry(cid, data.length)));
        InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 1);
        ChainClient client = new ChainClient(new ChainClient.Endpoints(List.of(nowhere), List.of(nowhere)), Identity.generate(), 1_000);
        try (ProvingRole role = new ProvingRole(client, List.of(nowhere), prover, store, new SimpleMeterRegistry(), null, 1L << 30)) {
            prover.commit(4);
            store.close(); // every read now fails
            assertThrows(ProvingException.class, () -> role.queueAbsent(Set.of(4L)));
            assertThrows(ProvingException.class, () -> role.queueAbsent(Set.of(4L)),
                    "the failed period is not marked checked: the next tick reads the store again");
        }
    }
}
