package io.oecloud.edge;

import com.google.protobuf.ByteString;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An origin in memory for the edge's tests, holding objects laid out as the storage node lays
 * them out (manifests in the project's format; segments; systematic data shards with BLAKE3 CIDs,
 * the last ones zero-padded). The edge never reads parity, so parity shards are named by CIDs of
 * random bytes. Faults on demand: corrupt answers, refused slices, a delay; calls are counted.
 */
final class MemoryOrigin implements Origin {
    final Map<Cid, byte[]> manifests = new ConcurrentHashMap<>();
    final Map<Cid, byte[]> shards = new ConcurrentHashMap<>();
    final AtomicInteger manifestCalls = new AtomicInteger();
    final AtomicInteger sliceCalls = new AtomicInteger();
    final AtomicInteger shardCalls = new AtomicInteger();
    volatile boolean corrupt;
    volatile boolean refuseSlices;
    volatile long delayMillis;
    private final Random random = new Random(7);
    private final byte[] owner = new byte[32];

    /** A file of {@code bytes} in segments of {@code segmentSize} at RS(k, 2); inline under 64 KiB as the node does. */
    Cid putFile(byte[] bytes, String type, int segmentSize, int k) {
        Manifest.Builder m = Manifest.newBuilder().setSize(bytes.length).setContentType(type).setOwner(ByteString.copyFrom(owner))
                .setKind(Kind.FILE);
        if (bytes.length < 64 << 10) {
            m.setInlineData(ByteString.copyFrom(bytes));
        } else {
            m.setSegmentSize(segmentSize).setK(k).setM(2);
            for (long off = 0; off < bytes.length; off += segmentSize) {
                int size = (int) Math.min(segmentSize, bytes.length - off);
                int shardSize = Math.ceilDiv(size, k);
                Segment.Builder seg = Segment.newBuilder().setSize(size);
                for (int j = 0; j < k + 2; j++) {
                    byte[] shard = new byte[shardSize];
                    if (j < k) {
                        long from = off + (long) j * shardSize;
                        int n = (int) Math.max(0, Math.min(shardSize, off + size - from));
                        System.arraycopy(bytes, (int) from, shard, 0, n);
                    } else {
                        random.nextBytes(shard);
                    }
                    Cid c = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, shard);
                    if (j < k) {
                        shards.put(c, shard);
                    }
                    seg.addShards(Shard.newBuilder().setCid(ByteString.copyFrom(c.toBytes())));
                }
                seg.setCid(ByteString.copyFrom(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, new byte[] {(byte) off}).toBytes()));
                m.addSegments(seg);
            }
        }
        return store(m.build());
    }

    /** A directory of {@code entries} (name to object CID), sorted by name bytes as the node sorts them. */
    Cid putDirectory(Map<String, Cid> entries) {
        List<Map.Entry<String, Cid>> sorted = new ArrayList<>(entries.entrySet());
        sorted.sort(Comparator.comparing(e -> e.getKey().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
        Manifest.Builder m = Manifest.newBuilder().setOwner(ByteString.copyFrom(owner)).setKind(Kind.DIRECTORY)
                .setContentType("inode/directory");
        long size = 0;
        for (Map.Entry<String, Cid> e : sorted) {
            Manifest child = parse(manifests.get(e.getValue()));
            m.addEntries(Entry.newBuilder().setName(e.getKey()).setCid(ByteString.copyFrom(e.getValue().toBytes()))
                    .setSize(child.getSize()).setContentType(child.getContentType()).setKind(child.getKind()));
            size += child.getSize();
        }
        return store(m.setSize(size).build());
    }

    private Cid store(Manifest m) {
        byte[] block = m.toByteArray();
        Cid c = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, block);
        manifests.put(c, block);
        return c;
    }

    private static Manifest parse(byte[] b) {
        try {
            return Manifest.parseFrom(b);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private void pause() {
        if (delayMillis > 0) {
            try {
                Thread.sleep(delayMillis); // an origin's latency: what coalescing is for
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public byte[] manifest(Cid object) throws OriginException {
        manifestCalls.incrementAndGet();
        pause();
        byte[] b = manifests.get(object);
        if (b == null) {
            throw new OriginException(OriginException.Kind.NOT_FOUND, "no node has " + object);
        }
        return b.clone();
    }

    @Override
    public SliceProof slice(Manifest m, int segment, int shard, long firstChunk, int count) throws OriginException {
        sliceCalls.incrementAndGet();
        pause();
        if (refuseSlices) {
            throw new OriginException(OriginException.Kind.UNAVAILABLE, "the holder of the shard is down");
        }
        byte[] content = shards.get(Cid.fromBytes(m.getSegments(segment).getShards(shard).getCid().toByteArray()));
        SliceProof p = SliceProver.prove(content, firstChunk, count);
        if (corrupt) {
            byte[] chunks = p.chunks();
            chunks[chunks.length / 2] ^= 1;
            return new SliceProof(p.contentLength(), p.firstChunk(), p.chunkCount(), chunks, p.siblings());
        }
        return p;
    }

    @Override
    public List<byte[]> dataShards(Manifest m, int segment) throws OriginException {
        shardCalls.incrementAndGet();
        pause();
        List<byte[]> out = new ArrayList<>();
        for (int j = 0; j < m.getK(); j++) {
            byte[] s = shards.get(Cid.fromBytes(m.getSegments(segment).getShards(j).getCid().toByteArray())).clone();
            if (corrupt) {
                s[0] ^= 1;
            }
            out.add(s);
        }
        return out;
    }
}
