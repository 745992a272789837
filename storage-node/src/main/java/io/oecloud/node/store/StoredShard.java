package io.oecloud.node.store;

import io.oecloud.proofs.Cid;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the store knows of one shard it holds.
 *
 * @param cid the shard's name (and, through its digest, its data commitment)
 * @param size bytes
 * @param holding how this node holds it (raw today; sealed later)
 * @param storedAtMillis when it was stored
 * @param verifiedAtMillis when its bytes last matched the CID (store or scrub)
 * @param owners Ed25519 public keys (32 bytes each) of the owners that pin it
 * @param unpinnedAtMillis when the last owner unpinned it (0 while pinned); garbage after a grace period
 */
public record StoredShard(Cid cid, long size, Holding holding, long storedAtMillis, long verifiedAtMillis,
                          List<byte[]> owners, long unpinnedAtMillis) {
    static final int KEY = 32;

    public StoredShard {
        owners = List.copyOf(owners);
    }

    boolean isPinnedBy(byte[] owner) {
        return owners.stream().anyMatch(o -> Arrays.equals(o, owner));
    }

    StoredShard withOwner(byte[] owner) {
        if (isPinnedBy(owner)) {
            return this;
        }
        List<byte[]> o = new ArrayList<>(owners);
        o.add(owner.clone());
        return new StoredShard(cid, size, holding, storedAtMillis, verifiedAtMillis, o, 0);
    }

    StoredShard withoutOwner(byte[] owner, long now) {
        List<byte[]> o = new ArrayList<>(owners);
        o.removeIf(x -> Arrays.equals(x, owner));
        return new StoredShard(cid, size, holding, storedAtMillis, verifiedAtMillis, o,
                o.isEmpty() ? (unpinnedAtMillis == 0 ? now : unpinnedAtMillis) : 0);
    }

    StoredShard verifiedAt(long now) {
        return new StoredShard(cid, size, holding, storedAtMillis, now, owners, unpinnedAtMillis);
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 8 + 8 + 2 + owners.size() * KEY);
        b.put(holding.tag()).putLong(size).putLong(storedAtMillis).putLong(verifiedAtMillis).putLong(unpinnedAtMillis);
        b.putShort((short) owners.size());
        for (byte[] o : owners) {
            b.put(o);
        }
        return b.array();
    }

    static StoredShard decode(Cid cid, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        byte tag = b.get();
        if (tag != 0) {
            throw new IllegalStateException("unknown holding kind " + tag + " for " + cid);
        }
        long size = b.getLong();
        long stored = b.getLong();
        long verified = b.getLong();
        long unpinned = b.getLong();
        int n = b.getShort();
        List<byte[]> owners = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] o = new byte[KEY];
            b.get(o);
            owners.add(o);
        }
        return new StoredShard(cid, size, new Holding.Raw(), stored, verified, owners, unpinned);
    }
}
