package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.erasure.ErasureBackend;
import io.oecloud.erasure.ReedSolomon;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The data model's first steps across modules: an 8 MiB segment becomes k + m shards of
 * ceil(S / k) bytes, each named by its BLAKE3 CID; any m lost shards come back byte-identical,
 * checked against those CIDs, whichever backend encoded and whichever decodes.
 */
class SegmentShardsTest {
    static final int SEGMENT = 8 << 20;

    static byte[][] shardsOf(byte[] segment, int k, int m) {
        int shardSize = (segment.length + k - 1) / k;
        byte[][] shards = new byte[k + m][shardSize];
        for (int i = 0; i < k; i++) {
            int from = i * shardSize;
            int n = Math.max(0, Math.min(shardSize, segment.length - from));
            System.arraycopy(segment, from, shards[i], 0, n); // the last data shard is zero-padded
        }
        return shards;
    }

    @Test
    void segment_encodedByOneBackend_isRebuiltByEveryOther_andMatchesItsCids() {
        byte[] segment = new byte[SEGMENT - 12345]; // a last, shorter segment
        new Random(8).nextBytes(segment);
        List<ErasureBackend> backends = Arrays.stream(ErasureBackend.values()).filter(ErasureBackend::isAvailable).toList();
        for (int[] km : new int[][] {{4, 2}, {10, 4}}) {
            int k = km[0], m = km[1];
            List<Cid> reference = null;
            for (ErasureBackend encoder : backends) {
                byte[][] shards = shardsOf(segment, k, m);
                ReedSolomon.of(k, m, encoder).encode(shards, 0, shards[0].length);
                List<Cid> cids = new ArrayList<>();
                for (byte[] s : shards) {
                    cids.add(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, s));
                }
                if (reference == null) {
                    reference = cids;
                }
                assertEquals(reference, cids, "shard CIDs from " + encoder);

                for (ErasureBackend decoder : backends) {
                    Random rnd = new Random(encoder.ordinal() * 31 + decoder.ordinal());
                    boolean[] present = new boolean[k + m];
                    Arrays.fill(present, true);
                    byte[][] damaged = new byte[k + m][];
                    for (int i = 0; i < k + m; i++) {
                        damaged[i] = shards[i].clone();
                    }
                    for (int lost = 0; lost < m; ) {
                        int i = rnd.nextInt(k + m);
                        if (present[i]) {
                            present[i] = false;
                            Arrays.fill(damaged[i], (byte) 0);
                            lost++;
                        }
                    }
                    ReedSolomon.of(k, m, decoder).reconstruct(damaged, present, 0, damaged[0].length);
                    for (int i = 0; i < k + m; i++) {
                        assertTrue(cids.get(i).verify(damaged[i]),
                                "shard " + i + " encoded by " + encoder + ", rebuilt by " + decoder);
                    }
                    byte[] joined = new byte[segment.length];
                    for (int i = 0, at = 0; i < k && at < joined.length; i++) {
                        int n = Math.min(damaged[i].length, joined.length - at);
                        System.arraycopy(damaged[i], 0, joined, at, n);
                        at += n;
                    }
                    assertArrayEquals(segment, joined);
                }
            }
        }
    }
}
