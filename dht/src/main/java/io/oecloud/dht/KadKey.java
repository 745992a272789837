package io.oecloud.dht;

import java.util.Arrays;

/**
 * A position in the Kademlia XOR space: SHA-256 of the key bytes, as the libp2p kad-dht spec
 * says (for a peer, of its peer ID multihash; for a provider key, of the multihash; for a record,
 * of the record key).
 */
record KadKey(byte[] bytes) {
    static final int BITS = 256;

    static KadKey of(byte[] key) {
        return new KadKey(Crypto.sha256(key));
    }

    static KadKey of(PeerId peer) {
        return of(peer.bytesUnsafe());
    }

    /** Leading bits this key shares with {@code o} (256 when equal). */
    int commonPrefixLength(KadKey o) {
        for (int i = 0; i < 32; i++) {
            int x = (bytes[i] ^ o.bytes[i]) & 0xff;
            if (x != 0) {
                return i * 8 + Integer.numberOfLeadingZeros(x) - 24;
            }
        }
        return BITS;
    }

    /** Compares the XOR distances of {@code a} and {@code b} to this key. */
    int compareDistance(KadKey a, KadKey b) {
        for (int i = 0; i < 32; i++) {
            int da = (a.bytes[i] ^ bytes[i]) & 0xff;
            int db = (b.bytes[i] ^ bytes[i]) & 0xff;
            if (da != db) {
                return Integer.compare(da, db);
            }
        }
        return 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KadKey k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
