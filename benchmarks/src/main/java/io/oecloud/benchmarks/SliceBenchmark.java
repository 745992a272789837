package io.oecloud.benchmarks;

import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.slice.Outboard;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProver;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * BLAKE3 verified slices of an 8 MiB shard (the default segment size), one thread: verifying a
 * one-chunk proof (target 0.5 ms or less); proving one chunk from the outboard and the group(s)
 * it needs against proving it from the whole shard (rehashing every subtree beside the path);
 * building the outboard against one {@code Blake3.hash} of the same 8 MiB. {@code groupChunks}
 * compares outboard granularities: 1 (a stored parent pair per 1 KiB chunk, 6.25 % of the shard,
 * nothing rehashed when proving) against 16 (one per 16 KiB group, 0.39 %, the group's 16 chunks
 * rehashed per proof). Chunks are picked round-robin over the shard so no path stays in cache.
 *
 * <p>Run: {@code benchmarks/run.sh slice}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SliceBenchmark {
    static final int SHARD = 8 << 20;
    static final int CHUNKS = SHARD / 1024;

    @Param({"1", "16"})
    public int groupChunks;

    private byte[] shard;
    private MemorySegment shardSegment;
    private byte[] root;
    private Outboard outboard;
    private SliceProof[] proofs;
    private int next;

    @Setup
    public void setup() {
        shard = new byte[SHARD];
        new Random(24).nextBytes(shard);
        shardSegment = MemorySegment.ofArray(shard);
        root = Blake3.hash(shard);
        outboard = Outboard.build(shard, groupChunks);
        proofs = new SliceProof[64];
        for (int i = 0; i < proofs.length; i++) {
            proofs[i] = SliceProver.prove(shard, chunk(i), 1);
        }
    }

    private static long chunk(int i) {
        return (i * 2654435761L) % CHUNKS;
    }

    @Benchmark
    public SliceProof verifyOneChunk() {
        SliceProof p = proofs[next++ & 63];
        p.verify(root, SHARD);
        return p;
    }

    @Benchmark
    public SliceProof proveOneChunkFromOutboard() {
        long c = chunk(next++ & 1023);
        Outboard.DataRange r = outboard.dataRange(c, 1);
        return SliceProver.prove(outboard, shardSegment.asSlice(r.offset(), r.length()), c, 1);
    }

    @Benchmark
    public SliceProof proveOneChunkFromContent() {
        return SliceProver.prove(shardSegment, chunk(next++ & 1023), 1);
    }

    @Benchmark
    public Outboard buildOutboard() {
        return Outboard.build(shardSegment, groupChunks);
    }

    @Benchmark
    public byte[] blake3Hash() {
        return Blake3.hash(shard);
    }
}
