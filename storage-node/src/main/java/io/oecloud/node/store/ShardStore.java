package io.oecloud.node.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.Outboard;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.slice.SliceProofException;
import io.oecloud.proofs.slice.SliceProver;
import java.io.ByteArrayOutputStream;
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
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import io.oecloud.dht.PeerId;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
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
 * directory (and, the first time a sub-directory {@code XY/} is used, {@code shards/} too, so the
 * new directory's own entry survives a power loss), and then writes the index entry with a synced
 * WAL; only then is it acknowledged.
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
 * <p>Every change of an index entry reads the entry and writes it back under one lock
 * ({@code writeLock}): the garbage collector and the scrubber work from a snapshot of the index,
 * but re-read each entry under the lock before they delete or rewrite it, so a pin added meanwhile
 * (an acknowledged upload) is never lost or deleted.
 *
 * <p>Each BLAKE3 shard has an outboard (its tree's parents above 16 KiB groups, 0.39 % of it),
 * built by the pass that checks a put against its CID and written in the index entry's batch;
 * {@link #prove} answers "chunks [a, a + n) of this shard, with proof" from it and the groups the
 * range touches, and verifies the proof before returning it. Outboards are never trusted: a
 * missing or bad one is rebuilt from the shard once the shard is checked against its CID (also by
 * {@link #scrub}); they go with their shard.
 *
 * <p>For proofs of storage the store lists what it can prove ({@link #forEachEntry}: pinned BLAKE3
 * raw shards as node-root entries, in CID order) and keeps a proving period's committed set
 * collectable by nothing but {@link #release}: {@link #hold} records it durably, and garbage
 * collection skips a held shard ({@code io.oecloud.node.proving.Prover} drives both).
 *
 * <p>Space is counted in allocated blocks ({@link #allocated}), for the capacity and for the
 * owners' {@link Quotas}. Signed shard deletes are single-use: {@link #unpinOnce} remembers each
 * one's nonce, in the same synced write as the unpin, until the signature expires.
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

    /** The block a file system allocates: a shard's file is counted in whole blocks. */
    public static final int BLOCK = 4096;
    /** What a shard costs beyond its blocks: its inode and index entry, counted as one more block. */
    public static final int PER_SHARD_OVERHEAD = 4096;
    /** Signed deletes remembered at once (each until its signature expires, at most an hour); beyond, deletes are refused. */
    static final int MAX_REMEMBERED_DELETES = 1_000_000;
    private static final byte[] DELETES_FAMILY = "used-deletes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] OUTBOARDS_FAMILY = "outboards".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] HOLDS_FAMILY = "holds".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] RECEIPTS_FAMILY = "receipts".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] PROVISIONAL_FAMILY = "provisional".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /**
     * A stored receipt's format: {@code u8 1 | u64be period | u32be n | (u8 len | CID bytes | u64be size)*n}; the
     * value for an (owner, object) is the one in force followed by earlier ones ({@link #recordReceipt}).
     */
    static final int RECEIPT_FORMAT = 1;
    /** Receipts kept for one object and payer, the one in force included. */
    static final int RECEIPT_VERSIONS = 4;
    /** Earlier receipts are kept only while the record stays within this many bytes (1 MiB: ~23,000 blocks). */
    static final int RECEIPT_VERSIONS_BYTES = 1 << 20;
    /** Hold keys: {@code 'p' | u64be period} (the marker) and {@code 'p' | u64be period | first CID's bytes} (a page). */
    private static final byte HOLD_BY_PERIOD = 'p';
    /** The hold marker's value: {@code u8 format (1) | u64be entries | u64be unprovable}; pages: {@code (u8 len | CID bytes | u64be size)*}. */
    static final int HOLD_FORMAT = 1;
    /** Entries in one page of a hold (about 180 KiB with 36-byte CIDs): 25 values for 100,000 shards. */
    static final int HOLD_PAGE_ENTRIES = 4096;
    /** The most chunks one {@link #prove} answers: 1 MiB of shard bytes. */
    public static final int MAX_PROVE_CHUNKS = 1024;
    /** The stored outboard's format: {@code u8 version (1) | u8 log2(group chunks) | pairs}. */
    static final int OUTBOARD_FORMAT = 1;
    static final int OUTBOARD_HEADER = 2;

    private final Path dir;
    private final Path shardsDir;
    private final ShardFiles files;
    private final long capacity;
    private final Quotas quotas;
    /**
     * What "now" is for the times the store records (stored, verified, unpinned), the garbage grace
     * and the expiry of remembered delete nonces: tests move it instead of waiting. The HAS trust
     * window ({@link #HAS_TRUSTS_A_CHECK_FOR}) runs on Caffeine's own ticker: it only saves work.
     */
    private final InstantSource clock;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions familyOptions;
    private final RocksDB index;
    private final ColumnFamilyHandle shardFamily;
    /** Signed deletes used: owner key || nonce -> the signature's expiry (8 bytes, big-endian). */
    private final ColumnFamilyHandle deletesFamily;
    /**
     * Each BLAKE3 shard's outboard ({@link Outboard}: the tree's parents above 16 KiB groups, 0.39 %
     * of the shard): CID -> {@code u8 1 | u8 log2(groupChunks) | pairs}.
     *
     * <p>Why RocksDB and not a sidecar file: the outboard goes into the same synced write batch as
     * the shard's index entry, so a crash leaves both or neither and nothing needs ordering or
     * cleaning up; deletes remove both in one batch. A few KiB to 128 KiB a value is well within
     * what RocksDB keeps inline, and a proof reads one value instead of opening a second file.
     * The bytes are never trusted: their top pair must give the CID's digest, and every proof made
     * from them is verified before it leaves ({@link #prove}); a missing or bad one is rebuilt from
     * the shard after the shard is checked against its CID.
     */
    private final ColumnFamilyHandle outboardFamily;
    /**
     * Commitment holds ({@link #hold}): per proving period, a marker and the entries (CID, size)
     * of the node root committed for it in pages of {@link #HOLD_PAGE_ENTRIES}, each page keyed by
     * its first CID so that one {@code seekForPrev} finds the page that would hold a CID (what
     * garbage collection asks). Written and deleted in one synced batch. Why pages and not a key an
     * entry: a key an entry (two, with a by-shard index for GC) made holding 100,000 shards a
     * 0.28 s batch under the write lock and releasing them 0.3 s; pages make both a few ms.
     */
    private final ColumnFamilyHandle holdsFamily;
    /**
     * Receipts this node signed (paid storage): {@code payer key (32) | object CID} -> the period
     * and the blocks (CID, size) it signed for ({@link SignedReceipt}). The latest per (object,
     * payer) replaces the one before: a contract is made from one receipt per holder.
     */
    private final ColumnFamilyHandle receiptsFamily;
    /**
     * Blocks admitted provisionally (paid storage): {@code owner key (32) | CID} -> {@code u64be
     * size | u64be admitted at (unix ms)}: pinned by an owner whose account could pay, awaiting a
     * contract ({@link Provisional}).
     */
    private final ColumnFamilyHandle provisionalFamily;
    private final WriteOptions durable = new WriteOptions().setSync(true);
    private final WriteOptions relaxed = new WriteOptions();
    /** Space charged to each owner key, in allocated bytes, puts in progress included (guarded by writeLock). */
    private final Map<ByteBuffer, Long> charged = new HashMap<>();
    /** The part of {@link #charged} that untrusted keys hold together (guarded by writeLock). */
    private long strangersCharged;
    /** Entries in the deletes family (guarded by writeLock). */
    private long rememberedDeletes;
    /** Shard sub-directories known to be durable in {@code shards/}. */
    private final Set<Path> durableDirs = ConcurrentHashMap.newKeySet();

    // Test seams: each runs at a point where a concurrent change was once lost. No-ops in production.
    /** Runs in {@link #collectGarbage} between reading the index and deleting a shard it found unpinned. */
    volatile Runnable beforeGarbageDelete = () -> { };
    /** Runs in {@link #hold} between listing the entries and writing the hold, under the write lock. */
    volatile Runnable beforeHoldWrite = () -> { };
    /** Entries a page of a hold gets ({@link #HOLD_PAGE_ENTRIES}; tests make pages small). */
    volatile int holdPageEntries = HOLD_PAGE_ENTRIES;
    /** Runs in {@link #scrub} between checking a shard and recording the check. */
    volatile Runnable beforeScrubRecord = () -> { };
    /** Runs with every directory forced to the device. */
    volatile Consumer<Path> directoryForced = d -> { };
    private final AtomicLong used = new AtomicLong();
    /** Writes that changed shards, pins, receipts or provisional records: {@link #mutations}. */
    private final AtomicLong mutations = new AtomicLong();
    /** Outboards the scrub found missing or damaged and wrote anew (a metric for tests). */
    private final AtomicLong outboardsRebuilt = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
    private final List<Consumer<Cid>> corruptionListeners = new CopyOnWriteArrayList<>();
    private final Object writeLock = new Object();
    private final Object receiptsLock = new Object(); // a receipt's record is read, then rewritten with the earlier ones
    /**
     * Read-held around every RocksDB call, write-held by {@link #close}: RocksJava frees the native
     * database on close, and a call racing it (a scrub still running while the node stops) crashes
     * the JVM instead of failing.
     */
    private final java.util.concurrent.locks.ReentrantReadWriteLock life = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private boolean closed;
    /** Allocated bytes of puts whose files are being written (guarded by writeLock). */
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

    private ShardStore(Path dir, long capacity, boolean directIo, Quotas quotas, InstantSource clock) throws StoreException {
        this.dir = dir;
        this.shardsDir = dir.resolve("shards");
        this.capacity = capacity;
        this.quotas = quotas;
        this.clock = clock;
        this.dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
        this.familyOptions = new ColumnFamilyOptions();
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            Files.createDirectories(shardsDir);
            this.files = directIo ? ShardFiles.open(shardsDir) : ShardFiles.buffered();
            this.index = RocksDB.open(dbOptions, dir.resolve("index").toString(), List.of(
                    new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions),
                    new ColumnFamilyDescriptor(DELETES_FAMILY, familyOptions),
                    new ColumnFamilyDescriptor(OUTBOARDS_FAMILY, familyOptions),
                    new ColumnFamilyDescriptor(HOLDS_FAMILY, familyOptions),
                    new ColumnFamilyDescriptor(RECEIPTS_FAMILY, familyOptions),
                    new ColumnFamilyDescriptor(PROVISIONAL_FAMILY, familyOptions)), handles);
        } catch (Exception e) {
            handles.forEach(ColumnFamilyHandle::close);
            familyOptions.close();
            dbOptions.close();
            durable.close();
            relaxed.close();
            throw new StoreException(StoreException.Code.IO, "cannot open the shard store at " + dir + ": " + e.getMessage(), e);
        }
        this.shardFamily = handles.get(0);
        this.deletesFamily = handles.get(1);
        this.outboardFamily = handles.get(2);
        this.holdsFamily = handles.get(3);
        this.receiptsFamily = handles.get(4);
        this.provisionalFamily = handles.get(5);
        try {
            reconcile();
        } catch (StoreException | RuntimeException e) {
            close();
            throw e;
        }
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
        return open(dir, capacityBytes, directIo, Quotas.unlimited());
    }

    /** As {@link #open(Path, long)}, admitting pins within {@code quotas}. */
    public static ShardStore open(Path dir, long capacityBytes, Quotas quotas) throws StoreException {
        return open(dir, capacityBytes, quotas, InstantSource.system());
    }

    /** As {@link #open(Path, long, Quotas)}, its times read from {@code clock} (a node's clock; tests move theirs). */
    public static ShardStore open(Path dir, long capacityBytes, Quotas quotas, InstantSource clock) throws StoreException {
        return open(dir, capacityBytes, !"false".equals(System.getProperty(DIRECT_IO_PROPERTY)), quotas, clock);
    }

    /** As {@link #open(Path, long, boolean)}, admitting pins within {@code quotas}. */
    public static ShardStore open(Path dir, long capacityBytes, boolean directIo, Quotas quotas) throws StoreException {
        return open(dir, capacityBytes, directIo, quotas, InstantSource.system());
    }

    private static ShardStore open(Path dir, long capacityBytes, boolean directIo, Quotas quotas, InstantSource clock)
            throws StoreException {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacity must be positive, was " + capacityBytes);
        }
        return new ShardStore(dir, capacityBytes, directIo, java.util.Objects.requireNonNull(quotas, "quotas"),
                java.util.Objects.requireNonNull(clock, "clock"));
    }

    /**
     * The space a shard of {@code size} bytes takes: its file in whole {@link #BLOCK}s plus
     * {@link #PER_SHARD_OVERHEAD} for its inode and index entry. A 64-byte shard costs 8 KiB.
     */
    public static long allocated(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK + PER_SHARD_OVERHEAD;
    }

    private void reconcile() throws StoreException {
        Set<Path> known = new HashSet<>();
        synchronized (writeLock) {
            for (StoredShard s : list()) {
                known.add(file(s.cid()));
                used.addAndGet(allocated(s.size()));
                count.incrementAndGet();
                recharge(null, s);
            }
            rememberedDeletes = countDeletes();
            dropOrphanOutboards();
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
        try (Stream<Path> subs = Files.list(shardsDir)) {
            // A sub-directory made by a process that was killed before it forced shards/ may still be
            // only in the page cache: one force here makes every one present durable.
            List<Path> present = subs.filter(Files::isDirectory).toList();
            forceDirectory(shardsDir);
            forceDirectory(dir);
            durableDirs.addAll(present);
        } catch (IOException e) {
            throw new StoreException(StoreException.Code.IO, "cannot make " + shardsDir + " durable: " + e.getMessage(), e);
        }
    }

    private void forceDirectory(Path d) throws IOException {
        try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
            c.force(true);
        }
        directoryForced.accept(d);
    }

    /** Deletes outboards whose shard has no index entry (none should exist: they are written and deleted together). */
    private void dropOrphanOutboards() throws StoreException {
        enter();
        try (RocksIterator it = index.newIterator(outboardFamily); WriteBatch batch = new WriteBatch()) {
            int n = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                if (index.get(shardFamily, it.key()) == null) {
                    batch.delete(outboardFamily, it.key());
                    n++;
                }
            }
            if (n > 0) {
                index.write(durable, batch);
                LOG.log(System.Logger.Level.INFO, "dropped {0} outboards of shards no longer held in {1}", n, dir);
            }
        } catch (RocksDBException e) {
            throw io("drop orphan outboards", e);
        } finally {
            exit();
        }
    }

    private long countDeletes() throws StoreException {
        enter();
        try (RocksIterator it = index.newIterator(deletesFamily)) {
            long n = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                n++;
            }
            return n;
        } finally {
            exit();
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

    /** Allocated bytes of the shards held ({@link #allocated} of each). */
    public long used() {
        return used.get();
    }

    /** The clock the store's times are read from; the shard server checks signature windows against it too. */
    public InstantSource clock() {
        return clock;
    }

    /** The quotas pins are admitted within. */
    public Quotas quotas() {
        return quotas;
    }

    /** Allocated bytes charged to {@code owner} (a 32-byte key): the shards it pins, and those it unpinned last until they are collected. */
    public long chargedTo(byte[] owner) {
        synchronized (writeLock) {
            return charged.getOrDefault(ByteBuffer.wrap(owner), 0L);
        }
    }

    /**
     * A count of the writes that changed shards, their pins, receipts or provisional admissions
     * (not outboards or holds): equal counts mean none of those changed in between, so a pass over
     * them (paid storage's coverage) may skip when nothing else it reads changed either.
     */
    public long mutations() {
        return mutations.get();
    }

    /** Outboards {@link #scrub} found missing or damaged and rebuilt since the store opened. */
    public long outboardsRebuilt() {
        return outboardsRebuilt.get();
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
     * already held only adds a pin (pins are counted: each needs its own unpin). A pin is admitted
     * within the store's {@link Quotas}.
     *
     * @throws StoreException CID_MISMATCH, FULL, OVER_QUOTA or IO
     */
    public StoredShard put(Cid cid, byte[] data, byte[] owner) throws StoreException {
        checkOwner(owner);
        Outboard ob = verified(cid, java.lang.foreign.MemorySegment.ofArray(data));
        return store(cid, data.length, tmp -> files.write(tmp, data), owner, ob);
    }

    /**
     * Checks {@code data} against {@code cid}; for a BLAKE3 CID in the same pass that builds
     * its outboard (whose root is the digest), which it returns; null for other CIDs.
     *
     * @throws StoreException CID_MISMATCH
     */
    private static Outboard verified(Cid cid, java.lang.foreign.MemorySegment data) throws StoreException {
        if (provable(cid)) {
            Outboard ob = Outboard.build(data, Outboard.DEFAULT_GROUP_CHUNKS);
            if (java.security.MessageDigest.isEqual(ob.root(), cid.digest())) {
                return ob;
            }
        } else if (cid.verify(data.asByteBuffer())) {
            return null;
        }
        throw new StoreException(StoreException.Code.CID_MISMATCH,
                "refusing " + data.byteSize() + " bytes that do not hash to " + cid);
    }

    /**
     * Whether slices of the block can be proven: its CID is BLAKE3 (a shard, or a manifest copy: the
     * codec only labels the bytes, the digest is their BLAKE3 hash either way).
     */
    private static boolean provable(Cid cid) {
        return cid.function() == HashFunction.BLAKE3;
    }

    /**
     * {@link #put(Cid, byte[], byte[])} for bytes the caller has just computed {@code cid} from,
     * in this process (an upload's own shards and manifest): the store does not hash them a second
     * time. Bytes from anywhere else, a peer above all, go through {@link #put(Cid, byte[], byte[])}.
     */
    public StoredShard putComputed(Cid cid, byte[] data, byte[] owner) throws StoreException {
        checkOwner(owner);
        return store(cid, data.length, tmp -> files.write(tmp, data), owner, null); // outboard built on first need
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
        Outboard ob = verified(cid, java.lang.foreign.MemorySegment.ofBuffer(data.duplicate().position(0)));
        return store(cid, data.limit(), tmp -> files.write(tmp, data), owner, ob);
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
    private StoredShard store(Cid cid, int length, FileWriter writer, byte[] owner, Outboard outboard) throws StoreException {
        StoredShard s = storeUnsynced(cid, length, writer, owner, outboard);
        syncIndex(); // durable before the caller acknowledges: this write and every one made before it
        return s;
    }

    /**
     * Makes every index write made so far durable. The writes of {@link #store} go to RocksDB's log
     * under writeLock without a sync and are synced here, after the lock: a synced write under the
     * lock made every put queue behind one fsync at a time (S3 4 KiB PUTs, 32 clients: 520 waits of
     * 30 ms average in 40 s on node 0), while one sync here covers every write logged before it, so
     * concurrent puts share their fsyncs. A put that finds its entry already written (by another
     * put that has not synced yet) passes through here too before it returns.
     */
    private void syncIndex() throws StoreException {
        enter();
        try {
            index.syncWal();
        } catch (RocksDBException e) {
            throw io("sync the index log", e);
        } finally {
            exit();
        }
    }

    private StoredShard storeUnsynced(Cid cid, int length, FileWriter writer, byte[] owner, Outboard outboard) throws StoreException {
        long cost = allocated(length);
        synchronized (writeLock) {
            StoredShard existing = metadata(cid);
            if (existing != null) {
                return owner == null ? existing : pinLocked(existing, owner);
            }
            if (used.get() + reserved + cost > capacity) {
                throw new StoreException(StoreException.Code.FULL, "store is full: " + (used.get() + reserved) + " of " + capacity
                        + " bytes used or being written, shard " + cid + " needs " + cost);
            }
            if (owner != null) {
                admit(owner, cid, cost);
                charge(owner, cost); // held while the file is written, so concurrent puts cannot overshoot the quota
            }
            reserved += cost;
            writing.merge(cid, 1, Integer::sum);
        }
        // The file is written and made durable outside the lock, so puts of different shards
        // overlap their fsyncs (and RocksDB groups their synced index writes) instead of queueing.
        Path f = file(cid);
        boolean written = false;
        try {
            Path tmp = f.resolveSibling(f.getFileName() + "." + TMP_SEQ.incrementAndGet() + ".tmp");
            try {
                Path sub = f.getParent();
                if (!durableDirs.contains(sub)) {
                    if (!Files.isDirectory(sub)) { // createDirectories throws inside when it exists
                        Files.createDirectories(sub);
                    }
                    forceDirectory(shardsDir); // the new directory's entry, before any shard in it is acknowledged
                    durableDirs.add(sub);
                }
                writer.write(tmp); // forced to the device before the rename
                try {
                    Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
                }
                forceDirectory(sub); // the rename itself is durable
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
                    reserved -= cost;
                    writing.computeIfPresent(cid, (k, n) -> n == 1 ? null : n - 1);
                    if (owner != null) {
                        charge(owner, -cost);
                    }
                }
            }
        }
        synchronized (writeLock) {
            reserved -= cost;
            writing.computeIfPresent(cid, (k, n) -> n == 1 ? null : n - 1);
            if (owner != null) {
                charge(owner, -cost); // the entry written below is charged instead
            }
            StoredShard existing = metadata(cid);
            if (existing != null) { // the same shard was put meanwhile: the file is the same bytes
                return owner == null ? existing : pinLocked(existing, owner);
            }
            long now = clock.millis();
            StoredShard s = new StoredShard(cid, length, new Holding.Raw(), now, now,
                    owner == null ? List.of() : List.of(new StoredShard.Pin(owner.clone(), 1)), owner == null ? now : 0);
            writeNew(s, outboard, relaxed); // synced by the caller, after the lock (syncIndex)
            recharge(null, s);
            used.addAndGet(cost);
            count.incrementAndGet();
            return s;
        }
    }

    /** One more pin of {@code owner} on a shard held (guarded by writeLock). */
    private StoredShard pinLocked(StoredShard existing, byte[] owner) throws StoreException {
        if (!containsKey(existing.charged(), owner)) {
            admit(owner, existing.cid(), allocated(existing.size()));
        }
        StoredShard after = existing.withOwner(owner);
        writeMeta(after, relaxed); // synced by the caller, after the lock (syncIndex)
        recharge(existing, after);
        return after;
    }

    private static boolean containsKey(List<byte[]> keys, byte[] key) {
        for (byte[] k : keys) {
            if (java.util.Arrays.equals(k, key)) {
                return true;
            }
        }
        return false;
    }

    /** Refuses a pin that would take {@code owner} (or the strangers together) beyond its quota (guarded by writeLock). */
    private void admit(byte[] owner, Cid cid, long cost) throws StoreException {
        if (quotas.trusts(owner)) {
            return;
        }
        long mine = charged.getOrDefault(ByteBuffer.wrap(owner), 0L);
        if (mine + cost > quotas.perStranger()) {
            throw new StoreException(StoreException.Code.OVER_QUOTA, "owner " + PeerId.fromEd25519(owner) + " holds " + mine
                    + " of its " + quotas.perStranger() + " bytes here; shard " + cid + " needs " + cost + " more");
        }
        if (strangersCharged + cost > quotas.allStrangers()) {
            throw new StoreException(StoreException.Code.OVER_QUOTA, "untrusted owners hold " + strangersCharged + " of the "
                    + quotas.allStrangers() + " bytes they may share here; shard " + cid + " needs " + cost + " more");
        }
    }

    /** Adds {@code delta} allocated bytes to {@code owner}'s charge (guarded by writeLock). */
    private void charge(byte[] owner, long delta) {
        ByteBuffer k = ByteBuffer.wrap(owner.clone());
        long now = charged.merge(k, delta, Long::sum);
        if (now == 0) {
            charged.remove(k);
        }
        if (!quotas.trusts(owner)) {
            strangersCharged += delta;
        }
    }

    /** Moves the charges of an entry from what {@code before} says to what {@code after} says (guarded by writeLock). */
    private void recharge(StoredShard before, StoredShard after) {
        List<byte[]> was = before == null ? List.of() : before.charged();
        List<byte[]> is = after == null ? List.of() : after.charged();
        for (byte[] k : was) {
            if (!containsKey(is, k)) {
                charge(k, -allocated(before.size()));
            }
        }
        for (byte[] k : is) {
            if (!containsKey(was, k)) {
                charge(k, allocated(after.size()));
            }
        }
    }

    /** Writes {@code after} (synced) over {@code before}, its entry as read under writeLock, and moves the charges. */
    private StoredShard update(StoredShard before, StoredShard after) throws StoreException {
        writeMeta(after);
        recharge(before, after);
        return after;
    }

    /** Writes a new shard's entry and its outboard (if any) in one batch, {@code how} (synced or not). */
    private void writeNew(StoredShard s, Outboard outboard, WriteOptions how) throws StoreException {
        enter();
        try (WriteBatch batch = new WriteBatch()) {
            batch.put(shardFamily, s.cid().toBytes(), s.encode());
            if (outboard != null) {
                batch.put(outboardFamily, s.cid().toBytes(), encodeOutboard(outboard));
            }
            index.write(how, batch);
            mutations.incrementAndGet();
        } catch (RocksDBException e) {
            throw io("index " + s.cid(), e);
        } finally {
            exit();
        }
    }

    static byte[] encodeOutboard(Outboard ob) {
        byte[] pairs = ob.bytes();
        byte[] v = new byte[OUTBOARD_HEADER + pairs.length];
        v[0] = OUTBOARD_FORMAT;
        v[1] = (byte) Integer.numberOfTrailingZeros(ob.groupChunks());
        System.arraycopy(pairs, 0, v, OUTBOARD_HEADER, pairs.length);
        return v;
    }

    private StoredShard writeMeta(StoredShard s) throws StoreException {
        return writeMeta(s, durable);
    }

    private StoredShard writeMeta(StoredShard s, WriteOptions how) throws StoreException {
        enter();
        try {
            index.put(shardFamily, how, s.cid().toBytes(), s.encode());
            mutations.incrementAndGet();
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
            update(s, s.withoutOwner(owner, clock.millis()));
            return true;
        }
    }

    /** What {@link #unpinOnce} did. */
    public enum Unpin {
        /** One pin of the owner was removed and the nonce remembered. */
        UNPINNED,
        /** The shard is not here, or that owner does not pin it: nothing changed (and the nonce stays unused). */
        NOT_PINNED,
        /** This owner used this nonce before: nothing changed. */
        REPLAYED,
        /** Too many signed deletes are remembered right now: nothing changed, try later. */
        BUSY
    }

    /**
     * {@link #unpin} for a signed request that must be used once: the pin goes and {@code nonce} is
     * remembered for {@code owner} until {@code notAfterMillis}, both in one synced write, so a
     * replay is refused also after a crash or restart. Nonces of deletes that changed nothing are not
     * kept: replaying those changes nothing either.
     */
    public Unpin unpinOnce(Cid cid, byte[] owner, byte[] nonce, long notAfterMillis) throws StoreException {
        byte[] key = new byte[owner.length + nonce.length];
        System.arraycopy(owner, 0, key, 0, owner.length);
        System.arraycopy(nonce, 0, key, owner.length, nonce.length);
        synchronized (writeLock) {
            enter();
            try {
                if (index.get(deletesFamily, key) != null) {
                    return Unpin.REPLAYED;
                }
                StoredShard s = metadata(cid);
                if (s == null || !s.isPinnedBy(owner)) {
                    return Unpin.NOT_PINNED;
                }
                if (rememberedDeletes >= MAX_REMEMBERED_DELETES) {
                    return Unpin.BUSY;
                }
                StoredShard after = s.withoutOwner(owner, clock.millis());
                try (WriteBatch batch = new WriteBatch()) {
                    batch.put(shardFamily, cid.toBytes(), after.encode());
                    batch.put(deletesFamily, key, ByteBuffer.allocate(8).putLong(notAfterMillis).array());
                    index.write(durable, batch);
                    mutations.incrementAndGet();
                }
                rememberedDeletes++;
                recharge(s, after);
                return Unpin.UNPINNED;
            } catch (RocksDBException e) {
                throw io("unpin " + cid, e);
            } finally {
                exit();
            }
        }
    }

    /** Signed deletes remembered now. */
    long rememberedDeletes() {
        synchronized (writeLock) {
            return rememberedDeletes;
        }
    }

    private static boolean isGarbage(StoredShard s, long now, long graceMillis) {
        return s.pins().isEmpty() && s.unpinnedAtMillis() > 0 && now - s.unpinnedAtMillis() >= graceMillis;
    }

    /**
     * Deletes shards unpinned for longer than {@code graceMillis}, and forgets signed deletes whose
     * signatures expired; returns how many shards went. A shard a proving period still holds
     * ({@link #hold}) stays until that period is released. Each shard is re-read under the lock before it
     * is deleted: one pinned again since the pass read the index stays. A shard that cannot be deleted
     * is logged and skipped.
     */
    public int collectGarbage(long graceMillis) throws StoreException {
        long now = clock.millis();
        int n = 0;
        for (StoredShard s : list()) {
            if (!isGarbage(s, now, graceMillis)) {
                continue;
            }
            beforeGarbageDelete.run();
            try {
                synchronized (writeLock) {
                    StoredShard current = metadata(s.cid());
                    if (current != null && isGarbage(current, now, graceMillis) && !isHeld(current.cid())) {
                        n += deleteLocked(current) ? 1 : 0;
                    }
                }
            } catch (StoreException e) {
                if (e.code() == StoreException.Code.CLOSED) {
                    throw e;
                }
                LOG.log(System.Logger.Level.WARNING, "garbage collection skipped {0}: {1}", s.cid(), e.getMessage());
            }
        }
        forgetExpiredDeletes(now);
        return n;
    }

    private void forgetExpiredDeletes(long now) throws StoreException {
        synchronized (writeLock) {
            enter();
            try (RocksIterator it = index.newIterator(deletesFamily); WriteBatch batch = new WriteBatch()) {
                int n = 0;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] v = it.value();
                    // a minute after expiry: a delete checked just before its expiry may still be on its way here
                    if (v.length != 8 || ByteBuffer.wrap(v).getLong() < now - 60_000) {
                        batch.delete(deletesFamily, it.key());
                        n++;
                    }
                }
                if (n > 0) {
                    index.write(relaxed, batch); // forgetting is safe to lose: expired signatures are refused anyway
                    mutations.incrementAndGet();
                    rememberedDeletes -= n;
                }
            } catch (RocksDBException e) {
                throw io("forget expired deletes", e);
            } finally {
                exit();
            }
        }
    }

    /** What the store records about {@code cid}, or null. */
    public StoredShard metadata(Cid cid) throws StoreException {
        enter();
        try {
            byte[] m = index.get(shardFamily, cid.toBytes());
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
        return read(cid, false).data();
    }

    /** A shard's checked bytes, and its outboard when asked for and the CID is BLAKE3 (else null). */
    private record Verified(byte[] data, Outboard outboard) {}

    /**
     * The shard's bytes checked against its CID: with {@code withOutboard}, for a BLAKE3 CID,
     * by building its outboard in the same pass (same cost as the hash).
     */
    private Verified read(Cid cid, boolean withOutboard) throws StoreException {
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
        Outboard ob = null;
        boolean good;
        if (withOutboard && provable(cid)) {
            ob = Outboard.build(data, Outboard.DEFAULT_GROUP_CHUNKS);
            good = java.security.MessageDigest.isEqual(ob.root(), cid.digest());
        } else {
            good = cid.verify(data);
        }
        if (!good) {
            drop(cid, "bytes no longer match the CID");
            throw new StoreException(StoreException.Code.CORRUPT, "shard " + cid + " is corrupt and was dropped");
        }
        checked.put(cid, Checked.of(seen));
        return new Verified(data, ob);
    }

    /**
     * A proof of chunks {@code [firstChunk, firstChunk + count)} (1 KiB each, the last one
     * shorter) of the shard against its CID, verified against the CID and the shard's size before
     * it is returned. Reads the shard's stored outboard and only the 16 KiB groups the range
     * touches. When the outboard is missing (a shard stored before outboards, or through
     * {@link #putComputed}), unusable, or gives a proof that does not verify, the whole shard is
     * read and checked against its CID: a corrupt shard is dropped and reported as by
     * {@link #scrub}; a good one gets its outboard rebuilt and stored, and answers.
     *
     * @throws StoreException NOT_FOUND; BAD_RANGE for a CID that is not BLAKE3, a count outside
     *     [1, {@link #MAX_PROVE_CHUNKS}] or a range outside the shard (the message names the
     *     values); CORRUPT (the shard was dropped and reported); IO
     */
    public SliceProof prove(Cid cid, long firstChunk, int count) throws StoreException {
        StoredShard m = metadata(cid);
        if (m == null) {
            throw new StoreException(StoreException.Code.NOT_FOUND, "no shard " + cid + " here");
        }
        if (!provable(cid)) {
            throw new StoreException(StoreException.Code.BAD_RANGE, "shard " + cid + " is named by a " + cid.codec()
                    + " " + cid.function().label() + " CID; slices are proven against BLAKE3 CIDs only");
        }
        long chunks = Math.max(1, Math.ceilDiv(m.size(), 1024L));
        if (count < 1 || count > MAX_PROVE_CHUNKS) {
            throw new StoreException(StoreException.Code.BAD_RANGE, "a proof covers 1 to " + MAX_PROVE_CHUNKS
                    + " chunks, " + count + " were asked of shard " + cid);
        }
        if (firstChunk < 0 || firstChunk >= chunks || count > chunks - firstChunk) {
            throw new StoreException(StoreException.Code.BAD_RANGE, "chunks [" + firstChunk + ", " + (firstChunk + count)
                    + ") are outside shard " + cid + " of " + m.size() + " bytes (" + chunks + " chunks)");
        }
        Outboard ob = storedOutboard(cid, m.size());
        if (ob != null) {
            try {
                Outboard.DataRange r = ob.dataRange(firstChunk, count);
                byte[] data = files.read(file(cid), r.offset(), Math.toIntExact(r.length()));
                SliceProof p = SliceProver.prove(ob, java.lang.foreign.MemorySegment.ofArray(data), firstChunk, count);
                p.verify(cid.digest(), m.size()); // ~10 µs: a bad outboard or bad bytes never leave
                return p;
            } catch (NoSuchFileException e) {
                if (metadata(cid) == null) { // deleted (or collected) while this proof was made
                    throw new StoreException(StoreException.Code.NOT_FOUND, "no shard " + cid + " here");
                }
                drop(cid, "its file is gone");
                throw new StoreException(StoreException.Code.CORRUPT, "shard " + cid + " lost its file and was dropped");
            } catch (IOException | SliceProofException e) {
                // a short file, unreadable groups, or a proof that fails: the full check below decides
                LOG.log(System.Logger.Level.WARNING, "proof of {0} from its outboard failed ({1}); checking the whole shard",
                        cid, e.getMessage());
            }
        }
        Verified v = read(cid, true); // drops a corrupt shard (CORRUPT)
        saveOutboard(cid, v.outboard());
        Outboard.DataRange r = v.outboard().dataRange(firstChunk, count);
        SliceProof p = SliceProver.prove(v.outboard(), java.lang.foreign.MemorySegment.ofArray(v.data())
                .asSlice(r.offset(), r.length()), firstChunk, count);
        p.verify(cid.digest(), v.data().length);
        return p;
    }

    /** The stored outboard of a shard of {@code size} bytes, or null when missing or unusable (logged). */
    private Outboard storedOutboard(Cid cid, long size) throws StoreException {
        byte[] v;
        enter();
        try {
            v = index.get(outboardFamily, cid.toBytes());
        } catch (RocksDBException e) {
            throw io("read the outboard of " + cid, e);
        } finally {
            exit();
        }
        if (v == null) {
            return null;
        }
        try {
            if (v.length < OUTBOARD_HEADER || v[0] != OUTBOARD_FORMAT || v[1] < 0 || v[1] > 9) {
                throw new IllegalArgumentException("unknown outboard header " + (v.length < OUTBOARD_HEADER ? "(short)"
                        : v[0] + "/" + v[1]));
            }
            Outboard ob = Outboard.of(java.util.Arrays.copyOfRange(v, OUTBOARD_HEADER, v.length), size, 1 << v[1]);
            if (v.length > OUTBOARD_HEADER && !java.security.MessageDigest.isEqual(ob.root(), cid.digest())) {
                throw new IllegalArgumentException("its top pair does not give the CID's digest");
            }
            return ob;
        } catch (IllegalArgumentException e) { // SliceProofException is one
            LOG.log(System.Logger.Level.WARNING, "the stored outboard of {0} is unusable ({1}); rebuilding it", cid, e.getMessage());
            return null;
        }
    }

    /** Stores a rebuilt outboard, unless the shard went meanwhile. Not synced: a lost one is rebuilt again. */
    private void saveOutboard(Cid cid, Outboard ob) throws StoreException {
        synchronized (writeLock) {
            if (metadata(cid) == null) {
                return;
            }
            enter();
            try {
                index.put(outboardFamily, relaxed, cid.toBytes(), encodeOutboard(ob));
            } catch (RocksDBException e) {
                throw io("store the outboard of " + cid, e);
            } finally {
                exit();
            }
        }
    }

    /** The stored outboard's bytes as kept (header included), or null: for tests. */
    byte[] outboardBytes(Cid cid) throws StoreException {
        enter();
        try {
            return index.get(outboardFamily, cid.toBytes());
        } catch (RocksDBException e) {
            throw io("read the outboard of " + cid, e);
        } finally {
            exit();
        }
    }

    /** Replaces (or with null deletes) the stored outboard as it is: for tests that damage it. */
    void setOutboardBytes(Cid cid, byte[] v) throws StoreException {
        enter();
        try {
            if (v == null) {
                index.delete(outboardFamily, durable, cid.toBytes());
            } else {
                index.put(outboardFamily, durable, cid.toBytes(), v);
            }
        } catch (RocksDBException e) {
            throw io("write the outboard of " + cid, e);
        } finally {
            exit();
        }
    }

    /**
     * {@code length} bytes from {@code offset}, after the whole shard was checked against its CID.
     *
     * @throws StoreException BAD_RANGE when the range leaves the shard; as {@link #get(Cid)} otherwise
     */
    public byte[] get(Cid cid, long offset, int length) throws StoreException {
        byte[] all = get(cid);
        if (offset < 0 || length < 0 || offset > all.length - (long) length) {
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

    /** Removes a shard (index entry first, then its file), whatever pins it; returns whether it was here. */
    public boolean delete(Cid cid) throws StoreException {
        synchronized (writeLock) {
            StoredShard s = metadata(cid);
            return s != null && deleteLocked(s);
        }
    }

    /** Deletes {@code s}, its entry as just read under writeLock. */
    private boolean deleteLocked(StoredShard s) throws StoreException {
        Cid cid = s.cid();
        enter();
        try (WriteBatch batch = new WriteBatch()) {
            batch.delete(shardFamily, cid.toBytes());
            batch.delete(outboardFamily, cid.toBytes());
            index.write(durable, batch);
            mutations.incrementAndGet();
        } catch (RocksDBException e) {
            throw io("delete " + cid, e);
        } finally {
            exit();
        }
        recharge(s, null);
        used.addAndGet(-allocated(s.size()));
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

    /**
     * A receipt this node signed: the blocks of {@code object} it held pinned by {@code payer} for
     * {@code period}, with their sizes.
     *
     * @param payer the payer's 32-byte Ed25519 key
     * @param blocks (CID, size) of each block signed for, in the order signed
     */
    public record SignedReceipt(Cid object, byte[] payer, long period, List<NodeEntry> blocks) {
        public SignedReceipt {
            checkOwner(payer);
            if (payer == null) {
                throw new IllegalArgumentException("a receipt names its payer");
            }
            payer = payer.clone();
            blocks = List.copyOf(blocks);
        }

        /** The bytes signed for: the blocks' sizes summed. */
        public long bytes() {
            long n = 0;
            for (NodeEntry e : blocks) {
                n += e.size();
            }
            return n;
        }

        @Override
        public byte[] payer() {
            return payer.clone();
        }

        /** The tree whose root the receipt carries and the chain challenges under: {@link #treeOf} its blocks. */
        public io.oecloud.proofs.storage.NodeRoot tree() {
            return treeOf(blocks);
        }

        /** A {@link io.oecloud.proofs.storage.NodeRoot} over {@code entries} in CID order, repeats dropped: a receipt's entries root. */
        public static io.oecloud.proofs.storage.NodeRoot treeOf(java.util.Collection<NodeEntry> entries) {
            java.util.TreeMap<Cid, NodeEntry> sorted = new java.util.TreeMap<>();
            for (NodeEntry e : entries) {
                sorted.putIfAbsent(e.cid(), e);
            }
            return io.oecloud.proofs.storage.NodeRoot.build(new ArrayList<>(sorted.values()));
        }
    }

    /**
     * Records a receipt this node signed (synced), as the one in force for its object and payer.
     * Up to {@link #RECEIPT_VERSIONS} earlier receipts with other blocks are kept behind it (within
     * {@link #RECEIPT_VERSIONS_BYTES}): the chain keeps whichever one the payer put in its contract,
     * which may be an earlier one for a while (a receipt signed during repair that the payer has not
     * sent, or will not), and challenges this node under that one's root.
     */
    public void recordReceipt(SignedReceipt r) throws StoreException {
        byte[] k = ownerKey(r.payer(), r.object());
        synchronized (receiptsLock) {
            enter();
            try {
                ByteArrayOutputStream v = new ByteArrayOutputStream();
                v.writeBytes(encodeReceipt(r));
                byte[] old = index.get(receiptsFamily, k);
                if (old != null) {
                    int kept = 1;
                    for (SignedReceipt e : decodeReceipts(r.object(), r.payer(), old)) {
                        byte[] b = encodeReceipt(e);
                        if (kept == RECEIPT_VERSIONS || v.size() + b.length > RECEIPT_VERSIONS_BYTES) {
                            break;
                        }
                        if (!e.blocks().equals(r.blocks())) {
                            v.writeBytes(b);
                            kept++;
                        }
                    }
                }
                index.put(receiptsFamily, durable, k, v.toByteArray());
                mutations.incrementAndGet();
            } catch (RocksDBException e) {
                throw io("record the receipt of " + r.object(), e);
            } catch (RuntimeException e) {
                throw new StoreException(StoreException.Code.IO, "the receipts recorded for " + r.object() + " are damaged: " + e, e);
            } finally {
                exit();
            }
        }
    }

    private static byte[] encodeReceipt(SignedReceipt r) {
        int size = 1 + 8 + 4;
        for (NodeEntry e : r.blocks()) {
            size += 1 + e.cid().toBytes().length + 8;
        }
        ByteBuffer v = ByteBuffer.allocate(size).put((byte) RECEIPT_FORMAT).putLong(r.period()).putInt(r.blocks().size());
        for (NodeEntry e : r.blocks()) {
            byte[] c = e.cid().toBytes();
            v.put((byte) c.length).put(c).putLong(e.size());
        }
        return v.array();
    }

    /** The receipt recorded for {@code object} and {@code payer} (the one in force), or null. */
    public SignedReceipt receipt(Cid object, byte[] payer) throws StoreException {
        List<SignedReceipt> all = receiptVersions(object, payer);
        return all.isEmpty() ? null : all.getFirst();
    }

    /** The receipts recorded for {@code object} and {@code payer}: the one in force first, then earlier ones with other blocks. */
    public List<SignedReceipt> receiptVersions(Cid object, byte[] payer) throws StoreException {
        checkOwner(payer);
        enter();
        try {
            byte[] v = index.get(receiptsFamily, ownerKey(payer, object));
            return v == null ? List.of() : decodeReceipts(object, payer, v);
        } catch (RocksDBException e) {
            throw io("read the receipt of " + object, e);
        } catch (RuntimeException e) {
            throw new StoreException(StoreException.Code.IO, "the receipts recorded for " + object + " are damaged: " + e, e);
        } finally {
            exit();
        }
    }

    /** Every receipt recorded, by payer key then object CID. */
    public List<SignedReceipt> receipts() throws StoreException {
        List<SignedReceipt> out = new ArrayList<>();
        enter();
        try (RocksIterator it = index.newIterator(receiptsFamily)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] k = it.key();
                out.add(decodeReceipt(Cid.fromBytes(java.util.Arrays.copyOfRange(k, StoredShard.KEY, k.length)),
                        java.util.Arrays.copyOf(k, StoredShard.KEY), it.value()));
            }
        } catch (RuntimeException e) {
            throw new StoreException(StoreException.Code.IO, "a receipt recorded in " + dir + " is damaged: " + e, e);
        } finally {
            exit();
        }
        return out;
    }

    /** Forgets the receipt of {@code object} and {@code payer}; returns whether there was one. */
    public boolean forgetReceipt(Cid object, byte[] payer) throws StoreException {
        checkOwner(payer);
        byte[] k = ownerKey(payer, object);
        enter();
        try {
            if (index.get(receiptsFamily, k) == null) {
                return false;
            }
            index.delete(receiptsFamily, durable, k);
            mutations.incrementAndGet();
            return true;
        } catch (RocksDBException e) {
            throw io("forget the receipt of " + object, e);
        } finally {
            exit();
        }
    }

    private static SignedReceipt decodeReceipt(Cid object, byte[] payer, byte[] v) {
        return decodeOne(object, payer, ByteBuffer.wrap(v));
    }

    private static List<SignedReceipt> decodeReceipts(Cid object, byte[] payer, byte[] v) {
        ByteBuffer b = ByteBuffer.wrap(v);
        List<SignedReceipt> out = new ArrayList<>();
        while (b.hasRemaining()) {
            out.add(decodeOne(object, payer, b));
        }
        return out;
    }

    private static SignedReceipt decodeOne(Cid object, byte[] payer, ByteBuffer b) {
        byte format = b.get();
        if (format != RECEIPT_FORMAT) {
            throw new IllegalStateException("unknown receipt format " + format + " for " + object);
        }
        long period = b.getLong();
        int n = b.getInt();
        List<NodeEntry> blocks = new ArrayList<>(Math.min(n, 1 << 16));
        for (int i = 0; i < n; i++) {
            byte[] c = new byte[b.get() & 0xff];
            b.get(c);
            blocks.add(new NodeEntry(Cid.fromBytes(c), b.getLong()));
        }
        return new SignedReceipt(object, payer, period, blocks);
    }

    /**
     * A block pinned by {@code owner} that was admitted provisionally (its owner's chain account
     * could pay for it) at {@code admittedAtMillis}, awaiting the contract that covers it.
     */
    public record Provisional(Cid cid, byte[] owner, long size, long admittedAtMillis) {
        public Provisional {
            checkOwner(owner);
            if (owner == null) {
                throw new IllegalArgumentException("a provisional block names its owner");
            }
            owner = owner.clone();
        }

        @Override
        public byte[] owner() {
            return owner.clone();
        }
    }

    /**
     * Records a provisional admission (synced); one already recorded for the same block and owner
     * keeps its time.
     *
     * @return whether it was recorded now (false: one was already)
     */
    public boolean recordProvisional(Provisional p) throws StoreException {
        byte[] k = ownerKey(p.owner(), p.cid());
        synchronized (writeLock) {
            enter();
            try {
                if (index.get(provisionalFamily, k) != null) {
                    return false;
                }
                index.put(provisionalFamily, durable, k,
                        ByteBuffer.allocate(16).putLong(p.size()).putLong(p.admittedAtMillis()).array());
                mutations.incrementAndGet();
                return true;
            } catch (RocksDBException e) {
                throw io("record the provisional admission of " + p.cid(), e);
            } finally {
                exit();
            }
        }
    }

    /** Every provisional admission recorded, by owner key then CID. */
    public List<Provisional> provisionals() throws StoreException {
        List<Provisional> out = new ArrayList<>();
        enter();
        try (RocksIterator it = index.newIterator(provisionalFamily)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] k = it.key();
                ByteBuffer v = ByteBuffer.wrap(it.value());
                out.add(new Provisional(Cid.fromBytes(java.util.Arrays.copyOfRange(k, StoredShard.KEY, k.length)),
                        java.util.Arrays.copyOf(k, StoredShard.KEY), v.getLong(), v.getLong()));
            }
        } catch (RuntimeException e) {
            throw new StoreException(StoreException.Code.IO, "a provisional admission recorded in " + dir + " is damaged: " + e, e);
        } finally {
            exit();
        }
        return out;
    }

    /** Forgets a provisional admission (covered by a contract now, or dropped); returns whether it was recorded. */
    public boolean forgetProvisional(Cid cid, byte[] owner) throws StoreException {
        checkOwner(owner);
        byte[] k = ownerKey(owner, cid);
        synchronized (writeLock) {
            enter();
            try {
                if (index.get(provisionalFamily, k) == null) {
                    return false;
                }
                index.delete(provisionalFamily, durable, k);
                mutations.incrementAndGet();
                return true;
            } catch (RocksDBException e) {
                throw io("forget the provisional admission of " + cid, e);
            } finally {
                exit();
            }
        }
    }

    /**
     * Removes every pin {@code owner} holds on {@code cid} (however many it counted, a permanent
     * count too): paid storage dropping a block no contract covers. A shard no one pins any more is
     * collected by {@link #collectGarbage} after the grace, as after an unpin.
     *
     * @return false when the shard is not here or that owner does not pin it
     */
    public boolean unpinAll(Cid cid, byte[] owner) throws StoreException {
        checkOwner(owner);
        synchronized (writeLock) {
            StoredShard s = metadata(cid);
            if (s == null || !s.isPinnedBy(owner)) {
                return false;
            }
            update(s, s.withoutAllPinsOf(owner, clock.millis()));
            return true;
        }
    }

    private static byte[] ownerKey(byte[] owner, Cid cid) {
        byte[] c = cid.toBytes();
        byte[] k = new byte[StoredShard.KEY + c.length];
        System.arraycopy(owner, 0, k, 0, StoredShard.KEY);
        System.arraycopy(c, 0, k, StoredShard.KEY, c.length);
        return k;
    }

    /** What {@link #forEachEntry} offered and passed over. */
    public record Listing(long offered, long unprovable, long unpinned) {}

    /**
     * Offers every provable shard as a {@link NodeEntry} (CID, size) in CID byte order (the order
     * a node root needs), streaming from the index: nothing is copied but the entry handed over.
     * Offered: pinned blocks with a BLAKE3 CID (shards and manifest copies). Passed over: shards no one pins (garbage
     * awaiting collection, repair staging), counted as {@code unpinned}; pinned shards under other
     * CIDs, whose slices cannot be proven, counted as {@code unprovable}.
     *
     * <p>Reads a RocksDB iterator's implicit snapshot, so a put or unpin meanwhile is either wholly
     * seen or not; {@link #hold} is the form that also keeps what it listed.
     */
    public Listing forEachEntry(Consumer<NodeEntry> sink) throws StoreException {
        enter();
        try (RocksIterator it = index.newIterator(shardFamily)) {
            return listEntries(it, sink);
        } finally {
            exit();
        }
    }

    private static Listing listEntries(RocksIterator it, Consumer<NodeEntry> sink) {
        long offered = 0;
        long unprovable = 0;
        long unpinned = 0;
        for (it.seekToFirst(); it.isValid(); it.next()) {
            Cid cid = Cid.fromBytes(it.key());
            StoredShard s = StoredShard.decode(cid, it.value());
            if (s.pins().isEmpty()) {
                unpinned++;
            } else if (!provable(cid)) {
                unprovable++;
            } else {
                sink.accept(new NodeEntry(cid, s.size()));
                offered++;
            }
        }
        return new Listing(offered, unprovable, unpinned);
    }

    /**
     * A proving period's held entries: those of the root committed for it.
     *
     * @param period the proving period
     * @param entries the entries in CID order (unmodifiable)
     * @param unprovable pinned blocks left out because their CIDs are not BLAKE3
     * @param created whether this call made the hold (false: it existed, and is returned as it was)
     */
    public record Held(long period, List<NodeEntry> entries, long unprovable, boolean created) {}

    /**
     * Lists the entries ({@link #forEachEntry}) and holds them for {@code period}, in one step: until
     * {@link #release}{@code (period)}, garbage collection keeps every listed shard even when its
     * last pin goes (an explicit {@link #delete} and the dropping of a corrupt shard are not held
     * back: a lost shard is a fault to declare, not one to hide). The hold is written in one
     * synced batch (crash: all of it or none) and survives restarts. Idempotent: a period already
     * held returns its entries as held, whatever changed since.
     *
     * <p>Lists and writes under the store's write lock, so no unpin and collection can slip between
     * the listing and the hold; puts wait meanwhile (the listing's time and one synced write of a
     * few pages: tens of ms for 100,000 shards, once a period; storage-node/README.md, "Proving").
     *
     * @throws IllegalArgumentException for a negative period
     */
    public Held hold(long period) throws StoreException {
        return hold(period, c -> true);
    }

    /**
     * {@link #hold(long)} of the entries {@code include} accepts only (paid storage: the blocks
     * contracts cover); the others are left out as if not held. A period held before is returned
     * as it was, whatever {@code include} says now.
     */
    public Held hold(long period, java.util.function.Predicate<Cid> include) throws StoreException {
        return hold(period, include, List.of());
    }

    /**
     * {@link #hold(long, java.util.function.Predicate)}, and also every entry of {@code owed} the
     * listing did not take (paid storage: a block a contract pays this node for in {@code period}
     * that the store no longer has, lost or found corrupt and dropped). Such an entry is committed
     * all the same, so that the root covers what the node is paid for and the loss is declared as a
     * fault rather than hidden by leaving the block out (those {@link #metadata} knows nothing of).
     * Entries of {@code owed} under non-BLAKE3 CIDs are passed over (no slice of them can be proven);
     * where the store has the CID its own size counts.
     */
    public Held hold(long period, java.util.function.Predicate<Cid> include, java.util.Collection<NodeEntry> owed)
            throws StoreException {
        checkPeriod(period);
        synchronized (writeLock) {
            Held existing = held(period);
            if (existing != null) {
                return existing;
            }
            List<NodeEntry> listed = new ArrayList<>();
            Map<Cid, NodeEntry> stored = owed.isEmpty() ? null : new HashMap<>(); // what the listing offered (only needed with owed entries)
            enter();
            try (RocksIterator it = index.newIterator(shardFamily); WriteBatch batch = new WriteBatch()) {
                Listing l = listEntries(it, e -> {
                    if (stored != null) {
                        stored.put(e.cid(), e);
                    }
                    if (include.test(e.cid())) {
                        listed.add(e);
                    }
                });
                List<NodeEntry> entries = withOwed(listed, stored, owed);
                beforeHoldWrite.run();
                batch.put(holdsFamily, periodKey(period), ByteBuffer.allocate(17).put((byte) HOLD_FORMAT)
                        .putLong(entries.size()).putLong(l.unprovable()).array());
                int pageEntries = holdPageEntries;
                for (int from = 0; from < entries.size(); from += pageEntries) {
                    List<NodeEntry> page = entries.subList(from, Math.min(entries.size(), from + pageEntries));
                    batch.put(holdsFamily, pageKey(period, page.get(0).cid().toBytes()), encodePage(page));
                }
                index.write(durable, batch);
                return new Held(period, java.util.Collections.unmodifiableList(entries), l.unprovable(), true);
            } catch (RocksDBException e) {
                throw io("hold the entries of period " + period, e);
            } finally {
                exit();
            }
        }
    }

    /**
     * {@code listed} (in CID order) with every provable entry of {@code owed} it lacks, in CID order:
     * the store's entry when the store offered one (pinned, provable, left out by the filter),
     * else the owed entry as the contract names it (a block the store lost).
     */
    private static List<NodeEntry> withOwed(List<NodeEntry> listed, Map<Cid, NodeEntry> stored, java.util.Collection<NodeEntry> owed) {
        if (owed.isEmpty()) {
            return listed;
        }
        java.util.TreeMap<Cid, NodeEntry> all = new java.util.TreeMap<>();
        for (NodeEntry e : listed) {
            all.put(e.cid(), e);
        }
        int before = all.size();
        for (NodeEntry e : owed) {
            if (provable(e.cid()) && !all.containsKey(e.cid())) {
                all.put(e.cid(), stored.getOrDefault(e.cid(), e));
            }
        }
        return all.size() == before ? listed : new ArrayList<>(all.values());
    }

    /** The entries held for {@code period} in CID order, or null when the period holds nothing. */
    public Held held(long period) throws StoreException {
        checkPeriod(period);
        byte[] prefix = periodKey(period);
        enter();
        try (RocksIterator it = index.newIterator(holdsFamily)) {
            it.seek(prefix);
            if (!it.isValid() || !java.util.Arrays.equals(it.key(), prefix)) {
                return null;
            }
            ByteBuffer marker = ByteBuffer.wrap(it.value());
            if (marker.remaining() != 17 || marker.get() != HOLD_FORMAT) {
                throw new StoreException(StoreException.Code.IO, "the hold of period " + period + " in " + dir
                        + " has an unknown marker (" + it.value().length + " bytes)");
            }
            long count = marker.getLong();
            long unprovable = marker.getLong();
            List<NodeEntry> entries = new ArrayList<>((int) Math.min(count, 1 << 20));
            try {
                for (it.next(); it.isValid() && startsWith(it.key(), prefix); it.next()) {
                    decodePage(it.value(), entries);
                }
            } catch (RuntimeException e) { // a short page, a bad CID
                throw new StoreException(StoreException.Code.IO, "the hold of period " + period + " in " + dir
                        + " has a damaged page: " + e, e);
            }
            if (entries.size() != count) {
                throw new StoreException(StoreException.Code.IO, "the hold of period " + period + " in " + dir
                        + " lists " + entries.size() + " entries, its marker says " + count);
            }
            return new Held(period, java.util.Collections.unmodifiableList(entries), unprovable, false);
        } finally {
            exit();
        }
    }

    /** The periods that hold entries, ascending. */
    public List<Long> heldPeriods() throws StoreException {
        List<Long> out = new ArrayList<>();
        enter();
        try (RocksIterator it = index.newIterator(holdsFamily)) {
            // markers sort first in their period: seek from one to the next period's
            for (it.seek(new byte[] {HOLD_BY_PERIOD}); it.isValid() && it.key()[0] == HOLD_BY_PERIOD; ) {
                long p = ByteBuffer.wrap(it.key(), 1, 8).getLong();
                out.add(p);
                if (p == Long.MAX_VALUE) {
                    break;
                }
                it.seek(periodKey(p + 1));
            }
        } finally {
            exit();
        }
        return out;
    }

    /**
     * Releases the hold of {@code period} (one synced batch); its shards are collected as garbage
     * again once nothing else holds or pins them.
     *
     * @return the entries it held, or -1 when the period held nothing
     */
    public long release(long period) throws StoreException {
        checkPeriod(period);
        byte[] prefix = periodKey(period);
        synchronized (writeLock) {
            enter();
            try (RocksIterator it = index.newIterator(holdsFamily); WriteBatch batch = new WriteBatch()) {
                it.seek(prefix);
                if (!it.isValid() || !java.util.Arrays.equals(it.key(), prefix)) {
                    return -1;
                }
                long n = ByteBuffer.wrap(it.value(), 1, 8).getLong();
                for (; it.isValid() && startsWith(it.key(), prefix); it.next()) { // the marker and the pages: few keys
                    batch.delete(holdsFamily, it.key());
                }
                index.write(durable, batch);
                return n;
            } catch (RocksDBException e) {
                throw io("release the hold of period " + period, e);
            } finally {
                exit();
            }
        }
    }

    /**
     * Whether some period holds {@code cid}: per held period, one {@code seekForPrev} to the page
     * that would hold it and a scan of that page (tens of µs; asked only of garbage candidates).
     */
    public boolean isHeld(Cid cid) throws StoreException {
        return !heldBy(cid, true).isEmpty();
    }

    /** The periods whose holds name {@code cid}, ascending (those a dropped shard is a fault of). */
    public List<Long> heldBy(Cid cid) throws StoreException {
        return heldBy(cid, false);
    }

    private List<Long> heldBy(Cid cid, boolean first) throws StoreException {
        byte[] c = cid.toBytes();
        List<Long> periods = heldPeriods();
        List<Long> out = new ArrayList<>(1);
        enter();
        try (RocksIterator it = index.newIterator(holdsFamily)) {
            for (long period : periods) {
                byte[] prefix = periodKey(period);
                it.seekForPrev(pageKey(period, c));
                if (it.isValid() && startsWith(it.key(), prefix) && it.key().length > prefix.length
                        && pageHolds(it.value(), c)) {
                    out.add(period);
                    if (first) {
                        break;
                    }
                }
            }
            return out;
        } finally {
            exit();
        }
    }

    /** Overwrites the hold page of {@code period} that starts at {@code firstCid}: for tests that damage it. */
    void setHoldPage(long period, Cid firstCid, byte[] v) throws StoreException {
        enter();
        try {
            index.put(holdsFamily, durable, pageKey(period, firstCid.toBytes()), v);
        } catch (RocksDBException e) {
            throw io("write a hold page", e);
        } finally {
            exit();
        }
    }

    private static byte[] encodePage(List<NodeEntry> page) {
        int n = 0;
        for (NodeEntry e : page) {
            n += 1 + e.cid().toBytes().length + 8;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (NodeEntry e : page) {
            byte[] cid = e.cid().toBytes();
            b.put((byte) cid.length).put(cid).putLong(e.size());
        }
        return b.array();
    }

    private static void decodePage(byte[] v, List<NodeEntry> out) {
        ByteBuffer b = ByteBuffer.wrap(v);
        while (b.hasRemaining()) {
            byte[] cid = new byte[b.get() & 0xff];
            b.get(cid);
            out.add(new NodeEntry(Cid.fromBytes(cid), b.getLong()));
        }
    }

    /** Whether the page names {@code cid}; a damaged page is taken to (GC then keeps the shard). */
    private static boolean pageHolds(byte[] v, byte[] cid) {
        for (int i = 0; i < v.length; ) {
            int len = v[i] & 0xff;
            if (i + 1 + len + 8 > v.length) {
                LOG.log(System.Logger.Level.WARNING, "a damaged hold page: garbage collection keeps what it may name");
                return true;
            }
            if (len == cid.length && java.util.Arrays.equals(v, i + 1, i + 1 + len, cid, 0, len)) {
                return true;
            }
            i += 1 + len + 8;
        }
        return false;
    }

    private static void checkPeriod(long period) {
        if (period < 0) {
            throw new IllegalArgumentException("period " + period + " is negative");
        }
    }

    private static byte[] periodKey(long period) {
        return ByteBuffer.allocate(9).put(HOLD_BY_PERIOD).putLong(period).array();
    }

    private static byte[] pageKey(long period, byte[] firstCid) {
        return ByteBuffer.allocate(9 + firstCid.length).put(HOLD_BY_PERIOD).putLong(period).put(firstCid).array();
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** Every shard held, ordered by CID bytes. */
    public List<StoredShard> list() throws StoreException {
        List<StoredShard> out = new ArrayList<>();
        enter();
        try (RocksIterator it = index.newIterator(shardFamily)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(StoredShard.decode(Cid.fromBytes(it.key()), it.value()));
            }
        } finally {
            exit();
        }
        return out;
    }

    /**
     * Re-hashes every shard (for BLAKE3 shards by building the outboard, in the same pass, and
     * writing it anew when the stored one is missing or differs); drops and reports those that no
     * longer match. The time of each good
     * check is recorded into the entry as it is then (re-read under the lock), never into the
     * snapshot the pass started from, which would undo pins added meanwhile. A shard that cannot be
     * read (an I/O error, not a mismatch) is logged and skipped.
     *
     * @return the CIDs found corrupt or missing
     */
    public List<Cid> scrub() throws StoreException {
        List<Cid> corrupt = new ArrayList<>();
        for (StoredShard s : list()) {
            try {
                Verified v = read(s.cid(), true);
                if (v.outboard() != null) {
                    byte[] want = encodeOutboard(v.outboard());
                    if (!java.util.Arrays.equals(want, outboardBytes(s.cid()))) {
                        // missing (stored before outboards, or by putComputed) or damaged: the shard is good, so is this one
                        saveOutboard(s.cid(), v.outboard());
                        outboardsRebuilt.incrementAndGet();
                    }
                }
                beforeScrubRecord.run();
                synchronized (writeLock) {
                    StoredShard current = metadata(s.cid());
                    if (current != null) {
                        // Not synced: losing it in a crash loses only the time of this check, since
                        // every change of the pins was itself synced before.
                        writeMeta(current.verifiedAt(clock.millis()), relaxed);
                    }
                }
            } catch (StoreException e) {
                switch (e.code()) {
                    case CORRUPT -> corrupt.add(s.cid());
                    case NOT_FOUND -> { } // deleted meanwhile
                    case CLOSED -> throw e;
                    default -> LOG.log(System.Logger.Level.WARNING, "scrub skipped {0}: {1}", s.cid(), e.getMessage());
                }
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
            deletesFamily.close();
            outboardFamily.close();
            holdsFamily.close();
            receiptsFamily.close();
            provisionalFamily.close();
            shardFamily.close();
            index.close();
            durable.close();
            relaxed.close();
            familyOptions.close();
            dbOptions.close();
        } finally {
            life.writeLock().unlock();
        }
    }
}
