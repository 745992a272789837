package io.oecloud.node.object;

import io.oecloud.dht.Deadlines;
import io.oecloud.dht.PeerId;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Who holds what now, by HAS probes (network work, nothing fetched): the health of an object's
 * segments, for the API and for repair, and whether any node could take a shard.
 */
final class Probes {
    /** Nodes asked at most by {@link #anyAnswers}. */
    static final int ANY_ANSWERS = 16;
    /** Segments probed at once by {@link #health}. */
    static final int HEALTH_WINDOW = 8;
    /** Providers asked about for a shard none of its listed holders has. */
    static final int PROVIDERS = 20;

    private final ShardHolders holders;
    private final Providers providers;
    private final ManifestStore manifests;
    private final Executor io;
    private final java.util.function.Supplier<HolderRecords> records;

    /**
     * @param io where the blocking DHT lookups of a probe run
     * @param records the chain's word on holders: a suspect one is not counted whatever it answers
     */
    Probes(ShardHolders holders, Providers providers, ManifestStore manifests, Executor io,
           java.util.function.Supplier<HolderRecords> records) {
        this.holders = holders;
        this.providers = providers;
        this.manifests = manifests;
        this.io = io;
        this.records = records;
    }

    /**
     * Whether {@code peer} holds a good copy of {@code cid}: it answers HAS and the chain does not
     * hold it suspect of that block ({@link HolderRecords#suspect}; then it is not even asked).
     */
    CompletableFuture<Boolean> holds(PeerId peer, Cid cid) {
        if (records.get().suspect(peer, cid)) {
            return CompletableFuture.completedFuture(false);
        }
        return holders.has(peer, cid);
    }

    /**
     * Whether {@code peer} answers HAS for {@code cid} within 30 s, whatever the chain says of it:
     * for repair to see that a node it cannot count (a suspect) already holds a copy it gave it.
     */
    boolean answersHas(PeerId peer, Cid cid) {
        try {
            return holders.has(peer, cid).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /** Providers of {@code cid} the DHT knows, best effort. */
    List<PeerId> providersOf(Cid cid) {
        return providers.known(cid, PROVIDERS);
    }

    /**
     * Whether any of the first {@value #ANY_ANSWERS} of {@code peers} answers a HAS for
     * {@code cid} within 30 s, whatever it says: a node that could take a shard now. Repair asks
     * before it fetches and decodes k shards.
     */
    boolean anyAnswers(List<PeerId> peers, Cid cid) {
        try {
            return holders.anyAnswers(peers.subList(0, Math.min(ANY_ANSWERS, peers.size())), cid).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /**
     * For each shard of the segment, the nodes that answer HAS for a good copy and that the chain
     * does not hold suspect of it: the holders the manifest lists, and, for a shard none of them
     * still has, the DHT's providers (repair moved it).
     * Within 60 s; what did not answer by then counts as not holding.
     */
    List<Set<PeerId>> probe(Segment seg) {
        int n = seg.getShardsCount();
        List<Set<PeerId>> alive = new ArrayList<>();
        List<CompletableFuture<Void>> checks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Shard sh = seg.getShards(i);
            Cid cid = Cid.fromBytes(sh.getCid().toByteArray());
            Set<PeerId> found = ConcurrentHashMap.newKeySet();
            alive.add(found);
            List<PeerId> listed = sh.getHoldersList().stream().map(h -> PeerId.fromBytes(h.toByteArray())).toList();
            checks.add(probeAll(listed, cid, found).thenCompose(v -> found.isEmpty()
                    ? CompletableFuture.supplyAsync(() -> providersOf(cid), io).thenCompose(ps -> probeAll(ps, cid, found))
                    : CompletableFuture.completedFuture(null)));
        }
        Deadlines.orTimeout(CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)), TimeUnit.SECONDS.toMillis(60))
                .exceptionally(e -> null).join();
        return alive;
    }

    private CompletableFuture<Void> probeAll(List<PeerId> peers, Cid cid, Set<PeerId> found) {
        List<CompletableFuture<Boolean>> fs = new ArrayList<>();
        for (PeerId p : peers) {
            fs.add(holds(p, cid).thenApply(ok -> ok && found.add(p)).exceptionally(e -> false));
        }
        return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new));
    }

    /** Probes every shard of the object ({@value #HEALTH_WINDOW} segments at a time). */
    ObjectStore.Health health(Cid cid) throws ObjectException {
        Manifest m = manifests.get(cid);
        List<Integer> counts = new ArrayList<>();
        try (var probes = Executors.newVirtualThreadPerTaskExecutor()) {
            Semaphore window = new Semaphore(HEALTH_WINDOW);
            List<Future<Integer>> fs = new ArrayList<>();
            for (Segment seg : m.getSegmentsList()) {
                fs.add(probes.submit(() -> {
                    window.acquire();
                    try {
                        return (int) probe(seg).stream().filter(s -> !s.isEmpty()).count();
                    } finally {
                        window.release();
                    }
                }));
            }
            for (Future<Integer> f : fs) {
                try {
                    counts.add(Tasks.await(f));
                } catch (IOException e) {
                    throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "health probe failed: " + e.getMessage());
                }
            }
        }
        return new ObjectStore.Health(cid, m.getK(), m.getM(), counts);
    }
}
