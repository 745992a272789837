package io.oecloud.node.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.node.WalletKey;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code oe chain storage-unregister} signs UnregisterStorageNode with the node's identity
 * ({@code --node-dir}) or a wallet key, and {@code oe chain storage-nodes} shows a leaving node's
 * withdrawal.
 */
class StorageUnregisterTest {
    @TempDir
    Path dir;

    private ChainCommands.StorageUnregisterCmd parse(String... args) {
        ChainCommands.StorageUnregisterCmd c = new ChainCommands.StorageUnregisterCmd();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void withNodeDir_theNodesIdentitySigns() throws Exception {
        Path node = dir.resolve("node");
        Identity id = Identity.loadOrCreate(node);
        assertArrayEquals(id.publicKey(), parse("--node-dir", node.toString()).signer().publicKey());
    }

    @Test
    void withoutNodeDir_theWalletKeySigns() throws Exception {
        Path key = dir.resolve("w.key");
        byte[] seed = new byte[32];
        seed[0] = 7;
        WalletKey.write(key, seed, null);
        assertArrayEquals(Identity.fromSeed(seed).publicKey(), parse("--key", key.toString()).signer().publicKey());
    }

    @Test
    void aNodeDirWithoutIdentity_isRefusedNamingIt() {
        IOException e = assertThrows(IOException.class, () -> parse("--node-dir", dir.resolve("empty").toString()).signer());
        assertEquals("--node-dir " + dir.resolve("empty") + " holds no node identity (" + Identity.KEY_FILE + ")", e.getMessage());
    }

    @Test
    void theTransaction_isUnregisterStorageNode() {
        TxBody b = ChainCommands.StorageUnregisterCmd.body().build();
        assertEquals(TxBody.KindCase.UNREGISTER_STORAGE_NODE, b.getKindCase());
    }

    @Test
    void storageNodesLine_showsTheWithdrawal_ofALeavingNode() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String leaving = ChainCommands.ChainStorageNodes.leaving(json.readTree(
                "{\"leaving\": true, \"withdrawAt\": 34560, \"withdrawing\": \"90000000000000000000\"}"));
        assertEquals("  withdrawing 90 at block 34560", leaving);
        assertTrue(ChainCommands.ChainStorageNodes.leaving(json.readTree("{\"leaving\": false, \"withdrawAt\": null}")).isEmpty());
    }
}
