package io.oecloud.node.object;

import io.oecloud.dht.Connection;
import io.oecloud.dht.Host;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.PeerStore;
import io.oecloud.node.shard.ShardServer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The nodes that may hold a block, nearest to its key first: this node, and the peers whose
 * identify listed the shard protocol, connected now or not (a transfer dials them, and one that
 * does not answer is {@link Troubled} for a while). Distance is XOR of SHA-256 digests, so every
 * node orders the same peers the same way, and repair finds who acts for a segment without asking.
 */
final class Candidates {
    private final Host host;
    private final Troubled troubled;
    private final java.util.function.Supplier<HolderRecords> records;

    Candidates(Host host, Troubled troubled, java.util.function.Supplier<HolderRecords> records) {
        this.host = host;
        this.troubled = troubled;
        this.records = records;
    }

    /** Every node that stores shards, nearest to {@code key} first. */
    List<PeerId> nearest(byte[] key) {
        Set<PeerId> all = new LinkedHashSet<>();
        all.add(host.peerId());
        for (PeerId p : host.peerStore().peers()) {
            PeerStore.Identified id = host.peerStore().identified(p);
            if (id != null && id.protocols().contains(ShardServer.PROTOCOL_ID)) {
                all.add(p);
            }
        }
        byte[] target = sha256(key);
        List<PeerId> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparing((PeerId p) -> xor(sha256(p.toBytes()), target), Arrays::compareUnsigned));
        return sorted;
    }

    /**
     * The nodes to try for a segment's n shards: by standing on the chain (registered with a clean
     * record, then registered, then the rest: {@link Placement#byStanding}), nearest to
     * {@code key} first within a standing, subnet-diverse among the first n, recently troubled
     * nodes last ({@link Placement#order}).
     */
    List<PeerId> forPlacement(byte[] key, int n) {
        return Placement.order(preferred(nearest(key)), this::subnetOf, troubled::test, n);
    }

    /** {@code peers} by standing on the chain, in their order within one standing. */
    List<PeerId> preferred(List<PeerId> peers) {
        return Placement.byStanding(peers, records.get()::standing);
    }

    /** The records followed now. */
    HolderRecords records() {
        return records.get();
    }

    private String subnetOf(PeerId p) {
        Connection c = host.connection(p); // none to this node itself
        if (c == null || c.remoteAddress() == null || c.remoteAddress().getAddress() == null) {
            return null;
        }
        return Placement.subnetOf(c.remoteAddress().getAddress());
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] r = new byte[a.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (byte) (a[i] ^ b[i]);
        }
        return r;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
