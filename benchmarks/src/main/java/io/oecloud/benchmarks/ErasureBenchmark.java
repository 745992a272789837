package io.oecloud.benchmarks;

import io.oecloud.erasure.ErasureBackend;
import io.oecloud.erasure.ReedSolomon;
import java.nio.ByteBuffer;
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
 * Reed-Solomon encode and reconstruct throughput, one thread.
 *
 * <p>Workload: k data shards of {@code shardSize} random bytes; {@code encode} computes the m
 * parity shards; {@code reconstruct} rebuilds data shards 0 and 1 from the rest (the decode plan
 * is cached after the first call, as in steady state). {@code memory=heap} codes byte[] shards,
 * {@code memory=direct} direct ByteBuffers (what ISA-L takes without staging). Throughput in data
 * bytes per second = ops/s x k x shardSize; benchmarks/run.sh prints it as GB/s.
 *
 * <p>Run: {@code benchmarks/run.sh erasure}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ErasureBenchmark {
    @Param({"4+2", "10+4", "17+3"})
    public String code;

    @Param({"65536", "1048576"})
    public int shardSize;

    @Param({"vector", "scalar", "isal"})
    public String backend;

    @Param({"heap", "direct"})
    public String memory;

    private ReedSolomon rs;
    private byte[][] shards;
    private ByteBuffer[] buffers;
    private boolean[] present;

    @Setup
    public void setup() {
        String[] km = code.split("\\+");
        int k = Integer.parseInt(km[0]);
        int m = Integer.parseInt(km[1]);
        rs = ReedSolomon.of(k, m, ErasureBackend.parse(backend));
        Random rnd = new Random(42);
        shards = new byte[k + m][shardSize];
        buffers = new ByteBuffer[k + m];
        for (int i = 0; i < k + m; i++) {
            rnd.nextBytes(shards[i]);
            buffers[i] = ByteBuffer.allocateDirect(shardSize).put(0, shards[i]);
        }
        rs.encode(shards, 0, shardSize);
        rs.encode(buffers, 0, shardSize);
        present = new boolean[k + m];
        java.util.Arrays.fill(present, true);
        present[0] = false;
        present[1] = false;
    }

    @Benchmark
    public Object encode() {
        if (memory.equals("heap")) {
            rs.encode(shards, 0, shardSize);
            return shards;
        }
        rs.encode(buffers, 0, shardSize);
        return buffers;
    }

    @Benchmark
    public Object reconstructTwoData() {
        if (memory.equals("heap")) {
            rs.reconstruct(shards, present, 0, shardSize);
            return shards;
        }
        rs.reconstruct(buffers, present, 0, shardSize);
        return buffers;
    }
}
