package io.oecloud.node.store;

import io.oecloud.proofs.Cid;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the store knows of one shard it holds.
 *
 * <p>Pins are counted per owner: two objects of one owner may share a shard (a file and a longer
 * version of it share their first segments), so each stored upload adds a pin and each unpin
 * removes one; the shard becomes garbage only when no pin is left. A count that reaches
 * {@link #MAX_PINS} stays there for good: a shard that popular is kept rather than risk losing it
 * to an unpin that outnumbers the pins that were counted.
 *
 * @param cid the shard's name (and, through its digest, its data commitment)
 * @param size bytes
 * @param holding how this node holds it (raw today; sealed later)
 * @param storedAtMillis when it was stored
 * @param verifiedAtMillis when its bytes last matched the CID (store or scrub)
 * @param pins the owners (Ed25519 public keys) that pin it, with how many pins each holds
 * @param unpinnedAtMillis when the last pin went (0 while pinned); garbage after a grace period
 * @param chargedTo while no pin is left: the key whose last pin went, still charged for the shard's
 *     space until it is collected (so unpinning and pinning again cannot fill a disk with garbage
 *     beyond a quota); null while pinned or for a shard no one ever pinned
 */
public record StoredShard(Cid cid, long size, Holding holding, long storedAtMillis, long verifiedAtMillis,
                          List<Pin> pins, long unpinnedAtMillis, byte[] chargedTo) {
    static final int KEY = 32;
    /** Pins one owner can hold on one shard; reaching it makes the pin permanent. */
    static final int MAX_PINS = 1 << 20;
    /** Set in the owner count of the encoding when each owner key is followed by its pin count. */
    private static final int COUNTED = 0x8000;

    /** {@code count} pins of {@code owner} (a 32-byte Ed25519 key). */
    public record Pin(byte[] owner, int count) {}

    public StoredShard {
        pins = List.copyOf(pins);
        if (chargedTo != null && (chargedTo.length != KEY || !pins.isEmpty())) {
            throw new IllegalArgumentException("chargedTo must be a 32-byte key and only set while unpinned, was "
                    + chargedTo.length + " bytes with " + pins.size() + " pins");
        }
    }

    /** A shard no one has pinned. */
    StoredShard(Cid cid, long size, Holding holding, long storedAtMillis, long verifiedAtMillis, List<Pin> pins, long unpinnedAtMillis) {
        this(cid, size, holding, storedAtMillis, verifiedAtMillis, pins, unpinnedAtMillis, null);
    }

    /**
     * The keys charged for this shard's space: those that pin it, or while none does, the key whose
     * last pin went (until the shard is collected).
     */
    List<byte[]> charged() {
        return !pins.isEmpty() ? owners() : chargedTo != null ? List.of(chargedTo) : List.of();
    }

    /** The keys that pin it. */
    public List<byte[]> owners() {
        return pins.stream().map(Pin::owner).toList();
    }

    /** Whether {@code owner} (a 32-byte key) holds a pin on it. */
    public boolean isPinnedBy(byte[] owner) {
        return pins.stream().anyMatch(p -> Arrays.equals(p.owner(), owner));
    }

    /** One more pin of {@code owner}. */
    StoredShard withOwner(byte[] owner) {
        List<Pin> o = new ArrayList<>();
        boolean found = false;
        for (Pin p : pins) {
            if (Arrays.equals(p.owner(), owner)) {
                o.add(new Pin(p.owner(), Math.min(MAX_PINS, p.count() + 1)));
                found = true;
            } else {
                o.add(p);
            }
        }
        if (!found) {
            o.add(new Pin(owner.clone(), 1));
        }
        return new StoredShard(cid, size, holding, storedAtMillis, verifiedAtMillis, o, 0, null);
    }

    /** One pin of {@code owner} fewer. */
    StoredShard withoutOwner(byte[] owner, long now) {
        List<Pin> o = new ArrayList<>();
        for (Pin p : pins) {
            if (!Arrays.equals(p.owner(), owner) || p.count() >= MAX_PINS) {
                o.add(p);
            } else if (p.count() > 1) {
                o.add(new Pin(p.owner(), p.count() - 1));
            }
        }
        return new StoredShard(cid, size, holding, storedAtMillis, verifiedAtMillis, o,
                o.isEmpty() ? (unpinnedAtMillis == 0 ? now : unpinnedAtMillis) : 0,
                o.isEmpty() ? (pins.isEmpty() ? chargedTo : owner.clone()) : null);
    }

    /** Every pin of {@code owner} gone, whatever its count. */
    StoredShard withoutAllPinsOf(byte[] owner, long now) {
        List<Pin> o = new ArrayList<>();
        for (Pin p : pins) {
            if (!Arrays.equals(p.owner(), owner)) {
                o.add(p);
            }
        }
        return new StoredShard(cid, size, holding, storedAtMillis, verifiedAtMillis, o,
                o.isEmpty() ? (unpinnedAtMillis == 0 ? now : unpinnedAtMillis) : 0,
                o.isEmpty() ? (pins.isEmpty() ? chargedTo : owner.clone()) : null);
    }

    StoredShard verifiedAt(long now) {
        return new StoredShard(cid, size, holding, storedAtMillis, now, pins, unpinnedAtMillis, chargedTo);
    }

    byte[] encode() {
        if (pins.size() >= COUNTED) {
            throw new IllegalStateException("too many owners pin " + cid);
        }
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 8 + 8 + 2 + pins.size() * (KEY + 4) + (chargedTo == null ? 0 : KEY));
        b.put(holding.tag()).putLong(size).putLong(storedAtMillis).putLong(verifiedAtMillis).putLong(unpinnedAtMillis);
        b.putShort((short) (pins.size() | COUNTED));
        for (Pin p : pins) {
            b.put(p.owner()).putInt(p.count());
        }
        if (chargedTo != null) {
            b.put(chargedTo); // after the pins: entries written before it existed simply end there
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
        int n = b.getShort() & 0xffff;
        boolean counted = (n & COUNTED) != 0; // entries written before pins were counted hold one pin each
        n &= ~COUNTED;
        List<Pin> pins = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] o = new byte[KEY];
            b.get(o);
            pins.add(new Pin(o, counted ? b.getInt() : 1));
        }
        byte[] charged = null;
        if (pins.isEmpty() && b.remaining() >= KEY) {
            charged = new byte[KEY];
            b.get(charged);
        }
        return new StoredShard(cid, size, new Holding.Raw(), stored, verified, pins, unpinned, charged);
    }
}
