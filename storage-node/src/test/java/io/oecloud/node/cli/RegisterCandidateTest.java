package io.oecloud.node.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.beacon.Bls;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.chain.pb.ChainProto.RegisterCandidate;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** oe chain register-candidate registers the super-node's beacon key with a proof of possession for the sender's candidacy. */
class RegisterCandidateTest {
    @TempDir
    Path dir;

    private RegisterCandidate body(Identity sender, String... extra) throws Exception {
        Path key = Files.writeString(dir.resolve("priv_validator_key.json"),
                "{\"pub_key\": {\"type\": \"tendermint/PubKeyEd25519\", \"value\": \"" + java.util.Base64.getEncoder()
                        .encodeToString(Identity.generate().publicKey()) + "\"}}");
        ChainCommands.RegisterCandidateCmd c = new ChainCommands.RegisterCandidateCmd();
        String[] args = new String[2 + extra.length];
        args[0] = "--validator-key";
        args[1] = key.toString();
        System.arraycopy(extra, 0, args, 2, extra.length);
        new CommandLine(c).parseArgs(args);
        return c.body(sender).getRegisterCandidate();
    }

    @Test
    void withoutNodeDir_theSendersOwnBeaconKeyIsRegistered_withAProofForItsAddress() throws Exception {
        Identity sender = Identity.generate();
        RegisterCandidate r = body(sender);
        Bls.SecretKey expected = Bls.SecretKey.fromIdentity(sender);
        assertArrayEquals(expected.publicKey(), r.getBeaconKey().toByteArray());
        assertTrue(Bls.verifyPop(r.getBeaconKey().toByteArray(), Ledger.address(sender.publicKey()), r.getBeaconPop().toByteArray()));
        assertFalse(Bls.verifyPop(r.getBeaconKey().toByteArray(), Ledger.address(Identity.generate().publicKey()),
                r.getBeaconPop().toByteArray()), "the proof names this candidacy only");
    }

    @Test
    void withNodeDir_theNodesBeaconKeyIsRegistered_forTheSendersCandidacy() throws Exception {
        Path node = dir.resolve("node");
        Identity nodeId = Identity.loadOrCreate(node);
        Identity wallet = Identity.generate();
        RegisterCandidate r = body(wallet, "--node-dir", node.toString());
        assertArrayEquals(Bls.SecretKey.fromIdentity(nodeId).publicKey(), r.getBeaconKey().toByteArray());
        assertTrue(Bls.verifyPop(r.getBeaconKey().toByteArray(), Ledger.address(wallet.publicKey()), r.getBeaconPop().toByteArray()));
    }

    @Test
    void aNodeDirWithoutIdentity_isRefusedNamingIt() {
        IOException e = assertThrows(IOException.class, () -> body(Identity.generate(), "--node-dir", dir.resolve("empty").toString()));
        assertEquals("--node-dir " + dir.resolve("empty") + " holds no node identity (" + Identity.KEY_FILE + ")", e.getMessage());
    }
}
