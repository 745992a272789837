package io.oecloud.benchmarks;

import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.digests.Blake3Digest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Hashing throughput, one thread: SHA-256 (JDK, SHA-NI) and BLAKE3 (ours, Vector API; Bouncy
 * Castle's for reference) over 1 MiB, and the CID of an 8 MiB segment (the default segment size)
 * with each function.
 *
 * <p>Run: {@code benchmarks/run.sh hash}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HashBenchmark {
    static final int MIB = 1 << 20;

    private byte[] mib;
    private byte[] segment;
    private MessageDigest sha256;
    private Blake3 blake3;
    private Blake3Digest bcBlake3;
    private final byte[] out = new byte[32];

    @Setup
    public void setup() throws Exception {
        Random rnd = new Random(1);
        mib = new byte[MIB];
        segment = new byte[8 * MIB];
        rnd.nextBytes(mib);
        rnd.nextBytes(segment);
        sha256 = MessageDigest.getInstance("SHA-256");
        blake3 = new Blake3();
        bcBlake3 = new Blake3Digest(256);
    }

    @Benchmark
    public byte[] sha256_1MiB() {
        sha256.update(mib);
        return sha256.digest();
    }

    @Benchmark
    public byte[] blake3_1MiB() {
        blake3.reset();
        blake3.update(mib, 0, MIB);
        return blake3.digest();
    }

    @Benchmark
    public byte[] blake3BouncyCastle_1MiB() {
        bcBlake3.update(mib, 0, MIB);
        bcBlake3.doFinal(out, 0);
        return out;
    }

    @Benchmark
    public Cid cidBlake3_8MiB() {
        return Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, segment);
    }

    @Benchmark
    public Cid cidSha256_8MiB() {
        return Cid.compute(ContentCodec.RAW, HashFunction.SHA2_256, segment);
    }
}
