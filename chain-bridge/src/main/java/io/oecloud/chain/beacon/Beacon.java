package io.oecloud.chain.beacon;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.chain.pb.ChainProto.BlockBeacon;
import io.oecloud.proofs.Blake3;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The chain's randomness beacon: its messages, its block entry and the seed chain. Pure functions
 * (no state, no clock); the ledger stores the seeds, the ABCI adapter moves the bytes.
 *
 * <pre>
 * contribution of a validator at height v (its vote extension): BLS sign(message(chain, v, seed_{v-1}))
 * block h's first entry:  00 'O' 'E' 'B' || BlockBeacon{signers bitmap over h's last commit, aggregate of the h-1 extensions}
 * seed_0 = BLAKE3(chain ID);  seed_h = BLAKE3("oechain/beacon/seed/v1" || seed_{h-1} || signers || aggregate)
 * a block without a beacon keeps the seed (seed_h = seed_{h-1})
 * </pre>
 *
 * <p>Every validator signs the same message at a height, so the signatures aggregate into one
 * 96-byte signature checked with one pairing against the sum of the signers' keys. BLS
 * signatures are unique: no signer can grind its share, and no single party chooses the seed. The
 * proposer's one freedom is which subset (with more than 2/3 of the power) it aggregates: see
 * {@link #choices}.
 */
public final class Beacon {
    /** The block entry's prefix: a 0 byte is no protobuf tag, so no transaction can start with it. */
    public static final byte[] PREFIX = {0, 'O', 'E', 'B'};
    public static final int SEED_BYTES = 32;
    private static final byte[] MESSAGE_DOMAIN = "oechain/beacon/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SEED_DOMAIN = "oechain/beacon/seed/v1".getBytes(StandardCharsets.US_ASCII);

    private Beacon() {}

    /**
     * A vote of a block's last commit, in the commit's order: the validator's registered beacon
     * key (null when it has none: it cannot contribute), its power, and whether it committed the
     * block (its precommit, and so its extension, is in the commit).
     */
    public record Voter(byte[] beaconKey, long power, boolean committed) {}

    /** A beacon entry that passed every check: its signer bitmap and aggregate signature. */
    public record Entry(byte[] signers, byte[] signature) {}

    /** Thrown with what is wrong with a beacon entry (a consensus refusal: the block is rejected). */
    public static final class BeaconException extends Exception {
        public BeaconException(String message) {
            super(message);
        }
    }

    /** seed_0: BLAKE3 of the chain ID (UTF-8). */
    public static byte[] seed0(String chainId) {
        return Blake3.hash(chainId.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * What every validator signs at {@code height}: {@code "oechain/beacon/v1" || u8 len(chain ID)
     * || chain ID || u64 height (big-endian) || seed} (the chain ID length-prefixed so no two
     * (chain, height) pairs give the same bytes), {@code seed} being the seed before that height.
     */
    public static byte[] message(String chainId, long height, byte[] seed) {
        byte[] c = chainId.getBytes(StandardCharsets.UTF_8);
        if (c.length > 255 || seed.length != SEED_BYTES) {
            throw new IllegalArgumentException("chain ID of " + c.length + " bytes (at most 255) or seed of " + seed.length + " (32)");
        }
        return ByteBuffer.allocate(MESSAGE_DOMAIN.length + 1 + c.length + 8 + SEED_BYTES).put(MESSAGE_DOMAIN).put((byte) c.length).put(c)
                .putLong(height).put(seed).array();
    }

    /** The seed after a block whose beacon is {@code e}, from the seed before it. */
    public static byte[] nextSeed(byte[] seed, Entry e) {
        Blake3 h = new Blake3();
        h.update(SEED_DOMAIN, 0, SEED_DOMAIN.length);
        h.update(seed, 0, seed.length);
        h.update(e.signers(), 0, e.signers().length);
        h.update(e.signature(), 0, e.signature().length);
        return h.digest();
    }

    /** Whether a block's first entry is a beacon (it starts with {@link #PREFIX}). */
    public static boolean isBeacon(byte[] entry) {
        return entry.length >= PREFIX.length && Arrays.equals(entry, 0, PREFIX.length, PREFIX, 0, PREFIX.length);
    }

    /** The block entry for {@code e}. */
    public static byte[] encode(Entry e) {
        byte[] pb = BlockBeacon.newBuilder().setSigners(ByteString.copyFrom(e.signers())).setSignature(ByteString.copyFrom(e.signature()))
                .build().toByteArray();
        byte[] out = Arrays.copyOf(PREFIX, PREFIX.length + pb.length);
        System.arraycopy(pb, 0, out, PREFIX.length, pb.length);
        return out;
    }

    /**
     * Whether a block must carry a beacon: the validators of its last commit that committed and
     * have a beacon key hold more than 2/3 of the power. Each of those precommits carries an
     * extension that VerifyVoteExtension found to be a valid signature, so the proposer holds
     * enough to aggregate: the rule never asks for a beacon that cannot be made (a rule on the
     * registered keys alone would halt the chain when a keyed validator's vote is missing).
     */
    public static boolean required(List<Voter> commit) {
        long total = 0;
        long keyed = 0;
        for (Voter v : commit) {
            total += v.power();
            keyed += v.beaconKey() != null && v.committed() ? v.power() : 0;
        }
        return total > 0 && above2of3(keyed, total);
    }

    /** part > 2/3 of total; CometBFT keeps the total power under 2^60 / 8, so 3 x part cannot overflow. */
    private static boolean above2of3(long part, long total) {
        return Math.multiplyExact(part, 3) > Math.multiplyExact(total, 2);
    }

    /**
     * Checks block entry {@code entry} against the block's last commit {@code commit} and the
     * message of the commit's height; returns the entry when valid.
     *
     * @throws BeaconException naming what is wrong: no prefix, not a canonical BlockBeacon, a
     *     bitmap of the wrong length or with spare bits set, a signer without a beacon key,
     *     signers with at most 2/3 of the power, or an aggregate that does not verify
     */
    public static Entry verify(byte[] entry, List<Voter> commit, byte[] message) throws BeaconException {
        if (!isBeacon(entry)) {
            throw new BeaconException("the block's first entry is not a beacon (no 00 4F 45 42 prefix)");
        }
        BlockBeacon b;
        try {
            b = BlockBeacon.parseFrom(ByteBuffer.wrap(entry, PREFIX.length, entry.length - PREFIX.length));
        } catch (InvalidProtocolBufferException e) {
            throw new BeaconException("malformed beacon: " + e.getMessage());
        }
        if (!b.getUnknownFields().asMap().isEmpty() || !Arrays.equals(b.toByteArray(), 0, b.getSerializedSize(), entry, PREFIX.length, entry.length)) {
            throw new BeaconException("malformed beacon: not the canonical encoding of a BlockBeacon (unknown or repeated fields)");
        }
        byte[] signers = b.getSigners().toByteArray();
        byte[] signature = b.getSignature().toByteArray();
        if (signature.length != Bls.SIGNATURE_BYTES) {
            throw new BeaconException("malformed beacon: the aggregate is " + signature.length + " bytes, not " + Bls.SIGNATURE_BYTES);
        }
        int n = commit.size();
        if (signers.length != (n + 7) / 8) {
            throw new BeaconException("malformed beacon: the signer bitmap is " + signers.length + " bytes, the last commit's " + n
                    + " votes need " + (n + 7) / 8);
        }
        for (int i = n; i < signers.length * 8; i++) {
            if (bit(signers, i)) {
                throw new BeaconException("unknown signer: bit " + i + " is set, the last commit has " + n + " votes");
            }
        }
        long total = 0;
        long signed = 0;
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Voter v = commit.get(i);
            total += v.power();
            if (bit(signers, i)) {
                if (v.beaconKey() == null) {
                    throw new BeaconException("unknown signer: vote " + i + "'s validator has no beacon key");
                }
                keys.add(v.beaconKey());
                signed += v.power();
            }
        }
        if (!above2of3(signed, total)) {
            throw new BeaconException("the beacon's " + keys.size() + " signers hold " + signed + " of " + total
                    + " power, not more than 2/3");
        }
        if (!Bls.verifyAggregate(keys, message, signature)) {
            throw new BeaconException("the beacon's aggregate signature does not verify for its " + keys.size() + " signers");
        }
        return new Entry(signers, signature);
    }

    /**
     * The proposer's side: the entry aggregating every valid extension of {@code commit}
     * ({@code extensions.get(i)} is vote i's, empty when none), or null when the valid ones hold at
     * most 2/3 of the power. Each extension is checked (one pairing each) unless the aggregate of
     * all of them verifies at once.
     */
    public static Entry build(List<Voter> commit, List<byte[]> extensions, byte[] message) {
        int n = commit.size();
        List<Integer> candidates = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (commit.get(i).beaconKey() != null && extensions.get(i).length == Bls.SIGNATURE_BYTES) {
                candidates.add(i);
            }
        }
        Entry all = tryAggregate(commit, extensions, candidates, message, false);
        if (all != null) {
            return all;
        }
        List<Integer> valid = new ArrayList<>();
        for (int i : candidates) {
            if (Bls.verify(commit.get(i).beaconKey(), message, extensions.get(i))) {
                valid.add(i);
            }
        }
        return tryAggregate(commit, extensions, valid, message, true);
    }

    private static Entry tryAggregate(List<Voter> commit, List<byte[]> extensions, List<Integer> signers, byte[] message, boolean checked) {
        long total = 0;
        long signed = 0;
        for (Voter v : commit) {
            total += v.power();
        }
        byte[] bitmap = new byte[(commit.size() + 7) / 8];
        List<byte[]> sigs = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        for (int i : signers) {
            bitmap[i >> 3] |= (byte) (1 << (i & 7));
            signed += commit.get(i).power();
            sigs.add(extensions.get(i));
            keys.add(commit.get(i).beaconKey());
        }
        if (sigs.isEmpty() || !above2of3(signed, total)) {
            return null;
        }
        byte[] agg;
        try {
            agg = Bls.aggregate(sigs);
        } catch (IllegalArgumentException e) {
            return null;
        }
        return checked || Bls.verifyAggregate(keys, message, agg) ? new Entry(bitmap, agg) : null;
    }

    /** Whether bit {@code i} (LSB first within byte i/8) of {@code bitmap} is set. */
    public static boolean bit(byte[] bitmap, int i) {
        return (bitmap[i >> 3] & (1 << (i & 7))) != 0;
    }

    /**
     * The proposer's bias bound: the number of signer subsets holding more than 2/3 of
     * {@code powers} (every validator's extension received), i.e. the number of distinct seeds a
     * proposer can choose among. 5 for four equal validators (the four triples and the four).
     * Exponential in the count: for the small validator sets of this chain (at most 30 here).
     */
    public static long choices(long[] powers) {
        if (powers.length > 30) {
            throw new IllegalArgumentException("at most 30 validators, got " + powers.length);
        }
        long total = Arrays.stream(powers).sum();
        long count = 0;
        for (long mask = 1; mask < (1L << powers.length); mask++) {
            long p = 0;
            for (int i = 0; i < powers.length; i++) {
                p += (mask >> i & 1) != 0 ? powers[i] : 0;
            }
            count += above2of3(p, total) ? 1 : 0;
        }
        return count;
    }
}
