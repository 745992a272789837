package io.oecloud.benchmarks;

import io.oecloud.chain.beacon.Beacon;
import io.oecloud.chain.beacon.Bls;
import java.util.ArrayList;
import java.util.List;
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
 * The chain's beacon per block, one thread (blst through jblst): a validator's contribution (one
 * BLS signature: hash to G2, one scalar multiplication), one extension's check (what each
 * validator does for each other's vote), and the block entry's check that ProcessProposal and
 * FinalizeBlock each run: decode, the bitmap's power, the sum of the signers' keys and one
 * pairing check ({@link Beacon#verify}), for 4 and 21 validators.
 *
 * <p>Run: {@code java -cp "benchmarks/target/oe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*"
 * org.openjdk.jmh.Main BeaconBenchmark} after {@code benchmarks/run.sh}'s build (mvn -pl
 * benchmarks -am package).
 *
 * <p>2026-12-06, 2-core Xeon shared with two other builds (load 3-4.6), JDK 25, -f 1: contribute
 * 412 us; verifyExtension 1,370-1,570 us; verifyBlockBeacon 1,596 +/- 211 us (4 validators) and
 * 2,710 +/- 832 us (21) with decoded keys cached (before the cache: 2,160 and 4,000 us).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BeaconBenchmark {
    @Param({"4", "21"})
    int validators;

    private Bls.SecretKey key;
    private byte[] message;
    private byte[] signature;
    private byte[] entry;
    private List<Beacon.Voter> commit;

    @Setup
    public void setup() {
        message = Beacon.message("oe-bench", 1000, Beacon.seed0("oe-bench"));
        commit = new ArrayList<>();
        List<byte[]> extensions = new ArrayList<>();
        for (int i = 0; i < validators; i++) {
            byte[] ikm = new byte[32];
            ikm[0] = (byte) (i + 1);
            Bls.SecretKey k = Bls.SecretKey.fromIkm(ikm);
            commit.add(new Beacon.Voter(k.publicKey(), 10, true));
            extensions.add(k.sign(message));
        }
        key = Bls.SecretKey.fromIkm(new byte[32]);
        signature = key.sign(message);
        entry = Beacon.encode(Beacon.build(commit, extensions, message));
    }

    @Benchmark
    public byte[] contribute() {
        return key.sign(message);
    }

    @Benchmark
    public boolean verifyExtension() {
        return Bls.verify(key.publicKey(), message, signature);
    }

    @Benchmark
    public Beacon.Entry verifyBlockBeacon() throws Beacon.BeaconException {
        return Beacon.verify(entry, commit, message);
    }
}
