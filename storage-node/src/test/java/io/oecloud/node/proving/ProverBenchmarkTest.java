package io.oecloud.node.proving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded benchmark that prints (targets are checked by reading its output, not asserted): what
 * a period costs the prover on a real store of N shards, step by step (list the entries, hold
 * them, build the node root, commit, answer c = 32, release).
 *
 * <p>N is 5,000 in the normal test run (a few seconds); the figure is for 100,000:
 *
 * <pre>
 * mvn -B -o -pl storage-node -am test -Dtest=ProverBenchmarkTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Doe.bench.shards=100000 -Doe.bench.dir=/dev/shm
 * </pre>
 *
 * ({@code oe.bench.dir}: where the store goes; tmpfs makes filling 100,000 shards take seconds
 * instead of 100,000 device syncs, but its reads are memory copies: on a disk each of an answer's
 * 32 slices is a direct 16 KiB read.)
 */
class ProverBenchmarkTest {
    @TempDir
    Path tmp;

    private static final byte[] OWNER = new byte[32];
    private static final byte[] NODE = "bench-node".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @Test
    void periodCost_printsEachStep() throws Exception {
        int n = Integer.getInteger("oe.bench.shards", 5_000);
        String where = System.getProperty("oe.bench.dir");
        Path dir = where == null ? tmp : Files.createTempDirectory(Path.of(where), "oe-prover-bench");
        try (ShardStore s = ShardStore.open(dir, 1L << 40)) { // direct I/O where the file system allows it
            long t0 = System.nanoTime();
            fill(s, n);
            System.out.printf("prover bench: %,d shards put in %,d ms (%s, direct I/O %s)%n", n, ms(t0), dir, s.directIo());

            long[] list = new long[7];
            long[] build = new long[7];
            long[] commit = new long[7];
            long[] release = new long[7];
            long[] hold = new long[7];
            for (int r = 0; r < 7; r++) {
                long t = System.nanoTime();
                List<NodeEntry> entries = new ArrayList<>(n);
                s.forEachEntry(entries::add);
                list[r] = System.nanoTime() - t;
                assertEquals(n, entries.size());
                t = System.nanoTime();
                NodeRoot.build(entries);
                build[r] = System.nanoTime() - t;
                t = System.nanoTime();
                s.hold(1_000 + r);
                hold[r] = System.nanoTime() - t;
                s.release(1_000 + r);

                Prover p = new Prover(s); // no cached trees: commit does all of the work
                t = System.nanoTime();
                Commitment c = p.commit(r);
                commit[r] = System.nanoTime() - t;
                assertEquals(n, c.count());
                t = System.nanoTime();
                p.release(r);
                release[r] = System.nanoTime() - t;
            }
            // what listing allocates (mostly garbage: keys, values, decoded entries) and what the entries keep
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long before = retained();
            long a0 = threads.getCurrentThreadAllocatedBytes();
            List<NodeEntry> kept = new ArrayList<>(n);
            s.forEachEntry(kept::add);
            long streamed = threads.getCurrentThreadAllocatedBytes() - a0;
            long keptBytes = retained() - before;
            NodeRoot tree = NodeRoot.build(kept);
            long treeBytes = retained() - before - keptBytes;
            System.out.printf("  forEachEntry allocates %,d B an entry; kept: entries %,d B (%,d B an entry), tree %,d B more%n",
                    streamed / n, keptBytes, keptBytes / n, treeBytes);
            assertEquals(n, tree.count());
            kept = null;
            tree = null;

            Prover p = new Prover(s);
            p.commit(42);
            SplittableRandom rnd = new SplittableRandom(24);
            long[] answer = new long[50];
            long bytes = 0;
            for (int r = 0; r < answer.length; r++) {
                byte[] seed = new byte[32];
                rnd.nextBytes(seed);
                long t = System.nanoTime();
                Answer a = p.answer(42, seed, NODE, 32);
                answer[r] = System.nanoTime() - t;
                assertTrue(a.complete());
                bytes = a.proofBytes();
            }
            Prover restarted = new Prover(s); // the tree rebuilt from the store's hold
            long t = System.nanoTime();
            restarted.answer(42, new byte[32], NODE, 32);
            long cold = System.nanoTime() - t;
            p.release(42);

            System.out.printf("prover bench, %,d shards (median of 7 / of 50 answers, [min-max]):%n", n);
            System.out.printf("  list entries      %s%n", stats(list));
            System.out.printf("  hold (list+write) %s%n", stats(hold));
            System.out.printf("  build NodeRoot    %s%n", stats(build));
            System.out.printf("  commit            %s%n", stats(commit));
            System.out.printf("  release           %s%n", stats(release));
            System.out.printf("  answer c=32       %s (%,d proof bytes)%n", stats(answer), bytes);
            System.out.printf("  answer after restart (tree rebuilt from the hold) %.1f ms%n", cold / 1e6);
            System.out.printf("  a period: commit + answer = %.1f ms (medians)%n", (median(commit) + median(answer)) / 1e6);
        } finally {
            if (where != null) {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }

    /** {@code n} pinned shards of 1 to 16 KiB (8 KiB on average), put from two threads. */
    private static void fill(ShardStore s, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int worker = w;
                done.add(pool.submit(() -> {
                    Random rnd = new Random(worker);
                    for (int i = worker; i < n; i += 2) {
                        byte[] d = new byte[1 + rnd.nextInt(16 * 1024)];
                        rnd.nextBytes(d);
                        s.put(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, d), d, OWNER);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    /** Heap in use after a full collection (rough: what a few MB of live objects change). */
    private static long retained() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static long median(long[] v) {
        long[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static String stats(long[] v) {
        long[] c = v.clone();
        Arrays.sort(c);
        return String.format("%8.2f ms [%.2f-%.2f]", median(v) / 1e6, c[0] / 1e6, c[c.length - 1] / 1e6);
    }
}
