package io.oecloud.node.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * The shards a node holds: one file per shard under {@code shards/XY/CID} (XY from the CID's
 * last two characters, so no directory grows huge), indexed by RocksDB ({@code index/}: CID ->
 * {@link StoredShard}). Chosen over RocksDB BlobDB by measurement (benchmarks/README.md: with
 * direct I/O, durable writes 1.7x and CID-checked reads 1.3x BlobDB's; and plain files are what
 * sealed sectors and ranged proof reads will want).
 *
 * <p>Shard files bypass the page cache where the file system allows it ({@link ShardFiles}: direct
 * I/O; why, and the fallback).
 *
 * <p>Durability: a put writes {@code CID.N.tmp}, fsyncs it, renames it into place, fsyncs the
 * directory, and then writes the index entry with a synced WAL; only then is it acknowledged.
 * Puts of different shards write their files concurrently; only the index and the capacity
 * accounting are serialised. A
 * crash before the index entry leaves a file the index does not know, which {@link #open}
 * deletes (it was never acknowledged); an index entry whose file vanished is dropped and
 * reported like a corrupt shard.
 *
 * <p>Every shard is checked against its CID when it is stored, before it is served, and when it
 * is reported as held; {@link #scrub()} re-hashes everything on a schedule. A shard whose bytes no
 * longer match is dropped, never served, and reported to the corruption listeners (repair).
 *
 * <p>Thread-safe. Owns its RocksDB handles; {@link #close()} releases them.
 */
public final class ShardStore implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private static final System.Logger LOG = System.getLogger(ShardStore.class.getName());

    /** {@code -Doe.store.directIo=false} keeps shard files in the page cache (to compare, or to work around a file system). */
    public static final String DIRECT_IO_PROPERTY = "oe.store.directIo";

    private final Path dir;
    private final Path shardsDir;
    private final ShardFiles files;
    private final long capacity;
    private final Options options;
    private final RocksDB index;
    private final WriteOptions durable = new WriteOptions().setSync(true);
    private final AtomicLong used = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
    private final List<Consumer<Cid>> corruptionListeners = new CopyOnWriteArrayList<>();
    private final Object writeLock = new Object();
    /**
     * Read-held around every RocksDB call, write-held by {@link #close}: RocksJava frees the native
     * database on close, and a call racing it (a scrub still running while the node stops) crashes
     * the JVM instead of failing.
     */
    private final java.util.concurrent.locks.ReentrantReadWriteLock life = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private boolean closed;
    /** Bytes of puts whose files are being written (guarded by writeLock). */
    private long reserved;
    /** CIDs whose files are being written: never deleted meanwhile (guarded by writeLock). */
    private final java.util.Map<Cid, Integer> writing = new java.util.HashMap<>();
    private static final AtomicLong TMP_SEQ = new AtomicLong();
    /**
     * How long a full check of a shard lets HAS answer without hashing it again, as long as its
     * file is still the one checked (size, modification time, inode). Repair probes every shard of
     * a segment and health queries probe every shard of an object: without this, each probe reads
     * and hashes whole shards (a 1 GiB object's health query hashed 1.5 GiB).
     */
    public static final Duration HAS_TRUSTS_A_CHECK_FOR = Duration.ofSeconds(60);
    private final Cache<Cid, Checked> checked = Caffeine.newBuilder()
            .maximumSize(200_000).expireAfterWrite(HAS_TRUSTS_A_CHECK_FOR).build();

    /** The file a full check saw. */
    private record Checked(long size, FileTime modified, Object fileKey) {
        static Checked of(BasicFileAttributes a) {
            return new Checked(a.size(), a.lastModifiedTime(), a.fileKey());
        }
    }

    private ShardStore(Path dir, long capacity, boolean directIo) throws StoreException {
        this.dir = dir;
        this.shardsDir = dir.resolve("shards");
        this.capacity = capacity;
        this.options = new Options().setCreateIfMissing(true);
        try {
            Files.createDirectories(shardsDir);
            this.files = directIo ? ShardFiles.open(shardsDir) : ShardFiles.buffered();
            this.index = RocksDB.open(options, dir.resolve("index").toString());
        } catch (Exception e) {
            options.close();
            durable.close();
            throw new StoreException(StoreException.Code.IO, "cannot open the shard store at " + dir + ": " + e.getMessage(), e);
        }
        reconcile();
    }

    /**
     * Opens (or creates) the store in {@code dir}, deleting files of puts that were never
     * acknowledged.
     *
     * @param capacityBytes refuse puts that would make the stored shards exceed this
     */
    public static ShardStore open(Path dir, long capacityBytes) throws StoreException {
        return open(dir, capacityBytes, !"false".equals(System.getProperty(DIRECT_IO_PROPERTY)));
    }

    /** Whether shard files bypass the page cache. */
    public boolean directIo() {
        return files.direct();
    }

    /**
     * As {@link #open(Path, long)}; {@code directIo} false keeps shard files in the page cache
     * (when true, direct I/O is used where the file system allows it: {@link ShardFiles}).
     */
    public static ShardStore open(Path dir, long capacityBytes, boolean directIo) throws StoreException {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacity must be positive, was " + capacityBytes);
        }
        return new ShardStore(dir, capacityBytes, directIo);
    }

    private void reconcile() throws StoreException {
        Set<Path> known = new HashSet<>();
        for (StoredShard s : list()) {
            known.add(file(s.cid()));
            used.addAndGet(s.size());
            count.incrementAndGet();
        }
        try (Stream<Path> files = Files.walk(shardsDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!known.contains(f)) {
                    Files.delete(f); // a put that crashed before its index entry: never acknowledged
                }
            }
        } catch (IOException e) {
            throw new StoreException(StoreException.Code.IO, "cannot scan " + shardsDir + ": " + e.getMessage(), e);
        }
    }

    Path file(Cid cid) {
        String name = cid.toString();
        return shardsDir.resolve(name.substring(name.length() - 2)).resolve(name);
    }

    /** Called with the CID of every shard found corrupt or missing (and dropped). */
    public void onCorrupt(Consumer<Cid> listener) {
        corruptionListeners.add(listener);
    }

    public long capacity() {
        return capacity;
    }

    public long used() {
        return used.get();
    }

    /** Shards held. */
    public int count() {
        return count.get();
    }

    /** {@link #put(Cid, byte[], byte[])} without an owner (nothing pins it; tests and repair staging). */
    public StoredShard put(Cid cid, byte[] data) throws StoreException {
        return put(cid, data, null);
    }

    /**
     * Stores {@code data} under {@code cid} after checking that it hashes to it, pinned by
     * {@code owner} (an Ed25519 public key, or null); returns once it is durable. Storing a shard
     * already held only adds a pin (pins are counted: each needs its own unpin).
     *
     * @throws StoreException CID_MISMATCH, FULL or IO
     */
    public StoredShard put(Cid cid, byte[] data, byte[] owner) throws StoreException {
        checkOwner(owner);
        if (!cid.verify(data)) {
            throw new StoreException(StoreException.Code.CID_MISMATCH,
                    "refusing " + data.length + " bytes that do not hash to " + cid);
        }
        return store(cid, data.length, tmp -> files.write(tmp, data), owner);
    }

    /**
     * {@link #put(Cid, byte[], byte[])} for bytes the caller has just computed {@code cid} from,
     * in this process (an upload's own shards and manifest): the store does not hash them a second
     * time. Bytes from anywhere else, a peer above all, go through {@link #put(Cid, byte[], byte[])}.
     */
    public StoredShard putComputed(Cid cid, byte[] data, byte[] owner) throws StoreException {
        checkOwner(owner);
        return store(cid, data.length, tmp -> files.write(tmp, data), owner);
    }

    /**
     * A buffer to receive a shard of {@code size} bytes into and then {@link #put(Cid, ByteBuffer, byte[])}:
     * a direct buffer that the store writes as it is (no copy, no zeroed array per shard). Hand it
     * back with {@link #recycle} once done with it, whatever happened.
     */
    public ByteBuffer receiveBuffer(int size) {
        return files.buffer(size);
    }

    /** Takes back a buffer of {@link #receiveBuffer}; the caller must not touch it again. */
    public void recycle(ByteBuffer buffer) {
        files.recycle(buffer);
    }

    /**
     * {@link #put(Cid, byte[], byte[])} for the bytes of {@code data}, a buffer of
     * {@link #receiveBuffer} (position 0 to its limit). The buffer stays the caller's.
     */
    public StoredShard put(Cid cid, ByteBuffer data, byte[] owner) throws StoreException {
        checkOwner(owner);
        if (!cid.verify(data.duplicate())) {
            throw new StoreException(StoreException.Code.CID_MISMATCH,
                    "refusing " + data.limit() + " bytes that do not hash to " + cid);
        }
        return store(cid, data.limit(), tmp -> files.write(tmp, data), owner);
    }

    private static void checkOwner(byte[] owner) {
        if (owner != null && owner.length != StoredShard.KEY) {
            throw new IllegalArgumentException("owner must be a 32-byte Ed25519 key, was " + owner.length + " bytes");
        }
    }

    private interface FileWriter {
        void write(Path file) throws IOException;
    }

    /** Stores verified bytes of {@code length} that {@code writer} writes and forces to a file. */
    private StoredShard store(Cid cid, int length, FileWriter writer, byte[] owner) throws StoreException {
        synchronized (writeLock) {
            StoredShard existing = metadata(cid);
            if (existing != null) {
                return owner == null ? existing : writeMeta(existing.withOwner(owner));
            }
            if (used.get() + reserved + length > capacity) {
                throw new StoreException(StoreException.Code.FULL, "store is full: " + (used.get() + reserved) + " of " + capacity
                        + " bytes used or being written, shard " + cid + " needs " + length);
            }
            reserved += length;
            writing.merge(cid, 1, Integer::sum);
        }
        // The file is written and made durable outside the lock, so puts of different shards
        // overlap their fsyncs (and RocksDB groups their synced index writes) instead of queueing.
        Path f = file(cid);
        boolean written = false;
        try {
            Path tmp = f.resolveSibling(f.getFileName() + "." + TMP_SEQ.incrementAndGet() + ".tmp");
            try {
                if (!Files.isDirectory(f.getParent())) { // createDirectories throws inside when it exists
                    Files.createDirectories(f.getParent());
                }
                writer.write(tmp); // forced to the device before the rename
                try {
                    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
                }
                try (FileChannel d = FileChannel.open(f.getParent(), StandardOpenOption.READ)) {
                    d.force(true); // the rename itself is durable
                }
            } catch (IOException e) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // removed at the next start
                }
                throw new StoreException(StoreException.Code.IO, "cannot write shard " + cid + " to " + f + ": " + e.getMessage(), e);
            }
            written = true;
        } finally {
            if (!written) {
                synchronized (writeLock) {
                    reserved -= length;
                    writing.computeIfPresent(cid, (k, n) -> n == 1 ? null : n - 1);
                }
            }
        }
        synchronized (writeLock) {
            reserved -= length;
            writing.computeIfPresent(cid, (k, n) -> n == 1 ? null : n - 1);
            StoredShard existing = metadata(cid);
            if (existing != null) { // the same shard was put meanwhile: the file is the same bytes
                return owner == null ? existing : writeMeta(existing.withOwner(owner));
            }
            long now = System.currentTimeMillis();
            StoredShard s = new StoredShard(cid, length, new Holding.Raw(), now, now,
                    owner == null ? List.of() : List.of(new StoredShard.Pin(owner.clone(), 1)), owner == null ? now : 0);
            writeMeta(s);
            used.addAndGet(length);
            count.incrementAndGet();
            return s;
        }
    }

    private StoredShard writeMeta(StoredShard s) throws StoreException {
        enter();
        try {
            index.put(durable, s.cid().toBytes(), s.encode());
            return s;
        } catch (RocksDBException e) {
            throw io("index " + s.cid(), e);
        } finally {
            exit();
        }
    }

    private void enter() throws StoreException {
        life.readLock().lock();
        if (closed) {
            life.readLock().unlock();
            throw new StoreException(StoreException.Code.CLOSED, "the shard store at " + dir + " is closed");
        }
    }

    private void exit() {
        life.readLock().unlock();
    }

    /**
     * Removes one of {@code owner}'s pins; a shard no one pins any more becomes garbage, collected by
     * {@link #collectGarbage} after the grace period.
     *
     * @return false if the shard is not here or that owner did not pin it
     */
    public boolean unpin(Cid cid, byte[] owner) throws StoreException {
        synchronized (writeLock) {
            StoredShard s = metadata(cid);
            if (s == null || !s.isPinnedBy(owner)) {
                return false;
            }
            writeMeta(s.withoutOwner(owner, System.currentTimeMillis()));
            return true;
        }
    }

    /** Deletes shards unpinned for longer than {@code graceMillis}; returns how many. */
    public int collectGarbage(long graceMillis) throws StoreException {
        long now = System.currentTimeMillis();
        int n = 0;
        for (StoredShard s : list()) {
            if (s.pins().isEmpty() && s.unpinnedAtMillis() > 0 && now - s.unpinnedAtMillis() >= graceMillis) {
                n += delete(s.cid()) ? 1 : 0;
            }
        }
        return n;
    }

    /** What the store records about {@code cid}, or null. */
    public StoredShard metadata(Cid cid) throws StoreException {
        enter();
        try {
            byte[] m = index.get(cid.toBytes());
            return m == null ? null : StoredShard.decode(cid, m);
        } catch (RocksDBException e) {
            throw io("read the index entry of " + cid, e);
        } finally {
            exit();
        }
    }

    /**
     * The shard's bytes, checked against its CID first.
     *
     * @throws StoreException NOT_FOUND; CORRUPT (the shard was dropped and reported); IO
     */
    public byte[] get(Cid cid) throws StoreException {
        if (metadata(cid) == null) {
            throw new StoreException(StoreException.Code.NOT_FOUND, "no shard " + cid + " here");
        }
        byte[] data;
        BasicFileAttributes seen;
        try {
            // attributes first: a write between the two makes them disagree with the file later,
            // which only costs HAS a full check
            seen = Files.readAttributes(file(cid), BasicFileAttributes.class);
            data = files.read(file(cid));
        } catch (NoSuchFileException e) {
            drop(cid, "its file is gone");
            throw new StoreException(StoreException.Code.CORRUPT, "shard " + cid + " lost its file and was dropped");
        } catch (IOException e) {
            throw new StoreException(StoreException.Code.IO, "cannot read shard " + cid + ": " + e.getMessage(), e);
        }
        if (!cid.verify(data)) {
            drop(cid, "bytes no longer match the CID");
            throw new StoreException(StoreException.Code.CORRUPT, "shard " + cid + " is corrupt and was dropped");
        }
        checked.put(cid, Checked.of(seen));
        return data;
    }

    /**
     * {@code length} bytes from {@code offset}, after the whole shard was checked against its CID.
     *
     * @throws StoreException BAD_RANGE when the range leaves the shard; as {@link #get(Cid)} otherwise
     */
    public byte[] get(Cid cid, long offset, int length) throws StoreException {
        byte[] all = get(cid);
        if (offset < 0 || length < 0 || offset + length > all.length) {
            throw new StoreException(StoreException.Code.BAD_RANGE, "range " + offset + "+" + length
                    + " is outside shard " + cid + " of " + all.length + " bytes");
        }
        return java.util.Arrays.copyOfRange(all, (int) offset, (int) offset + length);
    }

    /**
     * Whether the shard is here and matches its CID: checked in full, unless a full check in the
     * last {@link #HAS_TRUSTS_A_CHECK_FOR} saw the same file (a corrupt one is dropped and reported).
     */
    public boolean has(Cid cid) throws StoreException {
        Checked c = checked.getIfPresent(cid);
        if (c != null && metadata(cid) != null) {
            try {
                if (c.equals(Checked.of(Files.readAttributes(file(cid), BasicFileAttributes.class)))) {
                    return true;
                }
            } catch (IOException e) {
                // gone or unreadable: the full check below says so
            }
        }
        try {
            get(cid);
            return true;
        } catch (StoreException e) {
            if (e.code() == StoreException.Code.NOT_FOUND || e.code() == StoreException.Code.CORRUPT) {
                return false;
            }
            throw e;
        }
    }

    /** Removes a shard (index entry first, then its file); returns whether it was here. */
    public boolean delete(Cid cid) throws StoreException {
        synchronized (writeLock) {
            StoredShard s = metadata(cid);
            if (s == null) {
                return false;
            }
            enter();
            try {
                index.delete(durable, cid.toBytes());
            } catch (RocksDBException e) {
                throw io("delete " + cid, e);
            } finally {
                exit();
            }
            used.addAndGet(-s.size());
            count.decrementAndGet();
            checked.invalidate(cid);
            if (writing.containsKey(cid)) {
                return true; // a put is writing this shard's file anew: it stays, and the put records it again
            }
            try {
                Files.deleteIfExists(file(cid));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1} (removed at the next start)", file(cid), e.getMessage());
            }
            return true;
        }
    }

    /** Every shard held, ordered by CID bytes. */
    public List<StoredShard> list() throws StoreException {
        List<StoredShard> out = new ArrayList<>();
        enter();
        try (RocksIterator it = index.newIterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(StoredShard.decode(Cid.fromBytes(it.key()), it.value()));
            }
        } finally {
            exit();
        }
        return out;
    }

    /**
     * Re-hashes every shard; drops and reports those that no longer match.
     *
     * @return the CIDs found corrupt or missing
     */
    public List<Cid> scrub() throws StoreException {
        List<Cid> corrupt = new ArrayList<>();
        for (StoredShard s : list()) {
            try {
                get(s.cid());
                enter();
                try {
                    index.put(s.cid().toBytes(), s.verifiedAt(System.currentTimeMillis()).encode());
                } finally {
                    exit();
                }
            } catch (StoreException e) {
                if (e.code() == StoreException.Code.CORRUPT) {
                    corrupt.add(s.cid());
                } else if (e.code() != StoreException.Code.NOT_FOUND) {
                    throw e;
                }
            } catch (RocksDBException e) {
                throw io("record the scrub of " + s.cid(), e);
            }
        }
        return corrupt;
    }

    private void drop(Cid cid, String why) throws StoreException {
        LOG.log(System.Logger.Level.WARNING, "dropping shard {0} from {1}: {2}", cid, dir, why);
        delete(cid);
        for (Consumer<Cid> l : corruptionListeners) {
            l.accept(cid);
        }
    }

    private StoreException io(String what, RocksDBException e) {
        return new StoreException(StoreException.Code.IO, "cannot " + what + " in " + dir + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        life.writeLock().lock(); // waits for RocksDB calls in flight; later ones fail with CLOSED
        try {
            if (closed) {
                return;
            }
            closed = true;
            index.close();
            durable.close();
            options.close();
        } finally {
            life.writeLock().unlock();
        }
    }
}
