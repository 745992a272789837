package io.oecloud.benchmarks;

import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.Outboard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The shard store's outboards, one thread, a store on the benchmark machine's disk (direct I/O
 * where it is allowed) under {@code benchmarks/target/prove-bench}:
 * <ul>
 *   <li>the put's hash pass before ({@code hashCid}: {@code Cid.verify}) and after outboards
 *   ({@code buildOutboard}: {@code Outboard.build}, whose root is checked against the CID);</li>
 *   <li>a durable put of a new shard then its delete, as {@code put} does it now (the outboard
 *   built in the verifying pass and written in the index entry's batch) and as
 *   {@code putComputed} does (no hash, no outboard): the old put is about
 *   {@code putComputedThenDelete + hashCid};</li>
 *   <li>{@code prove} of 1 and 4 chunks (a 4 KiB range) from the stored outboard, against
 *   {@code getWhole}, the whole shard read and checked, which a ranged GET costs a holder today.</li>
 * </ul>
 * Chunks and shards are taken round-robin so nothing stays hot in a CPU cache.
 *
 * <p>Run (after {@code mvn -B -q -DskipTests -pl benchmarks -am package}): {@code java --add-modules=jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -cp "benchmarks/target/oe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*"
 * org.openjdk.jmh.Main ShardStoreProveBenchmark -f 1 -wi 2 -w 1s -i 5 -r 1s}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ShardStoreProveBenchmark {
    private static final int SHARDS = 16;

    /** 2 MiB: the shards of 8 MiB segments at RS(4,2); 8 MiB: of 32 MiB segments. */
    @Param({"2097152", "8388608"})
    public int shardSize;

    private Path dir;
    private ShardStore store;
    private byte[][] shards;
    private Cid[] cids;
    private int next;
    private long chunk;

    @Setup
    public void setup() throws Exception {
        dir = Path.of("benchmarks/target/prove-bench");
        clean();
        Files.createDirectories(dir);
        store = ShardStore.open(dir, Long.MAX_VALUE);
        shards = new byte[SHARDS][];
        cids = new Cid[SHARDS];
        Random rnd = new Random(24);
        for (int i = 0; i < SHARDS; i++) {
            shards[i] = new byte[shardSize];
            rnd.nextBytes(shards[i]);
            cids[i] = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, shards[i]);
        }
        store.put(cids[0], shards[0]); // the one proven and read
    }

    @TearDown
    public void tearDown() throws Exception {
        store.close();
        clean();
    }

    private void clean() throws Exception {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private int nextShard() {
        next = next % (SHARDS - 1) + 1; // 1..SHARDS-1: shard 0 stays stored
        return next;
    }

    private long nextChunk(int count) {
        chunk = (chunk + 4099) % (shardSize / 1024 - count);
        return chunk;
    }

    @Benchmark
    public boolean hashCid() {
        int i = nextShard();
        return cids[i].verify(shards[i]);
    }

    @Benchmark
    public byte[] buildOutboard() {
        return Outboard.build(shards[nextShard()]).root();
    }

    @Benchmark
    public boolean putThenDelete() throws Exception {
        int i = nextShard();
        store.put(cids[i], shards[i]);
        return store.delete(cids[i]);
    }

    @Benchmark
    public boolean putComputedThenDelete() throws Exception {
        int i = nextShard();
        store.putComputed(cids[i], shards[i], null);
        return store.delete(cids[i]);
    }

    @Benchmark
    public Object prove1() throws Exception {
        return store.prove(cids[0], nextChunk(1), 1);
    }

    @Benchmark
    public Object prove4() throws Exception {
        return store.prove(cids[0], nextChunk(4), 4);
    }

    @Benchmark
    public byte[] getWhole() throws Exception {
        return store.get(cids[0]);
    }
}
