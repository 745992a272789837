package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.dht.Host;
import io.oecloud.dht.Identity;
import io.oecloud.dht.KadDht;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.PeerStore;
import io.oecloud.dht.Provider;
import io.oecloud.erasure.ErasureException;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.node.pb.ManifestProto.Manifest;
import io.oecloud.node.pb.ManifestProto.Segment;
import io.oecloud.node.pb.ManifestProto.Shard;
import io.oecloud.node.shard.ShardClient;
import io.oecloud.node.shard.ShardServer;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Objects over the network: upload splits a stream into segments, erasure-codes each into k + m
 * shards named by BLAKE3 CIDs and places them on k + m distinct nodes; the manifest (itself a
 * block, codec oe-manifest) is stored on several nodes and its CID is the object's. Download reads
 * the manifest, fetches the first k shards of each segment that verify, decodes, checks the
 * segment's CID and streams it out; a range fetches only the segments it touches.
 *
 * <p>Memory: two segments (plus their shards) in flight per upload, coded on virtual threads while
 * the next is read; one per download. Small objects are
 * kept inline in the manifest. Not yet here: encryption, long-tail cancellation and hedged
 * requests (transfers fail over to the next node instead), and read-ahead.
 */
public final class ObjectService {
    /**
     * @param k data shards per segment
     * @param m parity shards per segment
     * @param segmentSize S, bytes per segment (8 MiB by default)
     * @param inlineThreshold objects smaller than this live inside their manifest
     * @param manifestReplicas nodes that hold each manifest
     */
    public record Config(int k, int m, int segmentSize, int inlineThreshold, int manifestReplicas) {
        public Config {
            if (k < 1 || m < 0 || k + m > ReedSolomon.MAX_TOTAL_SHARDS) {
                throw new IllegalArgumentException("RS(" + k + ", " + m + ") is out of range");
            }
            if (segmentSize < k || segmentSize > 64 << 20) {
                throw new IllegalArgumentException("segment size must be from k to 64 MiB, was " + segmentSize);
            }
            if (inlineThreshold < 0 || manifestReplicas < 1) {
                throw new IllegalArgumentException("inlineThreshold >= 0 and manifestReplicas >= 1 required");
            }
        }

        public static Config defaults() {
            return new Config(4, 2, 8 << 20, 64 * 1024, 3);
        }
    }

    private final Host host;
    private final KadDht dht;
    private final ShardStore local;
    private final ShardClient shards;
    private final Identity owner;
    private final Config config;
    private final ExecutorService io;
    private final ReedSolomon rs;
    private final java.util.function.Consumer<Cid> storedLocally;

    /**
     * @param storedLocally called with each block this node stores for an upload (to announce it)
     */
    public ObjectService(Host host, KadDht dht, ShardStore local, ShardClient shards, Identity owner,
                         Config config, ExecutorService io, java.util.function.Consumer<Cid> storedLocally) {
        this.storedLocally = storedLocally;
        this.host = host;
        this.dht = dht;
        this.local = local;
        this.shards = shards;
        this.owner = owner;
        this.config = config;
        this.io = io;
        this.rs = ReedSolomon.of(config.k(), config.m());
    }

    // ---- placement ----

    /** Nodes that store shards (this one, and peers whose identify lists the shard protocol), nearest to {@code key} first. */
    List<PeerId> candidates(byte[] key) {
        Set<PeerId> all = new LinkedHashSet<>();
        all.add(host.peerId());
        for (PeerId p : host.peerStore().peers()) {
            PeerStore.Identified id = host.peerStore().identified(p);
            if (id != null && id.protocols().contains(ShardServer.PROTOCOL_ID) && host.connection(p) != null) {
                all.add(p);
            }
        }
        byte[] target = sha256(key);
        List<PeerId> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparing((PeerId p) -> xor(sha256(p.toBytes()), target), Arrays::compareUnsigned));
        return sorted;
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
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private CompletableFuture<Void> putOn(PeerId peer, Cid cid, byte[] data) {
        if (peer.equals(host.peerId())) {
            return CompletableFuture.runAsync(() -> {
                try {
                    local.put(cid, data, owner.publicKey());
                    storedLocally.accept(cid);
                } catch (StoreException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, io);
        }
        return shards.put(peer, cid, data, owner.publicKey());
    }

    private CompletableFuture<byte[]> getFrom(PeerId peer, Cid cid) {
        if (peer.equals(host.peerId())) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return local.get(cid);
                } catch (StoreException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, io);
        }
        return shards.get(peer, cid);
    }

    /**
     * Places each block on a distinct node, failing over to the next candidate; completes with the
     * holder of each block.
     */
    private List<PeerId> place(List<Cid> cids, List<byte[]> blocks, List<PeerId> candidates) throws ObjectException {
        int n = cids.size();
        PeerId[] holders = new PeerId[n];
        Set<PeerId> used = new HashSet<>();
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            pending.add(i);
        }
        int next = 0;
        while (!pending.isEmpty()) {
            List<CompletableFuture<Boolean>> round = new ArrayList<>();
            List<Integer> tried = new ArrayList<>(pending);
            for (int i : tried) {
                while (next < candidates.size() && used.contains(candidates.get(next))) {
                    next++;
                }
                if (next >= candidates.size()) {
                    throw new ObjectException(ObjectException.Code.PLACEMENT_FAILED, "could place only "
                            + (n - pending.size()) + " of " + n + " shards: " + candidates.size() + " nodes known");
                }
                PeerId p = candidates.get(next++);
                used.add(p);
                int idx = i;
                round.add(putOn(p, cids.get(i), blocks.get(i)).handle((ok, e) -> {
                    if (e == null) {
                        holders[idx] = p;
                    }
                    return e == null;
                }));
            }
            CompletableFuture.allOf(round.toArray(CompletableFuture[]::new)).join();
            pending.removeIf(i -> holders[i] != null);
        }
        return Arrays.asList(holders);
    }

    // ---- upload ----

    /** Reads {@code in} to its end and stores it; returns the object's CID (its manifest's). */
    public Cid upload(InputStream in, String contentType) throws IOException, ObjectException {
        Manifest.Builder mb = Manifest.newBuilder().setContentType(contentType == null ? "application/octet-stream" : contentType)
                .setSegmentSize(config.segmentSize()).setK(config.k()).setM(config.m())
                .setOwner(ByteString.copyFrom(owner.publicKey()));
        byte[] segment = new byte[config.segmentSize()];
        long total = 0;
        int first = in.readNBytes(segment, 0, segment.length);
        if (first < config.inlineThreshold()) {
            mb.setSize(first).setInlineData(ByteString.copyFrom(segment, 0, first));
            return storeManifest(mb.build());
        }
        // Segments are coded and placed on virtual threads while the next one is read: at most
        // PIPELINE segments (and their shards) in memory at once.
        java.util.ArrayDeque<java.util.concurrent.Future<Segment>> inflight = new java.util.ArrayDeque<>();
        try (var segments = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            int len = first;
            byte[] current = segment;
            while (len > 0) {
                if (inflight.size() >= PIPELINE) {
                    mb.addSegments(await(inflight.poll()));
                }
                byte[] data = current;
                int n = len;
                inflight.add(segments.submit(() -> uploadSegment(data, n)));
                total += len;
                current = new byte[config.segmentSize()];
                len = in.readNBytes(current, 0, current.length);
            }
            while (!inflight.isEmpty()) {
                mb.addSegments(await(inflight.poll()));
            }
        } finally {
            inflight.forEach(f -> f.cancel(true));
        }
        return storeManifest(mb.setSize(total).build());
    }

    /** Segments coded and in transit at once during one upload. */
    static final int PIPELINE = 2;

    private static Segment await(java.util.concurrent.Future<Segment> f) throws ObjectException, IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof ObjectException oe) {
                throw oe;
            }
            throw new IOException(e.getCause());
        }
    }

    private Segment uploadSegment(byte[] data, int len) throws ObjectException {
        int k = config.k();
        int n = k + config.m();
        int shardSize = (len + k - 1) / k;
        byte[][] s = new byte[n][shardSize];
        for (int i = 0; i < k; i++) {
            int from = i * shardSize;
            int c = Math.max(0, Math.min(shardSize, len - from));
            System.arraycopy(data, from, s[i], 0, c);
        }
        rs.encode(s, 0, shardSize);
        List<Cid> cids = new ArrayList<>();
        for (byte[] shard : s) {
            cids.add(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, shard));
        }
        Cid segCid = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, Arrays.copyOf(data, len));
        List<PeerId> holders = place(cids, Arrays.asList(s), candidates(segCid.toBytes()));
        Segment.Builder sb = Segment.newBuilder().setSize(len).setCid(ByteString.copyFrom(segCid.toBytes()));
        for (int i = 0; i < n; i++) {
            sb.addShards(Shard.newBuilder().setCid(ByteString.copyFrom(cids.get(i).toBytes()))
                    .addHolders(ByteString.copyFrom(holders.get(i).toBytes())));
        }
        return sb.build();
    }

    private Cid storeManifest(Manifest m) throws ObjectException {
        byte[] bytes = m.toByteArray();
        Cid cid = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, bytes);
        List<PeerId> cands = new ArrayList<>(candidates(cid.toBytes()));
        cands.remove(host.peerId());
        cands.add(0, host.peerId()); // the uploading node keeps a copy of what it was given
        int r = Math.min(config.manifestReplicas(), cands.size());
        List<Cid> cids = new ArrayList<>();
        List<byte[]> blocks = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            cids.add(cid);
            blocks.add(bytes);
        }
        place(cids, blocks, cands);
        return cid;
    }

    // ---- download ----

    /** The object's manifest: from this node's store, else from providers found in the DHT. */
    public Manifest manifest(Cid cid) throws ObjectException {
        if (cid.codec() != ContentCodec.MANIFEST) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, cid + " is not an object CID (codec " + cid.codec().label() + ")");
        }
        byte[] bytes = null;
        try {
            if (local.metadata(cid) != null) {
                bytes = local.get(cid);
            }
        } catch (StoreException e) {
            bytes = null;
        }
        if (bytes == null) {
            List<PeerId> sources = new ArrayList<>(candidates(cid.toBytes()));
            try {
                for (Provider p : dht.findProviders(multihash(cid), 10).get(30, TimeUnit.SECONDS)) {
                    if (!sources.contains(p.peer())) {
                        host.peerStore().addAddrs(p.peer(), p.addrs());
                        sources.add(p.peer());
                    }
                }
            } catch (Exception e) {
                // the DHT is a second source; the nodes we know came first
            }
            for (PeerId p : sources) {
                if (p.equals(host.peerId())) {
                    continue;
                }
                try {
                    bytes = shards.get(p, cid).get(30, TimeUnit.SECONDS);
                    break;
                } catch (Exception e) {
                    // next source
                }
            }
        }
        if (bytes == null) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "no node has the manifest of " + cid);
        }
        try {
            return Manifest.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new ObjectException(ObjectException.Code.CORRUPT, "manifest of " + cid + " is malformed");
        }
    }

    /**
     * Removes this node's pins from every shard of the object and from its manifest copies; the
     * holders collect them after their grace period.
     *
     * @return how many pins were removed
     * @throws ObjectException NOT_FOUND for an unknown object; PLACEMENT_FAILED (403 at the API)
     *     when this node's key is not the object's owner
     */
    public int unpin(Cid cid) throws ObjectException {
        Manifest m = manifest(cid);
        if (!Arrays.equals(m.getOwner().toByteArray(), owner.publicKey())) {
            throw new ObjectException(ObjectException.Code.NOT_OWNER, cid + " was not uploaded by this node's key");
        }
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        for (Segment seg : m.getSegmentsList()) {
            for (Shard sh : seg.getShardsList()) {
                Cid c = Cid.fromBytes(sh.getCid().toByteArray());
                for (ByteString h : sh.getHoldersList()) {
                    all.add(unpinAt(PeerId.fromBytes(h.toByteArray()), c));
                }
            }
        }
        Set<PeerId> manifestHolders = new LinkedHashSet<>(candidates(cid.toBytes()));
        try {
            for (Provider p : dht.findProviders(multihash(cid), 20).get(30, TimeUnit.SECONDS)) {
                manifestHolders.add(p.peer());
            }
        } catch (Exception e) {
            // the known nodes were asked anyway
        }
        for (PeerId p : manifestHolders) {
            all.add(unpinAt(p, cid));
        }
        int n = 0;
        for (CompletableFuture<Boolean> f : all) {
            n += f.join() ? 1 : 0;
        }
        return n;
    }

    private CompletableFuture<Boolean> unpinAt(PeerId peer, Cid cid) {
        if (peer.equals(host.peerId())) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return local.unpin(cid, owner.publicKey());
                } catch (StoreException e) {
                    return false;
                }
            }, io);
        }
        return shards.unpin(peer, cid, owner).handle((ok, e) -> e == null);
    }

    static byte[] multihash(Cid cid) {
        byte[] b = cid.toBytes();
        int at = 1;
        while ((b[at] & 0x80) != 0) {
            at++;
        }
        return Arrays.copyOfRange(b, at + 1, b.length);
    }

    /** Writes bytes [from, to) of the object to {@code out}, fetching only the segments they touch. */
    public void download(Manifest m, long from, long to, OutputStream out) throws IOException, ObjectException {
        if (from < 0 || to > m.getSize() || from > to) {
            throw new ObjectException(ObjectException.Code.BAD_RANGE, "range " + from + "-" + to
                    + " is outside the object of " + m.getSize() + " bytes");
        }
        if (!m.getInlineData().isEmpty() || m.getSegmentsCount() == 0) {
            out.write(m.getInlineData().toByteArray(), (int) from, (int) (to - from));
            return;
        }
        long segStart = 0;
        for (Segment seg : m.getSegmentsList()) {
            long segEnd = segStart + seg.getSize();
            if (segEnd > from && segStart < to) {
                byte[] data = fetchSegment(m, seg);
                int a = (int) Math.max(0, from - segStart);
                int b = (int) Math.min(seg.getSize(), to - segStart);
                out.write(data, a, b - a);
            }
            segStart = segEnd;
            if (segStart >= to) {
                break;
            }
        }
    }

    private byte[] fetchSegment(Manifest m, Segment seg) throws ObjectException {
        int k = m.getK();
        int n = k + m.getM();
        int shardSize = (int) ((seg.getSize() + k - 1) / k);
        byte[][] s = new byte[n][];
        boolean[] present = new boolean[n];
        int next = 0;
        int got = 0;
        // Data shards first: with all of them no decoding is needed. Fetch k at a time, then fill gaps.
        while (got < k && next < n) {
            List<Integer> batch = new ArrayList<>();
            while (batch.size() < k - got && next < n) {
                batch.add(next++);
            }
            List<CompletableFuture<byte[]>> fs = new ArrayList<>();
            for (int i : batch) {
                fs.add(fetchShard(seg.getShards(i)));
            }
            for (int j = 0; j < batch.size(); j++) {
                try {
                    s[batch.get(j)] = fs.get(j).get(60, TimeUnit.SECONDS);
                    present[batch.get(j)] = true;
                    got++;
                } catch (Exception e) {
                    // unreachable or corrupt: the next shard takes its place
                }
            }
        }
        if (got < k) {
            throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, "segment " + Cid.fromBytes(seg.getCid().toByteArray())
                    + ": " + got + " of its shards were found, " + k + " are needed");
        }
        for (int i = 0; i < n; i++) {
            if (!present[i]) {
                s[i] = new byte[shardSize];
            }
        }
        try {
            ReedSolomon.of(k, m.getM()).reconstruct(s, present, 0, shardSize);
        } catch (ErasureException e) {
            throw new ObjectException(ObjectException.Code.NOT_ENOUGH_SHARDS, e.getMessage());
        }
        byte[] data = new byte[(int) seg.getSize()];
        for (int i = 0, at = 0; i < k && at < data.length; i++) {
            int c = Math.min(shardSize, data.length - at);
            System.arraycopy(s[i], 0, data, at, c);
            at += c;
        }
        Cid segCid = Cid.fromBytes(seg.getCid().toByteArray());
        if (!segCid.verify(data)) {
            throw new ObjectException(ObjectException.Code.CORRUPT, "segment " + segCid + " decoded to the wrong bytes");
        }
        return data;
    }

    /**
     * The shard from its first holder that answers with bytes matching its CID: the holders the
     * manifest lists, then the providers the DHT knows (repair moves shards to new nodes).
     */
    CompletableFuture<byte[]> fetchShard(Shard shard) {
        Cid cid = Cid.fromBytes(shard.getCid().toByteArray());
        Set<PeerId> tried = new HashSet<>();
        CompletableFuture<byte[]> f = CompletableFuture.failedFuture(new IOException("no holder of " + cid));
        for (ByteString h : shard.getHoldersList()) {
            PeerId p = PeerId.fromBytes(h.toByteArray());
            tried.add(p);
            f = f.exceptionallyCompose(e -> getFrom(p, cid));
        }
        return f.exceptionallyCompose(e -> fromProviders(cid, tried));
    }

    private CompletableFuture<byte[]> fromProviders(Cid cid, Set<PeerId> tried) {
        return dht.findProviders(multihash(cid), 8).thenCompose(providers -> {
            CompletableFuture<byte[]> f = CompletableFuture.failedFuture(
                    new IOException("no reachable holder of " + cid + " (asked the DHT too)"));
            for (Provider p : providers) {
                if (tried.add(p.peer())) {
                    host.peerStore().addAddrs(p.peer(), p.addrs());
                    f = f.exceptionallyCompose(e -> getFrom(p.peer(), cid));
                }
            }
            return f;
        });
    }

    /** Whether {@code peer} holds a good copy of {@code cid} (HAS probe; local store for this node). */
    CompletableFuture<Boolean> holds(PeerId peer, Cid cid) {
        if (peer.equals(host.peerId())) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return local.has(cid);
                } catch (StoreException e) {
                    return false;
                }
            }, io);
        }
        return shards.has(peer, cid).handle((size, e) -> e == null && size >= 0);
    }

    /** Providers of {@code cid} the DHT knows, best effort. */
    List<PeerId> providersOf(Cid cid) {
        try {
            return dht.findProviders(multihash(cid), 20).get(30, TimeUnit.SECONDS).stream().map(Provider::peer).toList();
        } catch (Exception e) {
            return List.of();
        }
    }

    /** Stores {@code block} on one node from {@code candidates} not in {@code avoid}, pinned by {@code pinOwner}. */
    PeerId placeOne(Cid cid, byte[] block, List<PeerId> candidates, Set<PeerId> avoid, byte[] pinOwner) {
        for (PeerId p : candidates) {
            if (avoid.contains(p)) {
                continue;
            }
            try {
                if (p.equals(host.peerId())) {
                    local.put(cid, block, pinOwner);
                    storedLocally.accept(cid);
                } else {
                    shards.put(p, cid, block, pinOwner).get(60, TimeUnit.SECONDS);
                }
                return p;
            } catch (Exception e) {
                avoid.add(p); // unreachable or full: the next one
            }
        }
        return null;
    }

    PeerId self() {
        return host.peerId();
    }

    ShardStore localStore() {
        return local;
    }
}
