package io.oecloud.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.ledger.Names;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code oe chain name-register|name-update|name-transfer|name}: the transactions they sign, and
 * bad names, CIDs and addresses refused with the reason before a key is opened or a node asked.
 */
class NameCommandsTest {
    private static final Cid ROOT = Cid.raw("<html/>".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    private static <T> T parse(T command, String... args) {
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void theTransactions_carryTheNameAndTheRootOrReceiver() {
        TxBody reg = parse(new ChainCommands.NameRegisterCmd(), "my-site", ROOT.toString()).body().build();
        assertEquals(TxBody.KindCase.REGISTER_NAME, reg.getKindCase());
        assertEquals("my-site", reg.getRegisterName().getName());
        assertEquals(ROOT, Cid.fromBytes(reg.getRegisterName().getRoot().toByteArray()));
        TxBody upd = parse(new ChainCommands.NameUpdateCmd(), "my-site", ROOT.toString()).body().build();
        assertEquals(TxBody.KindCase.UPDATE_NAME, upd.getKindCase());
        assertEquals(ROOT, Cid.fromBytes(upd.getUpdateName().getRoot().toByteArray()));
        String bob = io.oecloud.chain.ledger.Ledger.address(Identity.generate().publicKey());
        TxBody tr = parse(new ChainCommands.NameTransferCmd(), "my-site", bob).body().build();
        assertEquals(TxBody.KindCase.TRANSFER_NAME, tr.getKindCase());
        assertEquals(bob, tr.getTransferName().getTo());
    }

    @Test
    void badArguments_areRefusedWithTheReason_beforeAnyKeyOrNode() {
        String noKey = dir.resolve("missing.key").toString();
        CidCommandTest.Result r = CidCommandTest.oe("chain", "name-register", "My.Site", ROOT.toString(), "--key", noKey, "--api", "127.0.0.1:1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains(Names.problem("My.Site")), r.err());
        r = CidCommandTest.oe("chain", "name-update", "my-site", "not-a-cid", "--key", noKey, "--api", "127.0.0.1:1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("not-a-cid") || r.err().toLowerCase().contains("cid"), r.err());
        r = CidCommandTest.oe("chain", "name-transfer", "my-site", "nobody", "--key", noKey, "--api", "127.0.0.1:1");
        assertEquals(1, r.code());
        assertTrue(!r.err().contains("missing.key"), "the address is checked before the key is opened: " + r.err());
        r = CidCommandTest.oe("chain", "name", "ab", "--api", "127.0.0.1:1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains(Names.problem("ab")), r.err());
    }
}
