package io.oecloud.node.object;

import io.oecloud.dht.Host;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.Provider;
import io.oecloud.proofs.Cid;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The DHT's provider records of a block: every holder announces what it stores, so a block can be
 * found after repair moved it away from the holders its manifest lists. A second source, never
 * trusted: a provider record outlives a wiped disk, so what it names is asked, and checked.
 */
final class Providers {
    /** The DHT's provider lookup ({@link KadDht#findProviders}): any source of provider records will do. */
    @FunctionalInterface
    interface Lookup {
        CompletableFuture<List<Provider>> find(byte[] multihash, int max);
    }

    private final Lookup lookup;
    private final Consumer<Provider> addresses;

    /**
     * @param addresses keeps a provider's addresses for the next transfer (the host's peer store)
     */
    Providers(Lookup lookup, Consumer<Provider> addresses) {
        this.lookup = lookup;
        this.addresses = addresses;
    }

    /** The providers {@code dht} knows; their addresses go to {@code host}'s peer store. */
    static Providers of(KadDht dht, Host host) {
        return new Providers(dht::findProviders, p -> host.peerStore().addAddrs(p.peer(), p.addrs()));
    }

    /** Up to {@code max} providers of {@code cid}, with their addresses. */
    CompletableFuture<List<Provider>> find(Cid cid, int max) {
        return lookup.find(cid.multihash(), max);
    }

    /** Keeps a provider's addresses, so the next transfer can dial it. */
    void remember(Provider p) {
        addresses.accept(p);
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
}
