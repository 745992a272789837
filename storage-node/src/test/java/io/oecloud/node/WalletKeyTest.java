package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.ledger.Ledger;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalletKeyTest {
    @TempDir
    Path dir;

    private static byte[] seed(int b) {
        byte[] s = new byte[32];
        java.util.Arrays.fill(s, (byte) b);
        return s;
    }

    @Test
    void anEncryptedKey_opensWithItsPassphrase_onlyAndKeepsNoSeedInTheFile() throws Exception {
        Path f = dir.resolve("me.key");
        WalletKey.write(f, seed(7), "correct horse".toCharArray());
        String text = Files.readString(f);
        assertFalse(text.contains(java.util.HexFormat.of().formatHex(seed(7))), "the seed is not stored in the clear");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        Identity id = WalletKey.open(f, "correct horse"::toCharArray);
        assertArrayEquals(Identity.fromSeed(seed(7)).publicKey(), id.publicKey());
        assertEquals(Ledger.address(id.publicKey()), WalletKey.address(f));
        IOException wrong = assertThrows(IOException.class, () -> WalletKey.open(f, "wrong"::toCharArray));
        assertTrue(wrong.getMessage().contains("wrong passphrase"), wrong.getMessage());
    }

    @Test
    void anExistingKey_isNeverOverwritten_andAMissingOneSaysHowToMakeIt() throws Exception {
        Path f = dir.resolve("me.key");
        WalletKey.write(f, seed(1), null);
        String before = Files.readString(f);
        IOException exists = assertThrows(IOException.class, () -> WalletKey.write(f, seed(2), null));
        assertTrue(exists.getMessage().contains("exists already"), exists.getMessage());
        assertEquals(before, Files.readString(f));
        IOException missing = assertThrows(IOException.class, () -> WalletKey.address(dir.resolve("none.key")));
        assertTrue(missing.getMessage().contains("oe wallet new"), missing.getMessage());
    }

    @Test
    void aKeyFileWhoseSeedDoesNotMatchItsAddress_isRefused() throws Exception {
        Path f = dir.resolve("me.key");
        WalletKey.write(f, seed(3), null);
        Files.writeString(f, Files.readString(f).replace(java.util.HexFormat.of().formatHex(seed(3)), java.util.HexFormat.of().formatHex(seed(4))));
        IOException damaged = assertThrows(IOException.class, () -> WalletKey.open(f, () -> new char[0]));
        assertTrue(damaged.getMessage().contains("damaged"), damaged.getMessage());
    }
}
