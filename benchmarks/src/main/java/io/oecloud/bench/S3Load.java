package io.oecloud.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Load generator of {@code benchmarks/s3.sh}: the same S3 workloads against two S3 servers, in
 * alternating order, with the AWS SDK for Java v2 as an application would use it.
 *
 * <p>Workloads, each round, each server:
 * <ul>
 *   <li>{@code large}: one PUT of a {@code --large-mib} object with {@code putObject} from a file
 *   ({@link RequestBody#fromFile}; new random bytes every round, the same file for both servers
 *   in a round), then one GET of it, its bytes drained and counted: MB/s of each (MB = 10^6 bytes);
 *   <li>{@code small}: {@code --count} PUTs of distinct {@code --small-size}-byte objects (new
 *   random bytes each, so nothing is deduplicated) by {@code --threads} threads sharing one client,
 *   then {@code --count} GETs of them: ops/s, p50 and p99 latency of each.
 * </ul>
 * Checksums: {@code --checksums when-required} (the default here) sets the SDK's request checksum
 * calculation and response validation to {@code WHEN_REQUIRED}: a PUT is then sent aws-chunked
 * with signed 128 KiB chunks ({@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}) and no checksum, and a GET
 * is not checked. {@code --checksums default} keeps the SDK's own default since 2.30
 * ({@code WHEN_SUPPORTED}: the same chunks plus a CRC32 trailer,
 * {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER}, and GETs checked when the server returns a
 * checksum); S3Proxy 2.6.0 answers those PUTs {@code 400 XAmzContentSHA256Mismatch}, so the
 * comparison uses {@code when-required} for both servers. The client never retries, so every failure
 * is counted as it happened: by operation, HTTP status and S3 error code (or exception class).
 *
 * <p>Output, one line per measurement (parsed by {@code s3.sh}):
 * <pre>
 * large ROUND SERVER put|get MBps SECONDS BYTES ok|FAILED:...
 * small ROUND SERVER put|get OPS_S P50_MS P99_MS OK ERRORS
 * error ROUND SERVER OP STATUS CODE COUNT
 * </pre>
 *
 * <pre>
 * S3LOAD_A_KEY=... S3LOAD_A_SECRET=... S3LOAD_B_KEY=... S3LOAD_B_SECRET=... \
 * java -cp 'benchmarks/target/oe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' io.oecloud.bench.S3Load \
 *   --a gateway=http://127.0.0.1:9000 [--b s3proxy=http://127.0.0.1:8081] --dir /tmp/x \
 *   [--rounds 3] [--large-mib 1024] [--count 10000] [--threads 32] [--small-size 4096] \
 *   [--warmup-large-mib 256] [--warmup-small 2000] [--only large,small] [--checksums when-required|default]
 * </pre>
 */
public final class S3Load {
    private static final String BUCKET = "bench";

    private S3Load() {}

    /** One server under test. */
    private record Target(String name, URI endpoint, S3Client s3) {}

    public static void main(String[] args) throws Exception {
        // HttpURLConnection keeps at most 5 idle connections per host by default: the other 27
        // threads would open a new TCP connection for every request
        System.setProperty("http.maxConnections", "256");
        Map<String, String> opt = new TreeMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + args[i]);
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        int rounds = Integer.parseInt(opt.getOrDefault("rounds", "3"));
        long largeBytes = Long.parseLong(opt.getOrDefault("large-mib", "1024")) << 20;
        int count = Integer.parseInt(opt.getOrDefault("count", "10000"));
        int threads = Integer.parseInt(opt.getOrDefault("threads", "32"));
        int smallSize = Integer.parseInt(opt.getOrDefault("small-size", "4096"));
        int warmupSmall = Integer.parseInt(opt.getOrDefault("warmup-small", "2000"));
        long warmupLarge = Long.parseLong(opt.getOrDefault("warmup-large-mib", "256")) << 20;
        Path dir = Path.of(require(opt, "dir"));
        String only = opt.getOrDefault("only", "large,small");

        boolean sdkDefaultChecksums = switch (opt.getOrDefault("checksums", "when-required")) {
            case "default" -> true;
            case "when-required" -> false;
            default -> throw new IllegalArgumentException("--checksums is default or when-required, got " + opt.get("checksums"));
        };
        // --b is optional: one server alone is a profiling run, not a comparison
        List<Target> targets = opt.containsKey("b")
                ? List.of(target(require(opt, "a"), "S3LOAD_A", sdkDefaultChecksums), target(opt.get("b"), "S3LOAD_B", sdkDefaultChecksums))
                : List.of(target(require(opt, "a"), "S3LOAD_A", sdkDefaultChecksums));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (Target t : targets) {
                try {
                    t.s3().createBucket(b -> b.bucket(BUCKET));
                } catch (AwsServiceException e) {
                    if (!"BucketAlreadyOwnedByYou".equals(code(e)) && !"BucketAlreadyExists".equals(code(e))) {
                        throw e;
                    }
                }
            }
            // warm-up, not counted: both JVMs (ours and the servers') compile their hot paths
            Path file = dir.resolve("object.bin");
            for (Target t : targets) {
                if (warmupLarge > 0) {
                    writeRandom(file, warmupLarge, System.nanoTime());
                    large(t, 0, file, warmupLarge, "warm");
                    Files.deleteIfExists(file);
                }
                if (warmupSmall > 0) {
                    small(t, 0, pool, threads, warmupSmall, smallSize, "warm");
                }
            }
            for (int r = 1; r <= rounds; r++) {
                List<Target> order = r % 2 == 1 ? targets : targets.reversed();
                if (only.contains("large")) {
                    writeRandom(file, largeBytes, 1000L * r + System.nanoTime());
                    for (Target t : order) {
                        large(t, r, file, largeBytes, "large");
                    }
                    Files.deleteIfExists(file);
                }
                if (only.contains("small")) {
                    for (Target t : order) {
                        small(t, r, pool, threads, count, smallSize, "small");
                    }
                }
            }
        } finally {
            pool.shutdownNow();
            for (Target t : targets) {
                t.s3().close();
            }
        }
    }

    private static String require(Map<String, String> opt, String name) {
        String v = opt.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }

    /** {@code name=url}, credentials from the environment variables {@code PREFIX_KEY} and {@code PREFIX_SECRET}. */
    private static Target target(String spec, String envPrefix, boolean sdkDefaultChecksums) {
        int eq = spec.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("expected name=url, got " + spec);
        }
        String key = System.getenv(envPrefix + "_KEY");
        String secret = System.getenv(envPrefix + "_SECRET");
        if (key == null || secret == null) {
            throw new IllegalArgumentException("set " + envPrefix + "_KEY and " + envPrefix + "_SECRET");
        }
        URI endpoint = URI.create(spec.substring(eq + 1));
        S3Client s3 = S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .requestChecksumCalculation(sdkDefaultChecksums ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(sdkDefaultChecksums ? ResponseChecksumValidation.WHEN_SUPPORTED : ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key, secret)))
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofMinutes(2))
                        .build())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
        return new Target(spec.substring(0, eq), endpoint, s3);
    }

    /** Writes {@code bytes} pseudo-random bytes (new for every seed) to {@code file}. */
    private static void writeRandom(Path file, long bytes, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer buf = ByteBuffer.allocate(8 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long done = 0; done < bytes; ) {
                buf.clear();
                int n = (int) Math.min(buf.capacity(), bytes - done);
                for (int i = 0; i + 8 <= n; i += 8) {
                    buf.putLong(i, random.nextLong());
                }
                buf.limit(n);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                done += n;
            }
        }
    }

    /** One PUT of {@code file} and one GET of it, bytes drained and counted; the object is deleted after. */
    private static void large(Target t, int round, Path file, long bytes, String label) {
        String key = label + "/" + round + "/" + t.name() + "-" + System.nanoTime();
        long t0 = System.nanoTime();
        try {
            t.s3().putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromFile(file));
            report(label, round, t.name(), "put", bytes, System.nanoTime() - t0, "ok");
        } catch (RuntimeException e) {
            report(label, round, t.name(), "put", bytes, System.nanoTime() - t0, "FAILED:" + describe(e));
            return;
        }
        long t1 = System.nanoTime();
        long got = 0;
        try (ResponseInputStream<GetObjectResponse> in = t.s3().getObject(b -> b.bucket(BUCKET).key(key))) {
            got = drain(in);
            String status = got == bytes ? "ok" : "FAILED:short-read:" + got + "-of-" + bytes;
            report(label, round, t.name(), "get", got, System.nanoTime() - t1, status);
        } catch (IOException | RuntimeException e) {
            report(label, round, t.name(), "get", got, System.nanoTime() - t1, "FAILED:after-" + got + "-bytes:" + describe(e));
        }
        try {
            t.s3().deleteObject(b -> b.bucket(BUCKET).key(key));
        } catch (RuntimeException e) {
            System.out.println("note " + round + " " + t.name() + " delete of " + key + " failed: " + describe(e));
        }
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[1 << 20];
        long total = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            total += n;
        }
        return total;
    }

    private static void report(String label, int round, String server, String op, long bytes, long nanos, String status) {
        double s = nanos / 1e9;
        System.out.printf(Locale.ROOT, "%s %d %s %s %.1f %.2f %d %s%n", label, round, server, op, bytes / s / 1e6, s, bytes, status);
    }

    /**
     * {@code count} PUTs of distinct objects by {@code threads} threads, then {@code count} GETs of
     * the ones stored: ops/s over the wall time of each phase, latency percentiles of the successes.
     */
    private static void small(Target t, int round, ExecutorService pool, int threads, int count, int size, String label)
            throws Exception {
        String prefix = label + "/" + round + "/" + t.name() + "-" + System.nanoTime() + "/";
        boolean[] stored = new boolean[count];
        Phase put = phase(pool, threads, count, i -> {
            byte[] data = new byte[size];
            ThreadLocalRandom.current().nextBytes(data);
            t.s3().putObject(b -> b.bucket(BUCKET).key(prefix + i), RequestBody.fromBytes(data));
            stored[i] = true;
        });
        put.print(label, round, t.name(), "put");
        Phase get = phase(pool, threads, count, i -> {
            if (!stored[i]) {
                throw new SkippedException();
            }
            try (ResponseInputStream<GetObjectResponse> in = t.s3().getObject(b -> b.bucket(BUCKET).key(prefix + i))) {
                long n = drain(in);
                if (n != size) {
                    throw new IOException("short read: " + n + " of " + size + " bytes");
                }
            }
        });
        get.print(label, round, t.name(), "get");
    }

    @FunctionalInterface
    private interface Op {
        void run(int i) throws Exception;
    }

    /** Thrown for a GET of an object whose PUT failed: not sent, not counted. */
    private static final class SkippedException extends RuntimeException {
        SkippedException() {
            super(null, null, false, false);
        }
    }

    /** What one phase measured: latencies of the successes (nanoseconds), failures by kind. */
    private record Phase(long[] latencies, int ok, long wallNanos, Map<String, LongAdder> errors) {
        void print(String label, int round, String server, String op) {
            long[] sorted = Arrays.copyOf(latencies, ok);
            Arrays.sort(sorted);
            long failed = errors.values().stream().mapToLong(LongAdder::sum).sum();
            System.out.printf(Locale.ROOT, "%s %d %s %s %.0f %.2f %.2f %d %d%n", label, round, server, op,
                    ok / (wallNanos / 1e9), percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6, ok, failed);
            for (var e : new TreeMap<>(errors).entrySet()) {
                System.out.printf(Locale.ROOT, "error %d %s %s %s %d (%s)%n", round, server, op, e.getKey(), e.getValue().sum(), label);
            }
        }
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    private static Phase phase(ExecutorService pool, int threads, int count, Op op) throws Exception {
        long[] latencies = new long[count];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        List<Future<?>> running = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            running.add(pool.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < count; ) {
                    long t0 = System.nanoTime();
                    try {
                        op.run(i);
                        latencies[done.getAndIncrement()] = System.nanoTime() - t0;
                    } catch (SkippedException e) {
                        errors.computeIfAbsent("- skipped-put-failed", k -> new LongAdder()).increment();
                    } catch (Exception e) {
                        errors.computeIfAbsent(describe(e), k -> new LongAdder()).increment();
                    }
                }
            }));
        }
        for (Future<?> f : running) {
            f.get();
        }
        return new Phase(latencies, done.get(), System.nanoTime() - start, errors);
    }

    /** "STATUS CODE" of a service error, else "- ExceptionClass:cause". */
    private static String describe(Throwable e) {
        if (e instanceof AwsServiceException s) {
            return s.statusCode() + " " + code(s);
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String what = e.getClass().getSimpleName() + (root != e ? ":" + root.getClass().getSimpleName() : "");
        String msg = root.getMessage() == null ? "" : ":" + root.getMessage().replaceAll("\\s+", "_");
        return "- " + what + (msg.length() > 80 ? msg.substring(0, 80) : msg);
    }

    private static String code(AwsServiceException e) {
        return e.awsErrorDetails() == null || e.awsErrorDetails().errorCode() == null ? "-" : e.awsErrorDetails().errorCode();
    }
}
