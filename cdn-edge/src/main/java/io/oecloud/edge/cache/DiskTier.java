package io.oecloud.edge.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The edge cache's disk tier: chunks kept as files on a local disk, bounded by size, evicted by
 * frequency and recency, checked against their BLAKE3 digest on every read, and still there after
 * a restart.
 *
 * <pre>{@code
 * try (DiskTier disk = DiskTier.open(dir.resolve("disk-cache"), 64L << 30, registry)) {
 *     byte[] bytes = disk.get(key);          // null: a miss
 *     if (bytes == null) {
 *         bytes = fetchAndVerify(key);
 *         disk.put(key, bytes);              // may decline: the cache decides what it keeps
 *     }
 * }
 * }</pre>
 *
 * <p>Layout: one file per chunk under {@code dir/chunks/XY/NAME}, NAME the hex of
 * BLAKE3(object CID bytes ‖ u64be index) and XY its first two characters (no directory grows
 * huge, and no CID text ever reaches a path); a RocksDB index {@code dir/index} maps
 * {@code CID bytes ‖ u64be index} to {@code u64be size ‖ BLAKE3 of the bytes ‖ u64be stored-at
 * millis}. CID bytes name their own length, so the CID's bytes are a prefix of exactly its own
 * chunks' keys ({@link #purge}).
 *
 * <p>Space is counted as the shard store counts it: a chunk costs its file in whole 4 KiB blocks
 * plus one block for its inode and index entry ({@link #allocated}). {@link #used()} never exceeds
 * {@link #capacity()}; a chunk larger than an eighth of the capacity is not admitted.
 *
 * <p>Ownership: {@link #get} returns a new array the caller owns; {@link #put} does not keep the
 * caller's array. The tier owns its RocksDB handles; {@link #close()} releases them.
 *
 * <p>Thread-safe: any number of threads may get and put at once. A cache never fails a request:
 * I/O errors and corrupt files become misses (logged and counted), and a put that cannot be
 * written is simply not cached.
 */
public final class DiskTier implements ChunkStore, AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    /*
     * Why a Caffeine cache as the in-memory index. Caffeine's W-TinyLFU keeps a small LRU window
     * for recency and a segmented LRU main space guarded by a count-min frequency sketch: a new
     * entry enters the main space only if it has been asked for more often than the entry it would
     * push out (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
     * ACM ToS 2017). A scan of one-time chunks therefore loses against a hot set read again and
     * again, which a plain LRU would flush. Caffeine weighs entries in 4 KiB blocks, so its
     * maximum weight is the capacity in blocks and an int weight covers any chunk.
     *
     * Making used() exact. Caffeine applies writes and evicts in a maintenance step, run here on
     * the calling thread (executor Runnable::run) so the removal listener, which deletes the file
     * and uncounts the entry, has run by the time the call returns. An entry is counted in
     * used() only after the maintenance that follows its insertion (cleanUp, under `admission`)
     * has brought Caffeine's weight within the maximum: the counted entries are always a subset of
     * the ones Caffeine weighs, so used() <= capacity at every instant. Explicit removals
     * (corruption, failed writes, purge) also hold `admission`, so none can be uncounted in
     * Caffeine while still counted here when an admission decides.
     *
     * An entry's life: NEW (in Caffeine, not counted; TinyLFU may still reject it) -> PENDING
     * (counted, its file being written; reads miss) -> READY (file and index entry in place) ->
     * DEAD (removed from Caffeine; its file and index entry deleted if it had them). Transitions
     * happen under the key's stripe lock, so a file rename and a delete of the same key never
     * interleave; lock order is admission -> Caffeine's eviction lock -> stripe.
     */

    private static final System.Logger LOG = System.getLogger(DiskTier.class.getName());

    /** The block a file system allocates: a chunk's file is counted in whole blocks. */
    static final int BLOCK = 4096;
    /** What a chunk costs beyond its blocks (its inode and index entry), as one more block. */
    static final int PER_ENTRY_OVERHEAD = 4096;
    /** Index value: u64be size, 32-byte BLAKE3 of the bytes, u64be stored-at millis. */
    private static final int VALUE_LENGTH = 8 + 32 + 8;
    private static final int STRIPES = 64;
    private static final HexFormat HEX = HexFormat.of();
    private static final AtomicLong TMP_SEQ = new AtomicLong();

    private enum State { NEW, PENDING, READY, DEAD }

    /** One chunk's metadata; {@code state} changes only under the key's stripe lock. */
    private static final class Entry {
        final long size;
        final byte[] hash;
        final long storedAt;
        final int blocks;
        /** Loaded from the index at open: its file and index entry exist while it is still NEW. */
        final boolean loaded;
        volatile State state = State.NEW;

        Entry(long size, byte[] hash, long storedAt, boolean loaded) {
            this.size = size;
            this.hash = hash;
            this.storedAt = storedAt;
            this.blocks = (int) (allocated(size) / BLOCK);
            this.loaded = loaded;
        }

        long bytes() {
            return (long) blocks * BLOCK;
        }
    }

    private final Path dir;
    private final Path chunksDir;
    private final long capacity;
    private final MeterRegistry metrics;
    private final Options options;
    private final WriteOptions writeOptions;
    private final RocksDB index;
    private final Cache<ChunkKey, Entry> cache;
    /** Serialises admissions and explicit removals against each other (see the block comment above). */
    private final ReentrantLock admission = new ReentrantLock();
    private final Object[] stripes = new Object[STRIPES];
    /**
     * Read-held around every RocksDB call, write-held by {@link #close}: RocksJava frees the
     * native database on close, and a call racing it would crash the JVM instead of failing.
     */
    private final ReentrantReadWriteLock life = new ReentrantReadWriteLock();
    private volatile boolean closed;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong count = new AtomicLong();
    /** Chunk sub-directories known to be durable in {@code chunks/}. */
    private final Set<Path> durableDirs = ConcurrentHashMap.newKeySet();
    private final Counter evictions;
    private final Counter corrupt;
    private final Counter ioErrors;
    private final List<Meter> meters = new ArrayList<>();

    private DiskTier(Path dir, long capacity, MeterRegistry metrics, String store) throws IOException {
        this.dir = dir;
        this.chunksDir = dir.resolve("chunks");
        this.capacity = capacity;
        this.metrics = metrics;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Object();
        }
        Files.createDirectories(chunksDir);
        this.options = new Options().setCreateIfMissing(true);
        // No synced WAL: a crash that loses the latest index entries only loses cached chunks,
        // whose files open() then deletes; a cache does not pay an fsync of the index per put.
        this.writeOptions = new WriteOptions();
        try {
            this.index = RocksDB.open(options, dir.resolve("index").toString());
        } catch (RocksDBException e) {
            writeOptions.close();
            options.close();
            throw new IOException("cannot open the disk cache index in " + dir + ": " + e.getMessage(), e);
        }
        this.cache = Caffeine.newBuilder()
                .maximumWeight(capacity / BLOCK)
                .weigher((ChunkKey k, Entry e) -> e.blocks)
                .executor(Runnable::run)
                .removalListener((ChunkKey k, Entry e, RemovalCause cause) -> removed(k, e, cause))
                .build();
        this.evictions = register(Counter.builder("oe_edge_disk_evictions")
                .description("chunks the disk tier evicted to stay within its capacity").tag("store", store).register(metrics));
        this.corrupt = register(Counter.builder("oe_edge_disk_corrupt")
                .description("chunks dropped because their file no longer matched their digest").tag("store", store).register(metrics));
        this.ioErrors = register(Counter.builder("oe_edge_disk_io_errors")
                .description("disk tier reads and writes that failed with an I/O error").tag("store", store).register(metrics));
        register(Gauge.builder("oe_edge_disk_bytes", used, AtomicLong::get).baseUnit("bytes")
                .description("space the disk tier's chunks take, in allocated blocks").tag("store", store).register(metrics));
        register(Gauge.builder("oe_edge_disk_chunks", count, AtomicLong::get)
                .description("chunks in the disk tier").tag("store", store).register(metrics));
        try {
            load();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Opens (or creates) the disk tier in {@code dir}: loads its index, deletes files the index
     * does not know and index entries whose file is gone, and evicts down to {@code capacityBytes}
     * if the tier holds more (a capacity lowered since the last run).
     *
     * @param dir the tier's own directory, created if missing
     * @param capacityBytes the most space the chunks may take, counted in allocated blocks; at
     *     least two blocks
     * @param metrics where the tier's meters are registered (removed again by {@link #close})
     * @return the open tier; the caller closes it
     * @throws IOException if the directory or the index cannot be opened
     */
    public static DiskTier open(Path dir, long capacityBytes, MeterRegistry metrics) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(metrics, "metrics");
        if (capacityBytes < BLOCK + PER_ENTRY_OVERHEAD) {
            throw new IllegalArgumentException("a disk tier's capacity must be at least "
                    + (BLOCK + PER_ENTRY_OVERHEAD) + " bytes, was " + capacityBytes);
        }
        return new DiskTier(dir, capacityBytes, metrics, "chunks");
    }

    /**
     * {@link #open(Path, long, MeterRegistry)} with its meters tagged {@code store=NAME}, so two
     * tiers (the edge's chunks and its manifests) share one registry.
     */
    public static DiskTier open(Path dir, long capacityBytes, MeterRegistry metrics, String store) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(metrics, "metrics");
        if (capacityBytes < BLOCK + PER_ENTRY_OVERHEAD) {
            throw new IllegalArgumentException("a disk tier's capacity must be at least "
                    + (BLOCK + PER_ENTRY_OVERHEAD) + " bytes, was " + capacityBytes);
        }
        return new DiskTier(dir, capacityBytes, metrics, store);
    }

    /**
     * The space a chunk of {@code size} bytes takes: its file in whole 4 KiB blocks plus one
     * block for its inode and index entry. A 100-byte chunk costs 8 KiB.
     */
    static long allocated(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK + PER_ENTRY_OVERHEAD;
    }

    /**
     * The bytes of {@code key}, checked against the digest recorded when they were put.
     *
     * @return a new array the caller owns, or null when the chunk is not here, is still being
     *     written, or could not be read intact (counted in {@code oe_edge_disk_corrupt} or
     *     {@code oe_edge_disk_io_errors})
     */
    public byte[] get(ChunkKey key) {
        Objects.requireNonNull(key, "key");
        if (closed) {
            return null;
        }
        Entry e = cache.getIfPresent(key);
        if (e == null || e.state != State.READY) {
            return null;
        }
        Path file = file(key);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException ex) {
            if (e.state == State.DEAD) {
                return null; // evicted or purged while we looked: an ordinary miss
            }
            LOG.log(System.Logger.Level.WARNING, "disk cache chunk {0} lost its file {1}; dropped", key, file);
            corrupt.increment();
            drop(key, e);
            return null;
        } catch (IOException ex) {
            if (e.state == State.DEAD) {
                return null;
            }
            LOG.log(System.Logger.Level.WARNING, "cannot read disk cache chunk {0} from {1}: {2}; dropped",
                    key, file, ex.getMessage());
            ioErrors.increment();
            drop(key, e);
            return null;
        }
        // A key's bytes never change and files are replaced only by rename, so a read racing an
        // eviction sees the whole file or none; anything else that differs is damage.
        if (bytes.length == e.size && MessageDigest.isEqual(Blake3.hash(bytes), e.hash)) {
            return bytes;
        }
        if (e.state != State.DEAD) {
            LOG.log(System.Logger.Level.WARNING, "disk cache chunk {0} in {1} does not match its digest"
                    + " ({2} bytes, {3} expected); dropped", key, file, bytes.length, e.size);
            corrupt.increment();
            drop(key, e);
        }
        return null;
    }

    /**
     * Offers {@code bytes} as the chunk {@code key}. Nothing happens when the key is already here
     * (a key's bytes never change), when the chunk is larger than an eighth of the capacity, when
     * the eviction policy prefers what it holds, or when the file cannot be written (logged). The
     * file is durable (written, forced, renamed into place) before the chunk is served.
     *
     * @param bytes the chunk's bytes, already verified by the caller; not kept after the call
     */
    public void put(ChunkKey key, byte[] bytes) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(bytes, "bytes");
        if (closed || bytes.length > capacity / 8 || cache.asMap().containsKey(key)) {
            return;
        }
        Entry e = new Entry(bytes.length, Blake3.hash(bytes), System.currentTimeMillis(), false);
        if (!admit(key, e)) {
            return;
        }
        Path file = file(key);
        Path tmp = file.resolveSibling(file.getFileName() + "." + TMP_SEQ.incrementAndGet() + ".tmp");
        try {
            writeForced(tmp, bytes); // outside any lock: puts of different chunks overlap their fsyncs
        } catch (IOException ex) {
            LOG.log(System.Logger.Level.WARNING, "cannot cache chunk {0} in {1}: {2}", key, tmp, ex.getMessage());
            ioErrors.increment();
            deleteQuietly(tmp);
            drop(key, e);
            return;
        }
        boolean stored = false;
        synchronized (stripe(key)) {
            if (e.state != State.PENDING) {
                deleteQuietly(tmp); // evicted or purged while its file was written
                return;
            }
            try {
                moveIntoPlace(tmp, file);
                forceDirectory(file.getParent()); // the rename itself is durable
                indexPut(key, e);
                e.state = State.READY;
                stored = true;
            } catch (IOException | RocksDBException ex) {
                LOG.log(System.Logger.Level.WARNING, "cannot cache chunk {0} in {1}: {2}", key, file, ex.getMessage());
                ioErrors.increment();
                deleteQuietly(tmp);
                deleteQuietly(file); // still ours: no other entry for the key exists while e does
            }
        }
        if (!stored) {
            drop(key, e); // the listener only uncounts a PENDING entry: its files are gone already
        }
    }

    /**
     * Drops every chunk of {@code object}, found by a prefix scan of the index. A put of one of
     * its chunks still being written when the scan runs may land afterwards.
     *
     * @return how many chunks were dropped
     */
    public int purge(Cid object) {
        Objects.requireNonNull(object, "object");
        byte[] prefix = object.toBytes();
        List<byte[]> keys = new ArrayList<>();
        life.readLock().lock();
        try {
            if (closed) {
                return 0;
            }
            try (RocksIterator it = index.newIterator()) {
                for (it.seek(prefix); it.isValid(); it.next()) {
                    byte[] k = it.key();
                    if (k.length < prefix.length || !Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length)) {
                        break;
                    }
                    keys.add(k);
                }
            }
        } finally {
            life.readLock().unlock();
        }
        int dropped = 0;
        for (byte[] k : keys) {
            ChunkKey key = parseKey(k);
            if (key == null) {
                indexDelete(k); // not an entry this tier wrote (open() drops those too)
                continue;
            }
            Entry e = cache.policy().getIfPresentQuietly(key); // a purge is no use of the chunk
            if (e != null) {
                if (drop(key, e)) {
                    dropped++;
                } // else removed meanwhile: its listener deleted the index entry
                continue;
            }
            synchronized (stripe(key)) {
                // An entry the policy does not hold; re-checked under the stripe, since a put of the
                // same key writes its index entry under it and must not lose that to this delete.
                if (cache.policy().getIfPresentQuietly(key) == null) {
                    indexDelete(k);
                }
            }
        }
        return dropped;
    }

    /** The space the chunks take, in allocated bytes (files rounded up to 4 KiB, plus 4 KiB each); never above {@link #capacity()}. */
    public long used() {
        return used.get();
    }

    /** The most space the chunks may take, in bytes. */
    public long capacity() {
        return capacity;
    }

    /** The chunks held, those still being written included. */
    public long count() {
        return count.get();
    }

    /** Releases the index and removes the tier's meters; later gets miss and puts do nothing. Files stay for the next open. */
    @Override
    public void close() {
        life.writeLock().lock(); // waits for RocksDB calls in flight
        try {
            if (closed) {
                return;
            }
            closed = true;
            index.close();
            writeOptions.close();
            options.close();
        } finally {
            life.writeLock().unlock();
        }
        meters.forEach(metrics::remove);
    }

    /** The file of {@code key}: {@code chunks/XY/NAME}, NAME the hex of BLAKE3(CID bytes ‖ u64be index). */
    Path file(ChunkKey key) {
        String name = HEX.formatHex(Blake3.hash(indexKey(key)));
        return chunksDir.resolve(name.substring(0, 2)).resolve(name);
    }

    private boolean admit(ChunkKey key, Entry e) {
        admission.lock();
        try {
            if (closed || cache.asMap().putIfAbsent(key, e) != null) {
                return false;
            }
            cache.cleanUp(); // applies the insertion and evicts down to the maximum (maybe e itself)
            synchronized (stripe(key)) {
                if (e.state != State.NEW) {
                    return false; // TinyLFU preferred what it holds
                }
                e.state = e.loaded ? State.READY : State.PENDING;
                used.addAndGet(e.bytes());
                count.incrementAndGet();
                return true;
            }
        } finally {
            admission.unlock();
        }
    }

    /** Removes {@code e} if it is still {@code key}'s entry; the listener deletes its file. */
    private boolean drop(ChunkKey key, Entry e) {
        admission.lock();
        try {
            return cache.asMap().remove(key, e);
        } finally {
            admission.unlock();
        }
    }

    /** Caffeine's removal listener: runs once per removed entry, on the thread that removed it. */
    private void removed(ChunkKey key, Entry e, RemovalCause cause) {
        State before;
        synchronized (stripe(key)) {
            before = e.state;
            e.state = State.DEAD;
            if (before == State.READY || (before == State.NEW && e.loaded)) {
                deleteQuietly(file(key));
                indexDelete(indexKey(key));
            }
        }
        if (before == State.PENDING || before == State.READY) {
            used.addAndGet(-e.bytes());
            count.decrementAndGet();
        }
        boolean held = before == State.PENDING || before == State.READY || (before == State.NEW && e.loaded);
        if (cause == RemovalCause.SIZE && held) {
            evictions.increment(); // a newcomer TinyLFU turns away was never held, so it is no eviction
        }
    }

    /**
     * Reconciles the index with the files and hands the surviving entries to the policy, oldest
     * first, evicting down to the capacity.
     */
    private void load() throws IOException {
        List<Map.Entry<ChunkKey, Entry>> entries = new ArrayList<>();
        Set<Path> known = new java.util.HashSet<>();
        try (RocksIterator it = index.newIterator(); WriteBatch stale = new WriteBatch()) {
            int dropped = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                ChunkKey key = parseKey(it.key());
                Entry e = key == null ? null : parseValue(it.value());
                Path f = key == null ? null : file(key);
                if (e == null || e.size > capacity / 8 || !hasSize(f, e.size)) {
                    stale.delete(it.key()); // unreadable, too large for this capacity, or its file is gone or cut
                    dropped++;
                    continue;
                }
                known.add(f);
                entries.add(Map.entry(key, e));
            }
            if (dropped > 0) {
                index.write(writeOptions, stale);
                LOG.log(System.Logger.Level.INFO, "dropped {0} disk cache index entries without a usable file in {1}",
                        dropped, dir);
            }
        } catch (RocksDBException e) {
            throw new IOException("cannot read the disk cache index in " + dir + ": " + e.getMessage(), e);
        }
        try (Stream<Path> files = Files.walk(chunksDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!known.contains(f)) {
                    Files.delete(f); // a put that crashed before its index entry, or a stray file
                }
            }
        }
        try (Stream<Path> subs = Files.list(chunksDir)) {
            durableDirs.addAll(subs.filter(Files::isDirectory).toList());
        }
        forceDirectory(chunksDir); // sub-directories made by a run killed before it forced them
        entries.sort(Comparator.comparingLong(m -> m.getValue().storedAt));
        for (Map.Entry<ChunkKey, Entry> m : entries) {
            admit(m.getKey(), m.getValue()); // a rejected one is deleted by the listener
        }
    }

    private static boolean hasSize(Path f, long size) {
        try {
            return Files.size(f) == size;
        } catch (IOException e) {
            return false;
        }
    }

    private void writeForced(Path tmp, byte[] bytes) throws IOException {
        Path sub = tmp.getParent();
        if (!durableDirs.contains(sub)) {
            Files.createDirectories(sub);
            forceDirectory(chunksDir); // the new directory's entry, before a chunk in it counts as stored
            durableDirs.add(sub);
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    private static void moveIntoPlace(Path tmp, Path file) throws IOException {
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void forceDirectory(Path d) throws IOException {
        try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete disk cache file {0}: {1} (removed at the next open)",
                    f, e.getMessage());
        }
    }

    private void indexPut(ChunkKey key, Entry e) throws RocksDBException, IOException {
        ByteBuffer v = ByteBuffer.allocate(VALUE_LENGTH).putLong(e.size).put(e.hash).putLong(e.storedAt);
        life.readLock().lock();
        try {
            if (closed) {
                throw new IOException("the disk tier is closed");
            }
            index.put(writeOptions, indexKey(key), v.array());
        } finally {
            life.readLock().unlock();
        }
    }

    private void indexDelete(byte[] k) {
        life.readLock().lock();
        try {
            if (!closed) {
                index.delete(writeOptions, k);
            }
        } catch (RocksDBException e) {
            // the entry's file is gone, so the next open drops it
            LOG.log(System.Logger.Level.WARNING, "cannot delete a disk cache index entry in {0}: {1}", dir, e.getMessage());
        } finally {
            life.readLock().unlock();
        }
    }

    private static byte[] indexKey(ChunkKey key) {
        byte[] cid = key.object().toBytes();
        return ByteBuffer.allocate(cid.length + 8).put(cid).putLong(key.index()).array();
    }

    /** The key of an index entry, or null when it is not one this tier wrote. */
    private static ChunkKey parseKey(byte[] k) {
        if (k.length <= 8) {
            return null;
        }
        try {
            Cid cid = Cid.fromBytes(Arrays.copyOf(k, k.length - 8));
            long index = ByteBuffer.wrap(k, k.length - 8, 8).getLong();
            return index < 0 ? null : new ChunkKey(cid, index);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Entry parseValue(byte[] v) {
        if (v.length != VALUE_LENGTH) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(v);
        long size = b.getLong();
        byte[] hash = new byte[32];
        b.get(hash);
        long storedAt = b.getLong();
        return size < 0 || size > Integer.MAX_VALUE ? null : new Entry(size, hash, storedAt, true);
    }

    private Object stripe(ChunkKey key) {
        return stripes[Math.floorMod(key.hashCode(), STRIPES)];
    }

    private <M extends Meter> M register(M meter) {
        meters.add(meter);
        return meter;
    }
}
