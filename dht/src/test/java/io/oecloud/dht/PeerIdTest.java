package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.wire.Base32;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerIdTest {
    /** The js-libp2p interop peer's documented vector: seed 0x01 x 32. */
    static final byte[] SEED = filled((byte) 1);
    static final String PEER = "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5";

    static byte[] filled(byte b) {
        byte[] s = new byte[32];
        Arrays.fill(s, b);
        return s;
    }

    @Test
    void ed25519Seed_givesTheSamePeerIdAsJsLibp2p() {
        Identity id = Identity.fromSeed(SEED);
        assertEquals(PEER, id.peerId().toString());
        assertEquals("080112208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
                HexFormat.of().formatHex(id.publicKeyProto()));
        assertArrayEquals(id.publicKey(), PeerId.parse(PEER).ed25519PublicKey());
    }

    @Test
    void parse_base58AndCidForms_areTheSamePeer() {
        PeerId p = PeerId.parse(PEER);
        byte[] cid = new byte[2 + p.toBytes().length];
        cid[0] = 1;
        cid[1] = 0x72;
        System.arraycopy(p.toBytes(), 0, cid, 2, p.toBytes().length);
        String cidForm = "b" + Base32.encode(cid);
        assertTrue(cidForm.startsWith("bafz"), cidForm);
        assertEquals(p, PeerId.parse(cidForm));
        assertEquals(p, PeerId.fromBytes(p.toBytes()));
    }

    @Test
    void parse_malformed_isRejectedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PeerId.parse("12D3KooW0")).getMessage().contains("base58"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PeerId.parse("")).getMessage().contains("empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PeerId.fromBytes(new byte[] {0x13, 2, 1, 2}))
                .getMessage().contains("0x13"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PeerId.fromBytes(new byte[] {0x00, 9, 1, 2}))
                .getMessage().contains("length"));
        assertThrows(IllegalArgumentException.class, () -> PeerId.parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));
    }

    @Test
    void tryFromBytes_answersNullForKeysThatAreNoPeerId_andThePeerOtherwise() {
        PeerId p = PeerId.parse(PEER);
        assertEquals(p, PeerId.tryFromBytes(p.toBytes()));
        assertNull(PeerId.tryFromBytes(new byte[] {0x1e, 32, 1, 2})); // a BLAKE3 multihash (a shard CID's)
        assertNull(PeerId.tryFromBytes(new byte[] {0x12, 2, 1, 2})); // sha2-256 with a short digest
        assertNull(PeerId.tryFromBytes(new byte[] {0x00}));
    }

    @Test
    void identity_isCreatedOnceAndReloaded_withOwnerOnlyPermissions(@TempDir Path dir) throws Exception {
        Identity a = Identity.loadOrCreate(dir);
        Identity b = Identity.loadOrCreate(dir);
        assertEquals(a.peerId(), b.peerId());
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(dir.resolve(Identity.KEY_FILE)));
        byte[] msg = "hello".getBytes();
        assertTrue(Crypto.ed25519Verify(a.publicKey(), msg, b.sign(msg)));
        Files.write(dir.resolve(Identity.KEY_FILE), new byte[] {1, 2, 3});
        assertTrue(assertThrows(java.io.IOException.class, () -> Identity.loadOrCreate(dir)).getMessage()
                .contains("identity.key"));
    }
}
