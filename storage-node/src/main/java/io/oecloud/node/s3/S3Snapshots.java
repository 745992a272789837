package io.oecloud.node.s3;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.oecloud.dht.Identity;
import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the namespace on the network, so it outlives the gateway node's disk: after a burst of
 * writes ({@link #BURST} changes) or a quiet {@link #AFTER} since the first unsaved change, the
 * index is dumped ({@link S3Index#exportTo}), sealed under the namespace key ({@link SnapshotSeal})
 * and stored as an object; the name {@link #name(byte[])} (from the namespace key alone) is pointed
 * at it by the {@link Publisher}, and the previous snapshot is let go. What a lost disk loses: the
 * writes since the last published snapshot (at most a minute's, or a burst's, when the network and
 * chain answer). {@code oe s3 restore} rebuilds the index from the name with the namespace key.
 *
 * <p>The namespace key is {@code DATA_DIR/s3/identity.key}, apart from the node's identity: copy
 * it to restore the namespace on another disk. A periodic task that never dies: a failed snapshot
 * is logged and tried again at the next tick.
 */
public final class S3Snapshots implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(S3Snapshots.class.getName());
    static final long BURST = 1000;
    static final Duration AFTER = Duration.ofSeconds(30);
    static final Duration TICK = Duration.ofSeconds(5);
    static final String STATE = "snapshot.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Points the namespace's name at its latest snapshot (on the chain's name registry, or nowhere). */
    @FunctionalInterface
    public interface Publisher {
        void publish(String name, Cid snapshot) throws IOException;
    }

    private final S3Namespace namespace;
    private final S3Pieces pieces;
    private final Identity key;
    private final Path dir;
    private final Publisher publisher;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private long saved; // changes covered by the last published snapshot
    private long dirtySince = -1;
    private String lastCid;

    S3Snapshots(S3Namespace namespace, S3Pieces pieces, Identity key, Path dir, Publisher publisher, Clock clock) throws IOException {
        this.namespace = namespace;
        this.pieces = pieces;
        this.key = key;
        this.dir = dir;
        this.publisher = publisher;
        this.clock = clock;
        Path state = dir.resolve(STATE);
        if (Files.exists(state)) {
            lastCid = JSON.readTree(state.toFile()).path("cid").asText(null);
        }
        // the last run may have stopped before its latest changes were saved: a namespace that has
        // anything in it gets a snapshot once the quiet time after this start has passed
        this.saved = namespace.buckets().isEmpty() ? 0 : -1;
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("s3-snapshots").factory());
    }

    void start() {
        timer.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The name the namespace of {@code namespaceKey} (its public key) is published under: {@code s3-} and 20 hex digits. */
    public static String name(byte[] namespaceKey) {
        try {
            return "s3-" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(namespaceKey)).substring(0, 20);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The key snapshots are sealed with: derived from the namespace key, never stored. */
    static byte[] sealKey(Identity namespaceKey) {
        return namespaceKey.deriveSecret("s3-snapshot-seal");
    }

    public String name() {
        return name(key.publicKey());
    }

    /** The CID of the last snapshot taken here, or null. */
    public synchronized String last() {
        return lastCid;
    }

    private void tick() {
        try {
            long changes = namespace.changes();
            long now = clock.millis();
            synchronized (this) {
                if (changes == saved) {
                    dirtySince = -1;
                    return;
                }
                if (dirtySince < 0) {
                    dirtySince = now;
                }
                if (changes - saved < BURST && now - dirtySince < AFTER.toMillis()) {
                    return;
                }
            }
            take();
        } catch (Throwable t) { // never dies: the next tick tries again
            LOG.log(System.Logger.Level.WARNING, "namespace snapshot failed (tried again in " + TICK.toSeconds() + " s): " + t);
        }
    }

    /** Takes, stores and publishes a snapshot now; returns its CID. */
    public synchronized String take() throws IOException {
        long changes = namespace.changes();
        ByteArrayOutputStream dump = new ByteArrayOutputStream();
        namespace.index().exportTo(dump);
        ByteArrayOutputStream sealed = new ByteArrayOutputStream();
        SnapshotSeal.seal(sealKey(key), new ByteArrayInputStream(dump.toByteArray()), sealed);
        S3Model.Piece piece;
        try {
            piece = pieces.store(new ByteArrayInputStream(sealed.toByteArray()), sealed.size(), "application/x-oe-s3-snapshot", false);
        } catch (ObjectException e) {
            throw new IOException("storing the snapshot failed: " + e.getMessage(), e);
        }
        publisher.publish(name(), Cid.parse(piece.cid()));
        String previous = lastCid;
        lastCid = piece.cid();
        saved = changes;
        dirtySince = -1;
        Files.createDirectories(dir);
        io.oecloud.node.NodeConfig.writeAtomically(dir.resolve(STATE), JSON.writeValueAsString(Map.of("cid", lastCid, "name", name(),
                "changes", changes, "at", clock.instant().toString(), "bytes", sealed.size())));
        if (previous != null && !previous.equals(lastCid)) {
            pieces.release(new S3Model.Piece(previous, 0));
        }
        LOG.log(System.Logger.Level.INFO, "namespace snapshot {0} ({1} bytes sealed) published as {2}", lastCid, sealed.size(), name());
        return lastCid;
    }

    /**
     * Rebuilds a gateway's namespace in {@code s3Dir} (its {@code index}) from snapshot {@code cid}'s
     * sealed bytes, and records {@code cid} as the last snapshot, so the gateway lets it go once it
     * published the next one (its namespace key owns it).
     */
    public static void restore(Identity namespaceKey, Cid cid, byte[] sealed, Path s3Dir) throws IOException {
        Files.createDirectories(s3Dir);
        restore(namespaceKey, sealed, s3Dir.resolve("index"));
        io.oecloud.node.NodeConfig.writeAtomically(s3Dir.resolve(STATE), JSON.writeValueAsString(Map.of("cid", cid.toString(),
                "name", name(namespaceKey.publicKey()), "bytes", sealed.length, "restored", true)));
    }

    /** Rebuilds an index directory from a sealed snapshot's bytes (refuses a non-empty directory). */
    public static void restore(Identity namespaceKey, byte[] sealed, Path indexDir) throws IOException {
        byte[] dump = SnapshotSeal.open(sealKey(namespaceKey), new ByteArrayInputStream(sealed));
        S3Index.importFrom(new ByteArrayInputStream(dump), indexDir);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
