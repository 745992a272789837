package io.oecloud.edge;

import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * An object as the edge knows it: its manifest, checked against the CID it was asked for and for
 * the few facts the edge computes with (sizes that add up, RS parameters and shard sizes in range,
 * BLAKE3 shard CIDs, sorted directory entries). The origin's own checks are not relied on: the
 * bytes hash to the CID, so they are what the uploader made, and a hostile uploader's manifest
 * must not make the edge allocate or loop without bound either.
 */
public final class EdgeObject {
    /** Largest manifest the edge takes (a directory of 100,000 entries is a few MiB). */
    public static final int MAX_MANIFEST_BYTES = 32 << 20;
    /** Largest shard the edge computes with (the network's limit is 32 MiB). */
    static final long MAX_SHARD = 64L << 20;

    private final Cid cid;
    private final Manifest manifest;
    private final int bytes;
    /** Object offset at which each segment starts, plus the size at the end. */
    private final long[] starts;

    private EdgeObject(Cid cid, Manifest manifest, int bytes) {
        this.cid = cid;
        this.manifest = manifest;
        this.bytes = bytes;
        this.starts = new long[manifest.getSegmentsCount() + 1];
        for (int i = 0; i < manifest.getSegmentsCount(); i++) {
            starts[i + 1] = starts[i] + manifest.getSegments(i).getSize();
        }
    }

    /**
     * The object {@code cid} from its manifest's bytes, as an origin gave them.
     *
     * @throws EdgeException BAD_REQUEST when {@code cid} names no manifest; BAD_ORIGIN when the
     *     bytes are not the ones {@code cid} names or do not make a manifest the edge can serve
     */
    public static EdgeObject of(Cid cid, byte[] block) throws EdgeException {
        if (cid.codec() != ContentCodec.MANIFEST) {
            throw new EdgeException(EdgeException.Kind.BAD_REQUEST, "CID " + cid + " names " + cid.codec()
                    + " bytes, not an object: the edge serves objects (their manifest CIDs, as `oe put` prints them)");
        }
        if (block.length > MAX_MANIFEST_BYTES) {
            throw bad(cid, "is " + block.length + " bytes, over the edge's " + MAX_MANIFEST_BYTES);
        }
        if (!cid.verify(block)) {
            throw new EdgeException(EdgeException.Kind.BAD_ORIGIN, "the origin's manifest for " + cid + " does not hash to its CID");
        }
        Manifest m;
        try {
            m = Manifest.parseFrom(block);
        } catch (InvalidProtocolBufferException e) {
            throw bad(cid, "is not a manifest protobuf");
        }
        check(cid, m);
        return new EdgeObject(cid, m, block.length);
    }

    private static void check(Cid cid, Manifest m) throws EdgeException {
        if (m.getSize() < 0) {
            throw bad(cid, "has a size over 2^63 - 1");
        }
        if (m.getKind() == Kind.DIRECTORY) {
            long sum = 0;
            byte[] last = null;
            for (Entry e : m.getEntriesList()) {
                byte[] name = e.getName().getBytes(StandardCharsets.UTF_8);
                if (last != null && Arrays.compareUnsigned(last, name) >= 0) {
                    throw bad(cid, "has directory entries out of order or repeated at '" + e.getName() + "'");
                }
                last = name;
                if (e.getSize() < 0) {
                    throw bad(cid, "has an entry of over 2^63 - 1 bytes");
                }
                sum += e.getSize();
                if (sum < 0) {
                    throw bad(cid, "has entries summing past 2^63 - 1 bytes");
                }
            }
            if (sum != m.getSize()) {
                throw bad(cid, "has entries of " + sum + " bytes in all, its size says " + m.getSize());
            }
            return;
        }
        if (m.getKind() != Kind.FILE) {
            throw bad(cid, "is of an unknown kind " + m.getKindValue());
        }
        if (!m.getInlineData().isEmpty()) {
            // an encrypted object's inline bytes carry its 16-byte AES-GCM tag (the edge serves none of them)
            if (m.getInlineData().size() != m.getSize() + (m.hasEncryption() ? 16 : 0) || m.getSegmentsCount() > 0) {
                throw bad(cid, "has inline bytes that are not its size or beside segments");
            }
            return;
        }
        long k = Integer.toUnsignedLong(m.getK());
        long parity = Integer.toUnsignedLong(m.getM());
        if (m.getSegmentsCount() > 0 && (k < 1 || k + parity > 256)) {
            throw bad(cid, "has RS(" + k + ", " + parity + ")");
        }
        long total = 0;
        for (int i = 0; i < m.getSegmentsCount(); i++) {
            Segment s = m.getSegments(i);
            if (s.getSize() <= 0 && !(m.getSegmentsCount() == 1 && m.hasEncryption())) {
                throw bad(cid, "has an empty segment " + i);
            }
            if (s.getShardsCount() < k) {
                throw bad(cid, "segment " + i + " has " + s.getShardsCount() + " shards, fewer than k = " + k);
            }
            if (Math.ceilDiv(s.getSize(), k) > MAX_SHARD) {
                throw bad(cid, "segment " + i + " has shards over " + MAX_SHARD + " bytes");
            }
            for (int j = 0; j < k; j++) {
                Cid shard = shardCid(s, j, cid);
                if (shard.function() != HashFunction.BLAKE3 || shard.codec() != ContentCodec.RAW) {
                    throw bad(cid, "segment " + i + " shard " + j + " is not a BLAKE3 raw CID");
                }
            }
            total += s.getSize();
            if (total < 0) {
                throw bad(cid, "has segments summing past 2^63 - 1 bytes");
            }
        }
        if (!m.hasEncryption() && total != m.getSize()) {
            throw bad(cid, "has segments of " + total + " bytes in all, its size says " + m.getSize());
        }
    }

    private static Cid shardCid(Segment s, int j, Cid object) throws EdgeException {
        try {
            return Cid.fromBytes(s.getShards(j).getCid().toByteArray());
        } catch (RuntimeException e) {
            throw bad(object, "has a shard CID that does not parse");
        }
    }

    private static EdgeException bad(Cid cid, String what) {
        return new EdgeException(EdgeException.Kind.BAD_ORIGIN, "the manifest of " + cid + " " + what);
    }

    public Cid cid() {
        return cid;
    }

    /** Object bytes (a directory: the sum of its entries'). */
    public long size() {
        return manifest.getSize();
    }

    /** The type recorded at upload; empty when none was. */
    public String contentType() {
        return manifest.getContentType();
    }

    public boolean directory() {
        return manifest.getKind() == Kind.DIRECTORY;
    }

    /** Encrypted objects are private: the edge never serves them. */
    public boolean encrypted() {
        return manifest.hasEncryption();
    }

    /** The manifest's bytes (what a cache weighs). */
    public int manifestBytes() {
        return bytes;
    }

    /** A directory's entry {@code name} (binary search over the sorted entries), or null. */
    public Entry entry(String name) {
        List<Entry> entries = manifest.getEntriesList();
        byte[] key = name.getBytes(StandardCharsets.UTF_8);
        int lo = 0;
        int hi = entries.size() - 1;
        Comparator<byte[]> order = Arrays::compareUnsigned;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = order.compare(entries.get(mid).getName().getBytes(StandardCharsets.UTF_8), key);
            if (c == 0) {
                return entries.get(mid);
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return null;
    }

    /** A directory's entries, sorted by name bytes. */
    public List<Entry> entries() {
        return manifest.getEntriesList();
    }

    /** The manifest, for the origin's calls. */
    Manifest manifest() {
        return manifest;
    }

    /** Inline bytes (small objects), or null when the object has segments. */
    byte[] inline() {
        return manifest.getInlineData().isEmpty() ? null : manifest.getInlineData().toByteArray();
    }

    int segments() {
        return manifest.getSegmentsCount();
    }

    /** Object offset of segment {@code i}'s first byte ({@code i == segments()}: the size). */
    long segmentStart(int i) {
        return starts[i];
    }

    /** Bytes of each of segment {@code i}'s shards: ceil(segment bytes / k) (public content: no tag). */
    int shardSize(int i) {
        return (int) Math.ceilDiv(manifest.getSegments(i).getSize(), manifest.getK());
    }

    int k() {
        return manifest.getK();
    }

    Cid shard(int segment, int j) {
        return Cid.fromBytes(manifest.getSegments(segment).getShards(j).getCid().toByteArray());
    }

    /** The segment holding object byte {@code offset} (0 <= offset < size). */
    int segmentAt(long offset) {
        int i = Arrays.binarySearch(starts, offset);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    public String toString() {
        return cid + " (" + (directory() ? "directory of " + manifest.getEntriesCount() + " entries" : size() + " bytes") + ")";
    }
}
