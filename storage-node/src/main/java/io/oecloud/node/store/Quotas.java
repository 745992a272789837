package io.oecloud.node.store;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * How much pinned space owner keys may hold in a store, until paid storage decides it: keys the
 * operator trusts (the node's own among them) without limit, every other key ("a stranger") up to
 * {@code perStranger}, and all strangers together up to {@code allStrangers}. The second limit is
 * what keeps a stranger from filling the disk with many fresh keys, each with its own quota.
 *
 * <p>Space is counted as {@link ShardStore#allocated}: the file rounded up to whole 4 KiB blocks
 * plus 4 KiB for its inode and index entry, so a million 64-byte shards count as the 8 GB they
 * cost, not 64 MB. A key is charged once per shard it pins (however many pins it holds on it), and
 * after its last pin goes, until the shard is collected.
 *
 * @param perStranger bytes one untrusted key may hold
 * @param allStrangers bytes all untrusted keys together may hold
 * @param trusted the keys (32-byte Ed25519 public keys) without a limit
 */
public record Quotas(long perStranger, long allStrangers, Set<ByteBuffer> trusted) {
    /** The default quota of one untrusted key: 1 GiB. */
    public static final long DEFAULT_PER_STRANGER = 1L << 30;

    public Quotas {
        if (perStranger < 0 || allStrangers < 0) {
            throw new IllegalArgumentException("quotas must not be negative, were " + perStranger + " per key and "
                    + allStrangers + " for all strangers");
        }
        Set<ByteBuffer> keys = new HashSet<>();
        for (ByteBuffer k : trusted) {
            if (k.remaining() != StoredShard.KEY) {
                throw new IllegalArgumentException("a trusted key must have 32 bytes, had " + k.remaining());
            }
            keys.add(k.asReadOnlyBuffer());
        }
        trusted = Set.copyOf(keys);
    }

    /** No limits at all (a store used only by its own node, and tests). */
    public static Quotas unlimited() {
        return new Quotas(Long.MAX_VALUE, Long.MAX_VALUE, Set.of());
    }

    /**
     * {@code perStranger} for each untrusted key, all of them together at most {@code allStrangers}.
     *
     * @param trustedKeys 32-byte Ed25519 public keys
     */
    public static Quotas of(long perStranger, long allStrangers, Collection<byte[]> trustedKeys) {
        Set<ByteBuffer> keys = new HashSet<>();
        for (byte[] k : trustedKeys) {
            keys.add(ByteBuffer.wrap(k.clone()));
        }
        return new Quotas(perStranger, allStrangers, keys);
    }

    /** These quotas with {@code key} trusted as well. */
    public Quotas trusting(byte[] key) {
        Set<ByteBuffer> keys = new HashSet<>(trusted);
        keys.add(ByteBuffer.wrap(key.clone()));
        return new Quotas(perStranger, allStrangers, keys);
    }

    public boolean trusts(byte[] key) {
        return trusted.contains(ByteBuffer.wrap(key));
    }
}
