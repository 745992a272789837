package io.oecloud.node.object;

import io.oecloud.dht.Host;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.proofs.Cid;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The DHT's provider records of a block: every holder announces what it stores, so a block can be
 * found after repair moved it away from the holders its manifest lists. A second source, never
 * trusted: a provider record outlives a wiped disk, so what it names is asked, and checked.
 */
final class Providers {
    private final KadDht dht;
    private final Host host;

    Providers(KadDht dht, Host host) {
        this.dht = dht;
        this.host = host;
    }

    /** Up to {@code max} providers of {@code cid}, with their addresses. */
    CompletableFuture<List<Provider>> find(Cid cid, int max) {
        return dht.findProviders(multihash(cid), max);
    }

    /** Keeps a provider's addresses, so the next transfer can dial it. */
    void remember(Provider p) {
        host.peerStore().addAddrs(p.peer(), p.addrs());
    }

    /** Up to {@code max} providers of {@code cid}, best effort: none when the lookup fails or takes over 30 s. */
    List<PeerId> known(Cid cid, int max) {
        try {
            return find(cid, max).get(30, TimeUnit.SECONDS).stream().map(Provider::peer).toList();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } catch (Exception e) {
            return List.of();
        }
    }

    /** The multihash inside a CID (what the DHT keys provider records by): the bytes after its version and codec varints. */
    static byte[] multihash(Cid cid) {
        byte[] b = cid.toBytes();
        int at = 1;
        while ((b[at] & 0x80) != 0) {
            at++;
        }
        return Arrays.copyOfRange(b, at + 1, b.length);
    }
}
