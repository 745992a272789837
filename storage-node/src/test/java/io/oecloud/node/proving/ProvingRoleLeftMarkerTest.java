package io.oecloud.node.proving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.oecloud.chain.client.ChainClient;
import io.oecloud.dht.Identity;
import io.oecloud.node.store.ShardStore;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that left the chain's storage nodes stays left across a restart: the role writes its data
 * directory's {@link ProvingRole#LEFT_MARKER} when it first sees the node leaving, and a role that
 * finds the file never registers the node again (the chain forgets a node once its withdrawal is
 * paid, so the chain alone cannot say it left). No chain runs here: the roles are never started.
 */
class ProvingRoleLeftMarkerTest {
    @TempDir
    Path dir;

    private ProvingRole role(ShardStore store) {
        InetSocketAddress nowhere = new InetSocketAddress("127.0.0.1", 1);
        ChainClient client = new ChainClient(new ChainClient.Endpoints(List.of(nowhere), List.of(nowhere)), Identity.generate(), 1_000);
        return new ProvingRole(client, List.of(nowhere), new Prover(store), store, new SimpleMeterRegistry(), null, 1L << 30);
    }

    @Test
    void theMarkerWrittenWhenTheNodeLeaves_makesTheNextProcessKnowItLeft() throws Exception {
        Path marker = dir.resolve(ProvingRole.LEFT_MARKER);
        try (ShardStore store = ShardStore.open(dir.resolve("store"), 1L << 30, false)) {
            ProvingRole first = role(store).leftMarker(marker);
            assertFalse(String.valueOf(first.status().get("state")).startsWith("left"), "a node that never left: " + first.status());
            first.rememberLeft(60);
            assertTrue(Files.readString(marker).contains("block 60"), Files.readString(marker));
            first.close();

            ProvingRole restarted = role(store).leftMarker(marker);
            assertTrue(String.valueOf(restarted.status().get("state")).startsWith("left"),
                    "after a restart the role knows the node left and does not register it: " + restarted.status());
            restarted.close();

            Files.delete(marker); // the operator's way back
            ProvingRole back = role(store).leftMarker(marker);
            assertFalse(String.valueOf(back.status().get("state")).startsWith("left"), back.status().toString());
            back.close();
        }
    }

    @Test
    void standingOfANodeTheChainForgot_isLeft_onlyWithTheMarkersMemory() {
        assertEquals(ProvingRole.Standing.LEFT, ProvingRole.standing(null, true, java.math.BigInteger.ONE));
        assertEquals(ProvingRole.Standing.REGISTER, ProvingRole.standing(null, false, java.math.BigInteger.ONE));
    }
}
