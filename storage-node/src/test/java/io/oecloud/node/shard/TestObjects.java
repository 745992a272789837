package io.oecloud.node.shard;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.pb.ManifestProto.Segment;
import io.oecloud.proofs.pb.ManifestProto.Shard;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A made-up object for receipt and coverage tests: RS(2, 1) segments of 4 KiB (3 shards of 2 KiB
 * each), its manifest signed by its owner as the format says (manifest.proto, field 12), its
 * shards' bytes kept so a test can store some of them.
 */
public final class TestObjects {
    public static final int K = 2;
    public static final int M = 1;
    public static final int SEGMENT = 4096;
    public static final int SHARD = SEGMENT / K;

    /** The object: its manifest block and CID, and each segment's shards (bytes by CID, in order). */
    public record Made(Cid cid, byte[] manifest, List<Cid> shards, List<byte[]> shardBytes) {}

    private TestObjects() {}

    public static Cid raw(byte[] b) {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
    }

    /** An object of {@code segments} full segments, owned (and signed) by {@code owner}. */
    public static Made make(Identity owner, int segments, Random rnd) {
        Manifest.Builder m = Manifest.newBuilder().setSize((long) segments * SEGMENT).setContentType("application/octet-stream")
                .setSegmentSize(SEGMENT).setK(K).setM(M).setOwner(ByteString.copyFrom(owner.publicKey()));
        List<Cid> shards = new ArrayList<>();
        List<byte[]> bytes = new ArrayList<>();
        for (int s = 0; s < segments; s++) {
            Segment.Builder seg = Segment.newBuilder().setSize(SEGMENT);
            ByteArrayOutputStream key = new ByteArrayOutputStream();
            for (int i = 0; i < K + M; i++) {
                byte[] b = new byte[SHARD];
                rnd.nextBytes(b);
                Cid c = raw(b);
                if (i < K) {
                    key.writeBytes(c.toBytes());
                }
                shards.add(c);
                bytes.add(b);
                seg.addShards(Shard.newBuilder().setCid(ByteString.copyFrom(c.toBytes())));
            }
            seg.setCid(ByteString.copyFrom(raw(key.toByteArray()).toBytes()));
            m.addSegments(seg);
        }
        Manifest unsigned = m.build();
        byte[] body = unsigned.toByteArray();
        byte[] domain = "oe-manifest:".getBytes(StandardCharsets.US_ASCII);
        byte[] msg = new byte[domain.length + body.length];
        System.arraycopy(domain, 0, msg, 0, domain.length);
        System.arraycopy(body, 0, msg, domain.length, body.length);
        byte[] block = unsigned.toBuilder().setSignature(ByteString.copyFrom(owner.sign(msg))).build().toByteArray();
        return new Made(Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, block), block, shards, bytes);
    }
}
