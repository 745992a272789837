package io.oecloud.benchmarks;

import io.oecloud.erasure.ReedSolomon;
import java.util.Arrays;
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
 * What decoding one degraded segment costs with a codec built for it (storage-node did this until
 * 2026-12: a new {@code ReedSolomon} per segment, so its decode plan was computed every time)
 * against one codec kept per RS(k, m), as storage-node's {@code object.Codecs} does now. Data
 * shard 0 is missing and rebuilt from the others; the vector backend, byte[] shards, one thread.
 *
 * <p>Run: {@code benchmarks/run.sh codec}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CodecReuseBenchmark {
    @Param({"4+2", "10+4"})
    public String code;

    /** 4 KiB: small objects' shards; 2 MiB: an 8 MiB segment's shards under RS(4, 2). */
    @Param({"4096", "2097152"})
    public int shardSize;

    private int k;
    private int m;
    private ReedSolomon kept;
    private byte[][] shards;
    private byte[] original;
    private boolean[] present;

    @Setup
    public void setup() {
        String[] km = code.split("\\+");
        k = Integer.parseInt(km[0]);
        m = Integer.parseInt(km[1]);
        kept = ReedSolomon.of(k, m);
        Random rnd = new Random(42);
        shards = new byte[k + m][shardSize];
        for (int i = 0; i < k; i++) {
            rnd.nextBytes(shards[i]);
        }
        kept.encode(shards, 0, shardSize);
        original = shards[0].clone();
        present = new boolean[k + m];
        Arrays.fill(present, true);
        present[0] = false;
    }

    @Benchmark
    public byte[] keptCodec() {
        kept.reconstruct(shards, present, 0, shardSize);
        return shards[0];
    }

    @Benchmark
    public byte[] codecPerSegment() {
        ReedSolomon.of(k, m).reconstruct(shards, present, 0, shardSize);
        return shards[0];
    }
}
