package io.oecloud.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.testkit.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pins admitted per owner key within quotas counted in blocks, and single-use signed deletes. */
class ShardStoreAdmissionTest {
    @TempDir
    Path dir;

    private final Random rnd = new Random(7);
    private final byte[] stranger = Identity.generate().publicKey();
    private final byte[] other = Identity.generate().publicKey();
    private final byte[] friend = Identity.generate().publicKey();

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    /** 5 blocks of 8 KiB-shards per stranger, 8 for all strangers together; {@code friend} trusted. */
    private Quotas quotas() {
        return Quotas.of(5 * 8192, 8 * 8192, List.of(friend));
    }

    @Test
    void aStrangersKey_pinsWithinItsQuotaCountedInBlocks_thenIsRefused() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 1 << 20, quotas())) {
            for (int i = 0; i < 5; i++) {
                byte[] d = bytes(64); // counted as 8 KiB each: a block and the inode
                s.put(cid(d), d, stranger);
            }
            assertEquals(5 * 8192, s.chargedTo(stranger));
            byte[] d = bytes(64);
            StoreException e = assertThrows(StoreException.class, () -> s.put(cid(d), d, stranger));
            assertEquals(StoreException.Code.OVER_QUOTA, e.code());
            assertTrue(e.getMessage().contains("40960 of its 40960"), e.getMessage());
            assertTrue(e.getMessage().contains(io.oecloud.dht.PeerId.fromEd25519(stranger).toString()), e.getMessage());
            assertEquals(5, s.count(), "nothing stored for the refused pin");
        }
    }

    @Test
    void trustedKeys_areExempt_andAllStrangersTogetherAreCapped() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 1 << 20, quotas())) {
            for (int i = 0; i < 20; i++) {
                byte[] d = bytes(100);
                s.put(cid(d), d, friend);
            }
            for (int i = 0; i < 5; i++) {
                byte[] d = bytes(100);
                s.put(cid(d), d, stranger);
            }
            for (int i = 0; i < 3; i++) {
                byte[] d = bytes(100);
                s.put(cid(d), d, other);
            }
            byte[] d = bytes(100);
            StoreException e = assertThrows(StoreException.class, () -> s.put(cid(d), d, other),
                    "a fresh key gets its own quota, but not beyond what strangers may hold together");
            assertEquals(StoreException.Code.OVER_QUOTA, e.code());
            assertTrue(e.getMessage().contains("untrusted owners"), e.getMessage());
        }
    }

    @Test
    void aShardAlreadyCharged_costsNothingMore_andAShardSomeoneElsePinsIsChargedToEach() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 1 << 20, quotas())) {
            byte[] d = bytes(5000);
            s.put(cid(d), d, stranger);
            s.put(cid(d), d, stranger); // a second object sharing the shard: one more pin, no more space
            assertEquals(ShardStore.allocated(5000), s.chargedTo(stranger));
            s.put(cid(d), d, other);
            assertEquals(ShardStore.allocated(5000), s.chargedTo(other));
        }
    }

    @Test
    void unpinnedSpace_staysChargedUntilCollected_soUnpinAndPinAgainCannotFillTheDisk() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 1 << 20, quotas())) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 5; i++) {
                    byte[] d = bytes(64);
                    try {
                        s.put(cid(d), d, stranger);
                        assertTrue(s.unpin(cid(d), stranger));
                    } catch (StoreException e) {
                        assertEquals(StoreException.Code.OVER_QUOTA, e.code());
                    }
                }
            }
            assertEquals(5, s.count(), "garbage within the grace period still counts against its last owner");
            assertEquals(5 * 8192, s.chargedTo(stranger));
            assertEquals(5, s.collectGarbage(0));
            assertEquals(0, s.chargedTo(stranger), "collected: the space is the owner's again");
            byte[] d = bytes(64);
            s.put(cid(d), d, stranger);
        }
    }

    @Test
    void charges_surviveAReopen() throws Exception {
        try (ShardStore s = ShardStore.open(dir, 1 << 20, quotas())) {
            for (int i = 0; i < 4; i++) {
                byte[] d = bytes(64);
                s.put(cid(d), d, stranger);
            }
            byte[] d = bytes(64);
            s.put(cid(d), d, stranger);
            assertTrue(s.unpin(cid(d), stranger));
        }
        try (ShardStore s = ShardStore.open(dir, 1 << 20, quotas())) {
            assertEquals(5 * 8192, s.chargedTo(stranger));
            byte[] d = bytes(64);
            assertEquals(StoreException.Code.OVER_QUOTA, assertThrows(StoreException.class, () -> s.put(cid(d), d, stranger)).code());
        }
    }

    @Test
    void unpinOnce_aNonceIsUsableOnce_alsoAfterARestart() throws Exception {
        byte[] d = bytes(1000);
        Cid c = cid(d);
        byte[] nonce = bytes(16);
        long notAfter = System.currentTimeMillis() + 600_000;
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            for (int i = 0; i < 3; i++) {
                s.put(c, d, stranger);
            }
            assertEquals(ShardStore.Unpin.UNPINNED, s.unpinOnce(c, stranger, nonce, notAfter));
            assertEquals(ShardStore.Unpin.REPLAYED, s.unpinOnce(c, stranger, nonce, notAfter));
            assertEquals(2, s.metadata(c).pins().get(0).count());
        }
        try (ShardStore s = ShardStore.open(dir, 1 << 20)) {
            assertEquals(ShardStore.Unpin.REPLAYED, s.unpinOnce(c, stranger, nonce, notAfter), "remembered across the restart");
            assertEquals(2, s.metadata(c).pins().get(0).count());
            assertEquals(ShardStore.Unpin.UNPINNED, s.unpinOnce(c, stranger, bytes(16), notAfter), "a fresh nonce works");
            assertEquals(ShardStore.Unpin.NOT_PINNED, s.unpinOnce(c, other, bytes(16), notAfter));
            assertEquals(2, s.rememberedDeletes(), "deletes that changed nothing are not remembered");
        }
    }

    @Test
    void usedNonces_areForgottenAMinuteAfterTheirSignaturesExpired_byTheStoresClock() throws Exception {
        byte[] d = bytes(1000);
        Cid c = cid(d);
        ManualClock clock = new ManualClock();
        long now = clock.millis();
        try (ShardStore s = ShardStore.open(dir, 1 << 20, Quotas.unlimited(), clock)) {
            s.put(c, d, stranger);
            s.put(c, d, stranger);
            assertEquals(ShardStore.Unpin.UNPINNED, s.unpinOnce(c, stranger, bytes(16), now - 120_000)); // expired (the server refuses these)
            assertEquals(ShardStore.Unpin.UNPINNED, s.unpinOnce(c, stranger, bytes(16), now + 600_000));
            assertEquals(2, s.rememberedDeletes());
            s.collectGarbage(0);
            assertEquals(1, s.rememberedDeletes(), "only the live signature's nonce is kept");
        }
        try (ShardStore s = ShardStore.open(dir, 1 << 20, Quotas.unlimited(), clock)) {
            assertEquals(1, s.rememberedDeletes());
            assertFalse(s.metadata(c) != null && !s.metadata(c).pins().isEmpty(), "both pins went");
            clock.advance(Duration.ofMillis(600_000 + 60_000));
            s.collectGarbage(0);
            assertEquals(1, s.rememberedDeletes(), "kept a minute past its expiry: a delete checked just before may still be on its way");
            clock.advance(Duration.ofMillis(1));
            s.collectGarbage(0);
            assertEquals(0, s.rememberedDeletes());
        }
    }
}
