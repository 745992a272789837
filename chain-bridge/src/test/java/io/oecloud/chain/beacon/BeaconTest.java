package io.oecloud.chain.beacon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto.BlockBeacon;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure beacon: BLS signatures, the block entry's checks, the seed chain and the proposer's bias. */
class BeaconTest {
    private static final String CHAIN = "beacon-test";

    private static Bls.SecretKey key(int i) {
        byte[] ikm = new byte[32];
        Arrays.fill(ikm, (byte) (i + 1));
        return Bls.SecretKey.fromIkm(ikm);
    }

    private static List<Bls.SecretKey> keys(int n) {
        List<Bls.SecretKey> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(key(i));
        }
        return l;
    }

    private static List<Beacon.Voter> voters(List<Bls.SecretKey> keys) {
        return keys.stream().map(k -> new Beacon.Voter(k.publicKey(), 10, true)).toList();
    }

    private static List<byte[]> extensions(List<Bls.SecretKey> keys, byte[] msg) {
        return keys.stream().map(k -> k.sign(msg)).toList();
    }

    private static String refusal(byte[] entry, List<Beacon.Voter> commit, byte[] msg) {
        return assertThrows(Beacon.BeaconException.class, () -> Beacon.verify(entry, commit, msg)).getMessage();
    }

    @Test
    void sign_verify_aggregate_roundTrip() {
        Bls.SecretKey k = key(0);
        byte[] msg = Beacon.message(CHAIN, 7, Beacon.seed0(CHAIN));
        byte[] sig = k.sign(msg);
        assertEquals(48, k.publicKey().length);
        assertEquals(96, sig.length);
        assertArrayEquals(sig, k.sign(msg), "BLS signatures are unique: the same every time");
        assertTrue(Bls.verify(k.publicKey(), msg, sig));
        assertFalse(Bls.verify(key(1).publicKey(), msg, sig), "another key");
        List<Bls.SecretKey> ks = keys(4);
        byte[] agg = Bls.aggregate(extensions(ks, msg));
        assertTrue(Bls.verifyAggregate(ks.stream().map(Bls.SecretKey::publicKey).toList(), msg, agg));
        assertFalse(Bls.verifyAggregate(ks.subList(0, 3).stream().map(Bls.SecretKey::publicKey).toList(), msg, agg), "a key missing");
        List<byte[]> dup = new ArrayList<>(ks.stream().map(Bls.SecretKey::publicKey).toList());
        dup.set(3, dup.get(0));
        assertFalse(Bls.verifyAggregate(dup, msg, Bls.aggregate(List.of(ks.get(0).sign(msg), ks.get(1).sign(msg), ks.get(2).sign(msg),
                ks.get(0).sign(msg)))), "a key given twice is refused, even with its signature twice");
    }

    @Test
    void pop_boundToKeyAndOperator() {
        Bls.SecretKey k = key(0);
        byte[] pop = k.pop("12D3KooWoperatorA");
        assertTrue(Bls.verifyPop(k.publicKey(), "12D3KooWoperatorA", pop));
        assertFalse(Bls.verifyPop(k.publicKey(), "12D3KooWoperatorB", pop), "another operator cannot reuse a published proof");
        assertFalse(Bls.verifyPop(key(1).publicKey(), "12D3KooWoperatorA", pop), "another key");
        assertFalse(Bls.verifyPop(k.publicKey(), "12D3KooWoperatorA", k.sign(Bls.popMessage(k.publicKey(), "12D3KooWoperatorA"))),
                "a signature under the signing DST is no proof of possession");
        assertNotNull(Bls.checkPublicKey(new byte[48]));
        assertNotNull(Bls.checkPublicKey(Arrays.copyOf(k.publicKey(), 47)));
        assertNull(Bls.checkPublicKey(k.publicKey()));
    }

    @Test
    void verify_validEntry_accepted_andSeedChainDeterministic() throws Exception {
        List<Bls.SecretKey> ks = keys(4);
        byte[] seed = Beacon.seed0(CHAIN);
        assertArrayEquals(io.oecloud.proofs.Blake3.hash(CHAIN.getBytes()), seed);
        List<byte[]> chainA = new ArrayList<>();
        List<byte[]> chainB = new ArrayList<>();
        for (List<byte[]> out : List.of(chainA, chainB)) {
            byte[] s = seed;
            for (long h = 1; h <= 5; h++) {
                byte[] msg = Beacon.message(CHAIN, h, s);
                Beacon.Entry e = Beacon.build(voters(ks), extensions(ks, msg), msg);
                Beacon.Entry v = Beacon.verify(Beacon.encode(e), voters(ks), msg);
                assertEquals(1, v.signers().length);
                assertEquals(0x0f, v.signers()[0]);
                s = Beacon.nextSeed(s, v);
                out.add(s);
            }
        }
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(chainA.get(i), chainB.get(i), "height " + (i + 1));
        }
        assertEquals(5, chainA.stream().map(Arrays::toString).distinct().count(), "the seed advances at every height");
        assertEquals(4 + 2 + 1 + 2 + 96, Beacon.encode(Beacon.build(voters(ks), extensions(ks, Beacon.message(CHAIN, 1, seed)),
                Beacon.message(CHAIN, 1, seed))).length, "105 bytes for four validators");
    }

    @Test
    void verify_badEntries_refusedWithReason() {
        List<Bls.SecretKey> ks = keys(4);
        List<Beacon.Voter> commit = voters(ks);
        byte[] seed = Beacon.seed0(CHAIN);
        byte[] msg = Beacon.message(CHAIN, 9, seed);
        Beacon.Entry good = Beacon.build(commit, extensions(ks, msg), msg);

        byte[] forged = good.signature().clone();
        byte[] other = key(9).sign(msg);
        assertTrue(refusal(Beacon.encode(new Beacon.Entry(good.signers(), other)), commit, msg).contains("does not verify"));
        forged[20] ^= 1;
        String r = refusal(Beacon.encode(new Beacon.Entry(good.signers(), forged)), commit, msg);
        assertTrue(r.contains("does not verify"), r);
        r = refusal(Beacon.encode(new Beacon.Entry(good.signers(), Arrays.copyOf(good.signature(), 95))), commit, msg);
        assertTrue(r.contains("95 bytes, not 96"), r);
        // two of four: half the power
        byte[] two = Bls.aggregate(List.of(ks.get(0).sign(msg), ks.get(1).sign(msg)));
        r = refusal(Beacon.encode(new Beacon.Entry(new byte[] {0x03}, two)), commit, msg);
        assertTrue(r.contains("hold 20 of 40 power, not more than 2/3"), r);
        // a signer beyond the commit, a signer without a key
        r = refusal(Beacon.encode(new Beacon.Entry(new byte[] {0x1f}, good.signature())), commit, msg);
        assertTrue(r.contains("unknown signer: bit 4"), r);
        List<Beacon.Voter> keyless = new ArrayList<>(commit);
        keyless.set(2, new Beacon.Voter(null, 10, true));
        r = refusal(Beacon.encode(good), keyless, msg);
        assertTrue(r.contains("unknown signer: vote 2's validator has no beacon key"), r);
        r = refusal(Beacon.encode(new Beacon.Entry(new byte[] {0x0f, 0}, good.signature())), commit, msg);
        assertTrue(r.contains("bitmap is 2 bytes"), r);
        // a signature over another height, another seed
        byte[] otherHeight = Beacon.message(CHAIN, 10, seed);
        r = refusal(Beacon.encode(Beacon.build(commit, extensions(ks, otherHeight), otherHeight)), commit, msg);
        assertTrue(r.contains("does not verify"), r);
        byte[] otherSeed = Beacon.message(CHAIN, 9, Beacon.seed0("another chain"));
        r = refusal(Beacon.encode(Beacon.build(commit, extensions(ks, otherSeed), otherSeed)), commit, msg);
        assertTrue(r.contains("does not verify"), r);
        // encodings
        r = refusal(new byte[] {1, 2, 3}, commit, msg);
        assertTrue(r.contains("not a beacon"), r);
        r = refusal(new byte[] {0, 'O', 'E', 'B', (byte) 0xff}, commit, msg);
        assertTrue(r.startsWith("malformed beacon"), r);
        byte[] pb = BlockBeacon.newBuilder().setSigners(ByteString.copyFrom(good.signers())).setSignature(ByteString.copyFrom(good.signature()))
                .build().toByteArray();
        byte[] extra = new byte[4 + pb.length + 2];
        System.arraycopy(Beacon.PREFIX, 0, extra, 0, 4);
        System.arraycopy(pb, 0, extra, 4, pb.length);
        extra[4 + pb.length] = 0x18; // field 3, varint 1
        extra[4 + pb.length + 1] = 1;
        r = refusal(extra, commit, msg);
        assertTrue(r.contains("not the canonical encoding"), r);
    }

    @Test
    void build_skipsInvalidExtensions_andNeedsMoreThanTwoThirds() throws Exception {
        List<Bls.SecretKey> ks = keys(4);
        List<Beacon.Voter> commit = voters(ks);
        byte[] msg = Beacon.message(CHAIN, 3, Beacon.seed0(CHAIN));
        List<byte[]> ext = new ArrayList<>(extensions(ks, msg));
        ext.set(1, key(7).sign(msg)); // a wrong signature: left out
        Beacon.Entry e = Beacon.build(commit, ext, msg);
        assertEquals(0b1101, e.signers()[0]);
        Beacon.verify(Beacon.encode(e), commit, msg);
        ext.set(2, new byte[0]);
        assertNull(Beacon.build(commit, ext, msg), "two valid of four");
        assertTrue(Beacon.required(commit));
        List<Beacon.Voter> absent = new ArrayList<>(commit);
        absent.set(0, new Beacon.Voter(commit.get(0).beaconKey(), 10, false));
        absent.set(1, new Beacon.Voter(null, 10, true));
        assertFalse(Beacon.required(absent), "keyed and committed: half the power");
    }

    /**
     * The proposer's bias, measured: with four equal validators it can choose among
     * {@link Beacon#choices} = 5 seeds a height (the four triples and all four), so it can make an
     * event of probability 1/N happen with probability at most 1 - (1 - 1/N)^5 (0.487 for N = 8),
     * against 1/N for an honest proposer. Fixed keys and seeds; 600 heights (the measured rate may pass
     * the bound by sampling noise: allowed within three standard deviations).
     */
    @Test
    void proposerBias_boundedBySubsetCount() {
        assertEquals(5, Beacon.choices(new long[] {10, 10, 10, 10}));
        assertEquals(1, Beacon.choices(new long[] {10, 10, 10}));
        assertEquals(8, Beacon.choices(new long[] {70, 10, 10, 10}), "any subset with the 70 holder");
        List<Bls.SecretKey> ks = keys(4);
        int n = 8;
        int heights = 600;
        int honestHits = 0;
        int grindHits = 0;
        byte[] seed = Beacon.seed0(CHAIN);
        Random rnd = new Random(24);
        for (int h = 1; h <= heights; h++) {
            byte[] msg = Beacon.message(CHAIN, h, seed);
            List<byte[]> ext = extensions(ks, msg);
            Set<String> distinct = new HashSet<>();
            boolean hit = false;
            byte[] honest = null;
            for (int mask = 1; mask < 16; mask++) {
                if (Integer.bitCount(mask) < 3) {
                    continue;
                }
                List<byte[]> sub = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    if ((mask >> i & 1) != 0) {
                        sub.add(ext.get(i));
                    }
                }
                Beacon.Entry e = new Beacon.Entry(new byte[] {(byte) mask}, Bls.aggregate(sub)); // what build gives for the subset
                byte[] next = Beacon.nextSeed(seed, e);
                distinct.add(Arrays.toString(next));
                hit |= Byte.toUnsignedInt(next[0]) % n == 0;
                if (mask == 15) {
                    honest = next;
                }
            }
            assertEquals(5, distinct.size());
            grindHits += hit ? 1 : 0;
            honestHits += Byte.toUnsignedInt(honest[0]) % n == 0 ? 1 : 0;
            seed = Beacon.seed0(CHAIN + "/" + rnd.nextLong()); // fixed seeds: independent heights
        }
        double bound = 1 - Math.pow(1 - 1.0 / n, 5);
        double grind = (double) grindHits / heights;
        double sigma = Math.sqrt(bound * (1 - bound) / heights);
        assertTrue(grind <= bound + 3 * sigma, "grinding hit " + grind + ", bound " + bound);
        assertTrue(grind > (double) honestHits / heights, "grinding " + grind + " beats honest " + honestHits / (double) heights);
        System.out.printf("beacon bias: 1-in-%d event, honest %.3f, grinding 5 subsets %.3f, bound %.3f (%d heights)%n", n,
                honestHits / (double) heights, grind, bound, heights);
    }
}
