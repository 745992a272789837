package io.oecloud.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.testkit.ManualClock;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard store against a model of it (a map, and the rules its Javadoc states): random puts
 * (pinned by a trusted key, two strangers under quotas, or no one; byte arrays, receive buffers and
 * bytes the caller computed), unpins, signed single-use unpins, garbage collection, scrubs, reads,
 * deletes, a clock moved by minutes and hours, shard files corrupted, truncated or deleted behind
 * the store's back, and reopens, with a fixed seed. After every step count, used, list, metadata,
 * charges, remembered deletes, and has and get of every intact shard agree with the model.
 */
@Timeout(120)
class ShardStoreModelTest {
    private static final long SEED = 2323;
    private static final int STEPS = 1000;
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(40);
    private static final long CAPACITY = 160 << 10;
    private static final long GRACE = TimeUnit.HOURS.toMillis(1);
    private static final long PER_STRANGER = 64 << 10;
    private static final long ALL_STRANGERS = 96 << 10;

    @TempDir
    Path dir;

    private final Random rnd = new Random(SEED);
    private final ManualClock clock = new ManualClock();
    private final byte[] trusted = key();
    private final List<byte[]> owners = List.of(trusted, key(), key());
    private final Quotas quotas = Quotas.of(PER_STRANGER, ALL_STRANGERS, List.of(trusted));
    /** Shard contents to choose from: a small pool, so shards are put again, pinned twice, shared by owners. */
    private final List<byte[]> pool = new ArrayList<>();
    private final List<byte[]> nonces = new ArrayList<>();

    /** What the store should hold, by CID. */
    private final Map<Cid, Shard> model = new HashMap<>();
    /** Used delete nonces (owner || nonce, hex) and their expiry. */
    private final Map<String, Long> remembered = new HashMap<>();
    private ShardStore store;

    /** The model of one shard. */
    private static final class Shard {
        final byte[] data;
        final long storedAt;
        long verifiedAt;
        /** Pins by owner (hex), in the order the store keeps them: first pinned first. */
        final LinkedHashMap<String, Integer> pins = new LinkedHashMap<>();
        long unpinnedAt;
        String chargedTo;
        /** Its file was corrupted, truncated or deleted: the next check drops it. */
        boolean broken;

        Shard(byte[] data, long now) {
            this.data = data;
            this.storedAt = now;
            this.verifiedAt = now;
        }

        List<String> charged() {
            return !pins.isEmpty() ? List.copyOf(pins.keySet()) : chargedTo != null ? List.of(chargedTo) : List.of();
        }
    }

    private byte[] key() {
        byte[] k = new byte[32];
        rnd.nextBytes(k);
        return k;
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static Cid cid(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    @Test
    void randomOperations_agreeWithTheModel_afterEveryStep() throws Exception {
        for (int i = 0; i < 40; i++) {
            byte[] b = new byte[1 + rnd.nextInt(9000)]; // 8 to 16 KiB allocated: quotas and capacity are met
            rnd.nextBytes(b);
            pool.add(b);
        }
        for (int i = 0; i < 3; i++) { // a few of several 16 KiB groups, so outboards are not all empty
            byte[] b = new byte[16_385 + rnd.nextInt(24_000)];
            rnd.nextBytes(b);
            pool.add(b);
        }
        for (int i = 0; i < 4; i++) {
            byte[] n = new byte[16];
            rnd.nextBytes(n);
            nonces.add(n);
        }
        store = ShardStore.open(dir, CAPACITY, quotas, clock);
        Map<String, Integer> done = new TreeMap<>();
        long t0 = System.nanoTime();
        int step = 0;
        try {
            for (; step < STEPS && System.nanoTime() - t0 < BUDGET_NANOS; step++) {
                String op = step(rnd.nextInt(100));
                done.merge(op, 1, Integer::sum);
                try {
                    check();
                } catch (AssertionError e) {
                    throw new AssertionError("after step " + step + " (" + op + ", seed " + SEED + "): " + e.getMessage(), e);
                }
            }
        } finally {
            store.close();
        }
        System.out.printf("shard store model: %d steps in %d ms: %s%n", step,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), done);
        assertTrue(step >= 300, "the time bound left only " + step + " steps");
        for (String op : List.of("put", "put-full", "put-over-quota", "unpin", "unpinOnce", "gc", "scrub", "advance", "read",
                "read-broken", "delete", "corrupt", "reopen", "prove", "prove-broken", "outboard-damage")) {
            assertTrue(done.containsKey(op), "never ran " + op + ": " + done);
        }
    }

    /** Runs one random operation on the store and the model; returns its name (what it turned out to be). */
    private String step(int dice) throws Exception {
        if (dice < 30) {
            return put(pool.get(rnd.nextInt(pool.size())), rnd.nextInt(5) == 0 ? null : owners.get(rnd.nextInt(owners.size())));
        } else if (dice < 42) {
            return unpin();
        } else if (dice < 50) {
            return unpinOnce();
        } else if (dice < 58) {
            return collectGarbage();
        } else if (dice < 62) {
            return scrub();
        } else if (dice < 70) {
            long[] moves = {1, 60_000, 30 * 60_000, GRACE - 1, GRACE, 3 * GRACE};
            clock.advance(Duration.ofMillis(moves[rnd.nextInt(moves.length)]));
            return "advance";
        } else if (dice < 80) {
            return read();
        } else if (dice < 84) {
            return rnd.nextBoolean() ? delete() : damageAnOutboard();
        } else if (dice < 92) {
            return breakAFile();
        } else if (dice < 96) {
            store.close();
            store = ShardStore.open(dir, CAPACITY, quotas, clock);
            return "reopen";
        } else {
            byte[] a = pool.get(rnd.nextInt(pool.size()));
            byte[] other = pool.get(rnd.nextInt(pool.size()));
            if (cid(a).equals(cid(other))) {
                return "put-mismatch";
            }
            StoreException e = assertThrows(StoreException.class, () -> store.put(cid(a), other, trusted));
            assertEquals(StoreException.Code.CID_MISMATCH, e.code());
            return "put-mismatch";
        }
    }

    private String put(byte[] data, byte[] owner) throws Exception {
        Cid c = cid(data);
        long cost = ShardStore.allocated(data.length);
        Shard s = model.get(c);
        String refusal = null;
        if (s == null && used() + cost > CAPACITY) {
            refusal = "FULL";
        } else if (owner != null && (s == null || !s.charged().contains(hex(owner)))) {
            refusal = admit(owner, cost);
        }
        StoredShard got;
        try {
            got = switch (rnd.nextInt(3)) {
                case 0 -> store.put(c, data, owner);
                case 1 -> store.putComputed(c, data, owner);
                default -> {
                    ByteBuffer b = store.receiveBuffer(data.length);
                    try {
                        b.put(data).flip();
                        yield store.put(c, b, owner);
                    } finally {
                        store.recycle(b);
                    }
                }
            };
        } catch (StoreException e) {
            assertEquals(refusal, e.code().name(), "put of " + data.length + " bytes: " + e.getMessage());
            return refusal.equals("FULL") ? "put-full" : "put-over-quota";
        }
        assertNull(refusal, "the model refuses the put of " + data.length + " bytes");
        if (s == null) {
            s = new Shard(data, clock.millis());
            s.unpinnedAt = owner == null ? clock.millis() : 0;
            model.put(c, s);
        }
        if (owner != null) {
            s.pins.merge(hex(owner), 1, Integer::sum);
            s.unpinnedAt = 0;
            s.chargedTo = null;
        }
        assertMatches(s, got);
        return "put";
    }

    /** Null when the store admits {@code cost} more bytes pinned by {@code owner}, else the refusal's code. */
    private String admit(byte[] owner, long cost) {
        if (quotas.trusts(owner)) {
            return null;
        }
        long strangers = 0;
        for (byte[] o : owners) {
            strangers += quotas.trusts(o) ? 0 : charged(hex(o));
        }
        return charged(hex(owner)) + cost > PER_STRANGER || strangers + cost > ALL_STRANGERS ? "OVER_QUOTA" : null;
    }

    private long charged(String owner) {
        return model.values().stream().filter(s -> s.charged().contains(owner)).mapToLong(s -> ShardStore.allocated(s.data.length)).sum();
    }

    private long used() {
        return model.values().stream().mapToLong(s -> ShardStore.allocated(s.data.length)).sum();
    }

    /** One pin of an owner fewer, as the store's rule says (the model's half of unpin and unpinOnce). */
    private static void unpinModel(Shard s, String owner, long now) {
        int left = s.pins.get(owner) - 1;
        if (left > 0) {
            s.pins.put(owner, left);
        } else {
            s.pins.remove(owner);
        }
        if (s.pins.isEmpty()) {
            s.unpinnedAt = now;
            s.chargedTo = owner;
        }
    }

    private Cid anyCid() {
        if (model.isEmpty() || rnd.nextInt(8) == 0) {
            return cid(pool.get(rnd.nextInt(pool.size()))); // often one the store does not hold
        }
        List<Cid> held = new ArrayList<>(model.keySet());
        held.sort(ShardStoreModelTest::compare);
        return held.get(rnd.nextInt(held.size()));
    }

    private String unpin() throws Exception {
        Cid c = anyCid();
        byte[] owner = owners.get(rnd.nextInt(owners.size()));
        Shard s = model.get(c);
        boolean pinned = s != null && s.pins.containsKey(hex(owner));
        assertEquals(pinned, store.unpin(c, owner));
        if (pinned) {
            unpinModel(s, hex(owner), clock.millis());
        }
        return "unpin";
    }

    private String unpinOnce() throws Exception {
        Cid c = anyCid();
        byte[] owner = owners.get(rnd.nextInt(owners.size()));
        byte[] nonce = nonces.get(rnd.nextInt(nonces.size()));
        long[] expiries = {-120_000, 0, 600_000};
        long notAfter = clock.millis() + expiries[rnd.nextInt(expiries.length)];
        String key = hex(owner) + hex(nonce);
        Shard s = model.get(c);
        ShardStore.Unpin want = remembered.containsKey(key) ? ShardStore.Unpin.REPLAYED
                : s == null || !s.pins.containsKey(hex(owner)) ? ShardStore.Unpin.NOT_PINNED : ShardStore.Unpin.UNPINNED;
        assertEquals(want, store.unpinOnce(c, owner, nonce, notAfter));
        if (want == ShardStore.Unpin.UNPINNED) {
            unpinModel(s, hex(owner), clock.millis());
            remembered.put(key, notAfter);
        }
        return "unpinOnce";
    }

    private String collectGarbage() throws Exception {
        long now = clock.millis();
        int want = 0;
        for (var it = model.values().iterator(); it.hasNext(); ) {
            Shard s = it.next();
            if (s.pins.isEmpty() && s.unpinnedAt > 0 && now - s.unpinnedAt >= GRACE) {
                it.remove();
                want++;
            }
        }
        remembered.values().removeIf(notAfter -> notAfter < now - 60_000);
        assertEquals(want, store.collectGarbage(GRACE));
        return "gc";
    }

    private String scrub() throws Exception {
        List<Cid> want = new ArrayList<>();
        for (var e : model.entrySet()) {
            if (e.getValue().broken) {
                want.add(e.getKey());
            } else {
                e.getValue().verifiedAt = clock.millis();
            }
        }
        want.sort(ShardStoreModelTest::compare);
        want.forEach(model::remove);
        assertEquals(want, store.scrub(), "the broken shards, found and dropped");
        return "scrub";
    }

    /** has, get or a range of a held shard: a broken one is found so, and dropped. */
    private String read() throws Exception {
        Cid c = anyCid();
        Shard s = model.get(c);
        int how = rnd.nextInt(4);
        if (how == 3) {
            return prove(c, s);
        }
        if (s == null || s.broken) {
            if (how == 0) {
                assertFalse(store.has(c));
            } else {
                StoreException e = assertThrows(StoreException.class, () -> store.get(c));
                assertEquals(s == null ? StoreException.Code.NOT_FOUND : StoreException.Code.CORRUPT, e.code(), e.getMessage());
            }
            model.remove(c);
            return s == null ? "read-absent" : "read-broken";
        }
        if (how == 2) {
            int off = rnd.nextInt(s.data.length + 2);
            int len = rnd.nextInt(s.data.length + 2);
            if (off + len > s.data.length) {
                assertEquals(StoreException.Code.BAD_RANGE, assertThrows(StoreException.class, () -> store.get(c, off, len)).code());
            } else {
                assertArrayEquals(Arrays.copyOfRange(s.data, off, off + len), store.get(c, off, len));
            }
        }
        return "read";
    }

    /**
     * A proof of a random range: right for an intact shard; for a broken one either right (the
     * damage lies outside the groups read) or CORRUPT, and the shard dropped.
     */
    private String prove(Cid c, Shard s) throws Exception {
        int size = s == null ? 1 : s.data.length;
        long chunks = Math.max(1, Math.ceilDiv(size, 1024));
        long first = rnd.nextLong(chunks);
        int count = 1 + rnd.nextInt((int) (chunks - first));
        if (s == null) {
            assertEquals(StoreException.Code.NOT_FOUND, assertThrows(StoreException.class, () -> store.prove(c, 0, 1)).code());
            return "prove-absent";
        }
        io.oecloud.proofs.slice.SliceProof p;
        try {
            p = store.prove(c, first, count);
        } catch (StoreException e) {
            assertTrue(s.broken && e.code() == StoreException.Code.CORRUPT, "prove of " + c + ": " + e.getMessage());
            model.remove(c);
            return "prove-broken";
        }
        p.verify(c, size);
        assertArrayEquals(Arrays.copyOfRange(s.data, (int) first * 1024, (int) Math.min(size, (first + count) * 1024)), p.chunks());
        return s.broken ? "prove-broken" : "prove";
    }

    /** Deletes or damages a held shard's stored outboard behind the store's back: proofs and scrubs rebuild it. */
    private String damageAnOutboard() throws Exception {
        List<Cid> held = model.keySet().stream().sorted(ShardStoreModelTest::compare).toList();
        if (held.isEmpty()) {
            return "outboard-none";
        }
        Cid c = held.get(rnd.nextInt(held.size()));
        byte[] v = store.outboardBytes(c);
        if (v == null || v.length == 0 || rnd.nextInt(3) == 0) {
            store.setOutboardBytes(c, null);
        } else {
            v[rnd.nextInt(v.length)] ^= (byte) (1 + rnd.nextInt(255));
            store.setOutboardBytes(c, v);
        }
        return "outboard-damage";
    }

    private String delete() throws Exception {
        Cid c = anyCid();
        assertEquals(model.remove(c) != null, store.delete(c));
        return "delete";
    }

    /** Corrupts (same size, a new file), truncates or deletes a held shard's file behind the store's back. */
    private String breakAFile() throws Exception {
        List<Cid> intact = model.entrySet().stream().filter(e -> !e.getValue().broken).map(Map.Entry::getKey)
                .sorted(ShardStoreModelTest::compare).toList();
        if (intact.isEmpty()) {
            return "corrupt-none";
        }
        Cid c = intact.get(rnd.nextInt(intact.size()));
        Shard s = model.get(c);
        Path f = store.file(c);
        int how = s.data.length == 1 ? rnd.nextInt(2) * 2 : rnd.nextInt(3);
        if (how == 2) {
            Files.delete(f);
        } else {
            byte[] bad = how == 0 ? s.data.clone() : Arrays.copyOf(s.data, s.data.length - 1);
            if (how == 0) {
                bad[rnd.nextInt(bad.length)] ^= 1; // one bit flipped
            }
            // a new file renamed over the old one: a flip in place within the same clock tick could
            // keep size, time and inode, which HAS trusts for a minute by design (ShardStore.has)
            Path tmp = f.resolveSibling(f.getFileName() + ".model");
            Files.write(tmp, bad);
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        s.broken = true;
        return "corrupt";
    }

    /** Everything the store says agrees with the model; has and get of every intact shard. */
    private void check() throws Exception {
        assertEquals(model.size(), store.count(), "count");
        assertEquals(used(), store.used(), "used");
        List<Cid> cids = new ArrayList<>(model.keySet());
        cids.sort(ShardStoreModelTest::compare);
        List<StoredShard> listed = store.list();
        assertEquals(cids, listed.stream().map(StoredShard::cid).toList(), "list, ordered by CID bytes");
        for (StoredShard got : listed) {
            Shard s = model.get(got.cid());
            assertMatches(s, got);
            assertMatches(s, store.metadata(got.cid()));
            if (!s.broken) {
                assertTrue(store.has(got.cid()), "has " + got.cid());
                assertArrayEquals(s.data, store.get(got.cid()), "get " + got.cid());
            }
        }
        for (byte[] o : owners) {
            assertEquals(charged(hex(o)), store.chargedTo(o), "charged to " + hex(o).substring(0, 8));
        }
        assertEquals(remembered.size(), store.rememberedDeletes(), "signed deletes remembered");
        for (byte[] b : pool) {
            if (!model.containsKey(cid(b))) {
                assertNull(store.metadata(cid(b)), "no entry for a shard the model does not hold");
                assertNull(store.outboardBytes(cid(b)), "no outboard of a shard the model does not hold");
            }
        }
    }

    private static void assertMatches(Shard s, StoredShard got) {
        String c = got.cid() + ": ";
        assertEquals(s.data.length, got.size(), c + "size");
        assertEquals(s.storedAt, got.storedAtMillis(), c + "stored at");
        assertEquals(s.verifiedAt, got.verifiedAtMillis(), c + "verified at");
        assertEquals(s.unpinnedAt, got.unpinnedAtMillis(), c + "unpinned at");
        Map<String, Integer> pins = new LinkedHashMap<>();
        for (StoredShard.Pin p : got.pins()) {
            if (pins.put(hex(p.owner()), p.count()) != null) {
                fail(c + "an owner listed twice");
            }
        }
        assertEquals(List.copyOf(s.pins.entrySet()), List.copyOf(pins.entrySet()), c + "pins, in order");
        assertEquals(s.chargedTo, got.chargedTo() == null ? null : hex(got.chargedTo()), c + "charged to");
    }

    /** RocksDB's order: CID bytes compared unsigned. */
    private static int compare(Cid a, Cid b) {
        return Arrays.compareUnsigned(a.toBytes(), b.toBytes());
    }
}
