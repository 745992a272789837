package io.oecloud.node.s3;

import com.google.protobuf.InvalidProtocolBufferException;
import io.oecloud.node.pb.S3IndexProto.StoredBucket;
import io.oecloud.node.pb.S3IndexProto.StoredObject;
import io.oecloud.node.pb.S3IndexProto.StoredPart;
import io.oecloud.node.pb.S3IndexProto.StoredPiece;
import io.oecloud.node.pb.S3IndexProto.StoredUpload;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The S3 gateway's namespace on RocksDB: buckets, objects under their keys, multipart uploads and
 * their parts ({@link S3Model}'s values, stored as {@code s3index.proto} messages). Every write is
 * synced before it returns (the gateway answers 200 only for what survives a power loss), and a
 * change of several records is one {@link WriteBatch} (a crash leaves all of it or none).
 *
 * <p>Key layout, one key space (the default column family), so a batch, a snapshot and a dump
 * cover everything without naming families:
 * <pre>
 *   "b/" bucket                                   -> StoredBucket
 *   "o/" bucket 0x00 key                          -> StoredObject
 *   "u/" bucket 0x00 key 0x00 uploadId            -> StoredUpload   (uploads by bucket and key)
 *   "i/" uploadId                                 -> StoredUpload   (an upload by its id)
 *   "p/" uploadId 0x00 u32be partNumber           -> StoredPart
 * </pre>
 * Strings are UTF-8. Bucket names and upload ids may not contain U+0000, so the 0x00 after them
 * ends them and a bucket's objects are one contiguous range, ordered by key bytes: the UTF-8 binary
 * order S3 lists in (which differs from {@link String#compareTo} for characters above U+FFFF).
 * A key may contain U+0000 (its object record stays correct; only the order of that key's uploads
 * among others may then be off).
 *
 * <p>Errors: invalid names and keys throw {@link IllegalArgumentException}; a write into a bucket
 * or upload that does not exist (deleted meanwhile) {@link IllegalStateException}; a RocksDB failure
 * {@link UncheckedIOException}; any call after {@link #close()} {@link IllegalStateException}.
 *
 * <p>Thread-safe: writes are serialised (each reads what it replaces and writes under one lock);
 * reads run concurrently and see a consistent state (listings read one snapshot). Owns its RocksDB
 * handles; {@link #close()} releases them.
 */
public final class S3Index implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    /** S3's limit on a key's length in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 1024;
    /** S3's highest part number. */
    public static final int MAX_PART_NUMBER = 10_000;
    /** The first bytes of an {@link #exportTo} dump. */
    static final byte[] DUMP_MAGIC = "oe-s3-index-1\n".getBytes(StandardCharsets.US_ASCII);
    /** Records written per batch by {@link #importFrom} (the import is synced once, at the end). */
    private static final int IMPORT_BATCH = 10_000;

    private static final byte[] BUCKETS = ascii("b/");
    private static final byte[] OBJECTS = ascii("o/");
    private static final byte[] UPLOADS = ascii("u/");
    private static final byte[] UPLOAD_IDS = ascii("i/");
    private static final byte[] PARTS = ascii("p/");

    private final Path dir;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions familyOptions;
    private final RocksDB db;
    private final ColumnFamilyHandle family;
    private final WriteOptions durable = new WriteOptions().setSync(true);
    private final Object writeLock = new Object();
    /**
     * Read-held around every RocksDB call, write-held by {@link #close}: RocksJava frees the native
     * database on close, and a call racing it crashes the JVM instead of failing.
     */
    private final ReentrantReadWriteLock life = new ReentrantReadWriteLock();
    private boolean closed;
    /** Iterator positions visited by {@link #list}: tests check that rolled-up prefixes are skipped by seeking. */
    final AtomicLong listSteps = new AtomicLong();

    private S3Index(Path dir) throws IOException {
        this.dir = dir;
        this.dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
        this.familyOptions = new ColumnFamilyOptions();
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            this.db = RocksDB.open(dbOptions, dir.toString(),
                    List.of(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions)), handles);
        } catch (IOException | RocksDBException | RuntimeException e) {
            handles.forEach(ColumnFamilyHandle::close);
            familyOptions.close();
            dbOptions.close();
            durable.close();
            throw new IOException("cannot open the S3 index at " + dir + ": " + e.getMessage(), e);
        }
        this.family = handles.get(0);
    }

    /** Opens the index in {@code dir}, creating it (and the directory) when missing. */
    public static S3Index open(Path dir) throws IOException {
        return new S3Index(dir);
    }

    // ---- buckets

    /** Creates a bucket; false when one of that name exists (nothing changes then). */
    public boolean createBucket(String name, long nowMillis, boolean publicRead) {
        byte[] k = bucketKey(name);
        synchronized (writeLock) {
            enter();
            try {
                if (db.get(family, k) != null) {
                    return false;
                }
                db.put(family, durable, k, encode(new S3Model.Bucket(name, nowMillis, publicRead)).toByteArray());
                return true;
            } catch (RocksDBException e) {
                throw io("create bucket " + name, e);
            } finally {
                exit();
            }
        }
    }

    public Optional<S3Model.Bucket> bucket(String name) {
        byte[] v = read(bucketKey(name));
        return v == null ? Optional.empty() : Optional.of(decodeBucket(v));
    }

    /** Every bucket, by name (UTF-8 byte order). */
    public List<S3Model.Bucket> buckets() {
        List<S3Model.Bucket> out = new ArrayList<>();
        scan(BUCKETS, successor(BUCKETS), Integer.MAX_VALUE, (k, v) -> out.add(decodeBucket(v)));
        return out;
    }

    public enum DeleteBucket { DELETED, NOT_FOUND, NOT_EMPTY }

    /** Deletes an empty bucket: one that holds no object and no multipart upload in progress. */
    public DeleteBucket deleteBucket(String name) {
        byte[] k = bucketKey(name);
        synchronized (writeLock) {
            enter();
            try {
                if (db.get(family, k) == null) {
                    return DeleteBucket.NOT_FOUND;
                }
                byte[] objects = concat(OBJECTS, utf8(name), new byte[] {0});
                byte[] uploads = concat(UPLOADS, utf8(name), new byte[] {0});
                if (any(objects) || any(uploads)) {
                    return DeleteBucket.NOT_EMPTY;
                }
                db.delete(family, durable, k);
                return DeleteBucket.DELETED;
            } catch (RocksDBException e) {
                throw io("delete bucket " + name, e);
            } finally {
                exit();
            }
        }
    }

    /** Sets whether anyone may read the bucket's objects; false when there is no such bucket. */
    public boolean setPublic(String name, boolean publicRead) {
        byte[] k = bucketKey(name);
        synchronized (writeLock) {
            enter();
            try {
                byte[] v = db.get(family, k);
                if (v == null) {
                    return false;
                }
                S3Model.Bucket b = decodeBucket(v);
                db.put(family, durable, k, encode(new S3Model.Bucket(b.name(), b.createdMillis(), publicRead)).toByteArray());
                return true;
            } catch (RocksDBException e) {
                throw io("set bucket " + name + " public=" + publicRead, e);
            } finally {
                exit();
            }
        }
    }

    // ---- objects

    public Optional<S3Model.ObjectEntry> get(String bucket, String key) {
        byte[] v = read(objectKey(bucket, key));
        return v == null ? Optional.empty() : Optional.of(decodeObject(v));
    }

    /**
     * Stores {@code entry} under its key, replacing what was there in the same write.
     *
     * @return the entry replaced: its pieces are the caller's to release
     * @throws IllegalStateException when the bucket does not exist
     */
    public Optional<S3Model.ObjectEntry> put(String bucket, S3Model.ObjectEntry entry) {
        return putAll(bucket, List.of(entry)).get(0);
    }

    /**
     * Stores many entries in one synced batch (a bulk load; tests fill buckets with it).
     *
     * @return per entry, the one it replaced
     */
    List<Optional<S3Model.ObjectEntry>> putAll(String bucket, List<S3Model.ObjectEntry> entries) {
        List<byte[]> keys = new ArrayList<>(entries.size());
        for (S3Model.ObjectEntry e : entries) {
            keys.add(objectKey(bucket, e.key()));
        }
        synchronized (writeLock) {
            enter();
            try (WriteBatch batch = new WriteBatch()) {
                requireBucket(bucket);
                List<Optional<S3Model.ObjectEntry>> replaced = new ArrayList<>(entries.size());
                // a key given twice replaces its own earlier entry: remember what this batch wrote
                Map<ByteBuffer, S3Model.ObjectEntry> written = new java.util.HashMap<>();
                for (int i = 0; i < entries.size(); i++) {
                    ByteBuffer id = ByteBuffer.wrap(keys.get(i));
                    S3Model.ObjectEntry before = written.get(id);
                    if (before == null) {
                        byte[] v = db.get(family, keys.get(i));
                        before = v == null ? null : decodeObject(v);
                    }
                    replaced.add(Optional.ofNullable(before));
                    written.put(id, entries.get(i));
                    batch.put(family, keys.get(i), encode(entries.get(i)).toByteArray());
                }
                db.write(durable, batch);
                return replaced;
            } catch (RocksDBException e) {
                throw io("put " + entries.size() + " object(s) into " + bucket, e);
            } finally {
                exit();
            }
        }
    }

    /** Removes the object under {@code key}; returns it (its pieces are the caller's to release). */
    public Optional<S3Model.ObjectEntry> delete(String bucket, String key) {
        byte[] k = objectKey(bucket, key);
        synchronized (writeLock) {
            enter();
            try {
                byte[] v = db.get(family, k);
                if (v == null) {
                    return Optional.empty();
                }
                db.delete(family, durable, k);
                return Optional.of(decodeObject(v));
            } catch (RocksDBException e) {
                throw io("delete " + bucket + "/" + key, e);
            } finally {
                exit();
            }
        }
    }

    /** The objects in a bucket, counted by a scan of its range. */
    public long objectCount(String bucket) {
        byte[] from = concat(OBJECTS, bucketName(bucket), new byte[] {0});
        long[] n = {0};
        scan(from, successor(from), Integer.MAX_VALUE, (k, v) -> n[0]++);
        return n[0];
    }

    /** Records of each kind: buckets, objects, uploads, parts. */
    public Map<String, Long> stats() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (var kind : List.of(Map.entry("buckets", BUCKETS), Map.entry("objects", OBJECTS),
                Map.entry("uploads", UPLOAD_IDS), Map.entry("parts", PARTS))) {
            long[] n = {0};
            scan(kind.getValue(), successor(kind.getValue()), Integer.MAX_VALUE, (k, v) -> n[0]++);
            out.put(kind.getKey(), n[0]);
        }
        return out;
    }

    // ---- listing

    /**
     * A page of a bucket's objects with S3's semantics (ListObjects and ListObjectsV2 alike).
     *
     * <p>Keys after {@code after} that start with {@code prefix}, in UTF-8 byte order. With a
     * delimiter, a key whose remainder after the prefix contains it is rolled up into the common
     * prefix {@code prefix + remainder up to and including the delimiter's first occurrence}; each
     * common prefix counts once toward {@code maxKeys}, and the keys under it are skipped by one
     * seek. When {@code after} is itself such a common prefix (a page ended on it) every key under it
     * is skipped too, as S3 does. A marker inside a common prefix that is not the prefix itself
     * (a client's own marker, {@code "a/b"} for {@code "a/"}) still lets later keys under it roll up
     * into that common prefix, returned again.
     *
     * <p>{@code maxKeys} 0 gives an empty, untruncated page even when keys follow: ceph's s3-tests
     * ({@code test_bucket_list_maxkeys_zero}, the S3 compatibility suite) expect {@code IsTruncated}
     * false there.
     *
     * @param prefix "" for none
     * @param delimiter null (or "") for none
     * @param after exclusive start (marker, start-after or a continuation's decoded point), null for none
     * @return contents and common prefixes in order, at most {@code maxKeys} together; {@code truncated}
     *     when more follow; {@code nextMarker} the last key or common prefix returned (null when none was)
     */
    public S3Model.Listing list(String bucket, String prefix, String delimiter, String after, int maxKeys) {
        if (maxKeys < 0) {
            throw new IllegalArgumentException("maxKeys must not be negative, was " + maxKeys);
        }
        String pre = prefix == null ? "" : prefix;
        byte[] base = concat(OBJECTS, bucketName(bucket), new byte[] {0});
        byte[] lower = concat(base, keyBytes(pre, true));
        byte[] upper = successor(lower);
        String delim = delimiter == null || delimiter.isEmpty() ? null : delimiter;
        if (maxKeys == 0) {
            return new S3Model.Listing(List.of(), List.of(), false, null);
        }
        byte[] start = lower;
        if (after != null) {
            byte[] a = concat(base, keyBytes(after, true));
            // a common prefix skips what it rolled up; any other marker starts just after itself
            byte[] from = isCommonPrefix(after, pre, delim) ? successor(a) : concat(a, new byte[] {0});
            if (Arrays.compareUnsigned(from, start) > 0) {
                start = from;
            }
        }
        List<S3Model.ObjectEntry> contents = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        String last = null;
        boolean truncated = false;
        if (Arrays.compareUnsigned(start, upper) >= 0) {
            return new S3Model.Listing(contents, prefixes, false, null);
        }
        enter();
        Snapshot snapshot = db.getSnapshot();
        try (Slice upperSlice = new Slice(upper);
             ReadOptions ro = new ReadOptions().setIterateUpperBound(upperSlice).setSnapshot(snapshot);
             RocksIterator it = db.newIterator(family, ro)) {
            for (it.seek(start); it.isValid(); ) {
                listSteps.incrementAndGet();
                if (contents.size() + prefixes.size() == maxKeys) {
                    truncated = true; // something follows the page
                    break;
                }
                byte[] k = it.key();
                String key = new String(k, base.length, k.length - base.length, StandardCharsets.UTF_8);
                int d = delim == null ? -1 : key.indexOf(delim, pre.length());
                if (d >= 0) {
                    String common = key.substring(0, d + delim.length());
                    prefixes.add(common);
                    last = common;
                    it.seek(successor(concat(base, utf8(common)))); // past every key rolled up into it
                } else {
                    contents.add(decodeObject(it.value()));
                    last = key;
                    it.next();
                }
            }
            check(it);
        } finally {
            db.releaseSnapshot(snapshot);
            exit();
        }
        return new S3Model.Listing(contents, prefixes, truncated, last);
    }

    /** Whether {@code after} is a common prefix this listing would roll keys up into. */
    private static boolean isCommonPrefix(String after, String prefix, String delim) {
        if (delim == null || !after.startsWith(prefix)) {
            return false;
        }
        int d = after.indexOf(delim, prefix.length());
        return d >= 0 && d + delim.length() == after.length();
    }

    // ---- multipart uploads

    /**
     * Records a multipart upload in progress.
     *
     * @throws IllegalStateException when its bucket does not exist or its id is taken
     */
    public void createUpload(S3Model.Upload u) {
        byte[] byId = uploadIdKey(u.uploadId());
        byte[] byKey = uploadKey(u.bucket(), u.key(), u.uploadId());
        byte[] v = encode(u).toByteArray();
        synchronized (writeLock) {
            enter();
            try (WriteBatch batch = new WriteBatch()) {
                requireBucket(u.bucket());
                if (db.get(family, byId) != null) {
                    throw new IllegalStateException("upload id " + u.uploadId() + " is taken");
                }
                batch.put(family, byId, v);
                batch.put(family, byKey, v);
                db.write(durable, batch);
            } catch (RocksDBException e) {
                throw io("create upload " + u.uploadId(), e);
            } finally {
                exit();
            }
        }
    }

    public Optional<S3Model.Upload> upload(String uploadId) {
        byte[] v = read(uploadIdKey(uploadId));
        return v == null ? Optional.empty() : Optional.of(decodeUpload(v));
    }

    /**
     * Records a part, replacing one of the same number.
     *
     * @return the part replaced: its piece is the caller's to release
     * @throws IllegalStateException when the upload does not exist (aborted or completed meanwhile)
     */
    public Optional<S3Model.Part> putPart(String uploadId, S3Model.Part p) {
        byte[] k = partKey(uploadId, p.number());
        byte[] v = encode(p).toByteArray();
        synchronized (writeLock) {
            enter();
            try {
                if (db.get(family, uploadIdKey(uploadId)) == null) {
                    throw new IllegalStateException("no upload " + uploadId);
                }
                byte[] old = db.get(family, k);
                db.put(family, durable, k, v);
                return old == null ? Optional.empty() : Optional.of(decodePart(old));
            } catch (RocksDBException e) {
                throw io("put part " + p.number() + " of upload " + uploadId, e);
            } finally {
                exit();
            }
        }
    }

    /** Up to {@code max} parts numbered above {@code afterPartNumber} (0: from the first), by number. */
    public List<S3Model.Part> parts(String uploadId, int afterPartNumber, int max) {
        if (afterPartNumber < 0 || max < 0) {
            throw new IllegalArgumentException("afterPartNumber and max must not be negative, were "
                    + afterPartNumber + " and " + max);
        }
        byte[] from = partsPrefix(uploadId);
        byte[] start = afterPartNumber >= MAX_PART_NUMBER ? successor(from)
                : concat(from, ByteBuffer.allocate(4).putInt(afterPartNumber + 1).array());
        List<S3Model.Part> out = new ArrayList<>();
        scan(start, successor(from), max, (k, v) -> out.add(decodePart(v)));
        return out;
    }

    /** Every part of the upload, by number. */
    public List<S3Model.Part> allParts(String uploadId) {
        return parts(uploadId, 0, Integer.MAX_VALUE);
    }

    /**
     * Uploads in progress in a bucket, by key then upload id (UTF-8 byte order), as
     * ListMultipartUploads pages them: with {@code keyMarker} alone, uploads of keys after it; with
     * an {@code uploadIdMarker} too, also the uploads of {@code keyMarker} itself whose ids sort after
     * the marker. Ask for {@code max + 1} to learn whether a page is truncated.
     *
     * @param prefix "" or null for none
     * @param keyMarker null for none
     * @param uploadIdMarker null for none; ignored without a key marker (as S3 does)
     */
    public List<S3Model.Upload> uploads(String bucket, String prefix, String keyMarker, String uploadIdMarker, int max) {
        if (max < 0) {
            throw new IllegalArgumentException("max must not be negative, was " + max);
        }
        String pre = prefix == null ? "" : prefix;
        byte[] base = concat(UPLOADS, bucketName(bucket), new byte[] {0});
        byte[] lower = concat(base, keyBytes(pre, true));
        byte[] start = lower;
        if (keyMarker != null) {
            byte[] k = concat(base, keyBytes(keyMarker, true), new byte[] {0});
            // after every upload of keyMarker, or after the marked one among them
            byte[] from = uploadIdMarker == null || uploadIdMarker.isEmpty() ? successor(k)
                    : concat(k, uploadIdBytes(uploadIdMarker), new byte[] {0});
            if (Arrays.compareUnsigned(from, start) > 0) {
                start = from;
            }
        }
        List<S3Model.Upload> out = new ArrayList<>();
        scan(start, successor(lower), max, (k, v) -> out.add(decodeUpload(v)));
        return out;
    }

    /**
     * Removes an upload and its parts in one write.
     *
     * @return its parts (their pieces are the caller's to release); empty when the upload is unknown
     *     (use {@link #upload} first to tell NoSuchUpload apart)
     */
    public List<S3Model.Part> abortUpload(String uploadId) {
        synchronized (writeLock) {
            enter();
            try (WriteBatch batch = new WriteBatch()) {
                byte[] v = db.get(family, uploadIdKey(uploadId));
                if (v == null) {
                    return List.of();
                }
                List<S3Model.Part> parts = removeUpload(decodeUpload(v), batch);
                db.write(durable, batch);
                return parts;
            } catch (RocksDBException e) {
                throw io("abort upload " + uploadId, e);
            } finally {
                exit();
            }
        }
    }

    /**
     * Completes an upload in one write: removes it and all its part records and stores
     * {@code entry} under its key. The parts' pieces that {@code entry} does not use are the
     * caller's to release: read them with {@link #allParts} before completing.
     *
     * @return the entry replaced under the key (its pieces are the caller's to release)
     * @throws IllegalStateException when the upload does not exist (aborted or completed meanwhile)
     * @throws IllegalArgumentException when {@code entry}'s key is not the upload's
     */
    public Optional<S3Model.ObjectEntry> completeUpload(String uploadId, S3Model.ObjectEntry entry) {
        synchronized (writeLock) {
            enter();
            try (WriteBatch batch = new WriteBatch()) {
                byte[] v = db.get(family, uploadIdKey(uploadId));
                if (v == null) {
                    throw new IllegalStateException("no upload " + uploadId);
                }
                S3Model.Upload u = decodeUpload(v);
                if (!u.key().equals(entry.key())) {
                    throw new IllegalArgumentException("upload " + uploadId + " is for key " + u.key()
                            + ", not " + entry.key());
                }
                // the bucket exists: deleteBucket refuses while an upload is in progress
                byte[] k = objectKey(u.bucket(), u.key());
                byte[] old = db.get(family, k);
                removeUpload(u, batch);
                batch.put(family, k, encode(entry).toByteArray());
                db.write(durable, batch);
                return old == null ? Optional.empty() : Optional.of(decodeObject(old));
            } catch (RocksDBException e) {
                throw io("complete upload " + uploadId, e);
            } finally {
                exit();
            }
        }
    }

    /** Adds the deletes of an upload's records to {@code batch}; returns its parts. */
    private List<S3Model.Part> removeUpload(S3Model.Upload u, WriteBatch batch) throws RocksDBException {
        List<S3Model.Part> parts = new ArrayList<>();
        byte[] from = partsPrefix(u.uploadId());
        List<byte[]> keys = new ArrayList<>();
        scan(from, successor(from), Integer.MAX_VALUE, (k, v) -> {
            keys.add(k);
            parts.add(decodePart(v));
        });
        for (byte[] k : keys) {
            batch.delete(family, k);
        }
        batch.delete(family, uploadIdKey(u.uploadId()));
        batch.delete(family, uploadKey(u.bucket(), u.key(), u.uploadId()));
        return parts;
    }

    // ---- dump

    /*
     * Dump format: the magic "oe-s3-index-1\n", then per record uvarint(key length) key
     * uvarint(value length) value, in key order, then uvarint 0 (no key is empty) and
     * uvarint(records): the end marker and count tell a complete dump from a truncated one.
     */

    /** Writes every record, from one snapshot, in the dump format (the stream is not closed). */
    public void exportTo(OutputStream out) throws IOException {
        enter();
        Snapshot snapshot = db.getSnapshot();
        try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot); RocksIterator it = db.newIterator(family, ro)) {
            out.write(DUMP_MAGIC);
            long n = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] k = it.key();
                byte[] v = it.value();
                writeUvarint(out, k.length);
                out.write(k);
                writeUvarint(out, v.length);
                out.write(v);
                n++;
            }
            check(it);
            writeUvarint(out, 0);
            writeUvarint(out, n);
            out.flush();
        } finally {
            db.releaseSnapshot(snapshot);
            exit();
        }
    }

    /**
     * Builds a fresh index in {@code dir} from an {@link #exportTo} dump, checking every record
     * (its kind and its message). On any failure nothing is left in {@code dir}.
     *
     * @throws IOException when {@code dir} is not empty, or the dump has a bad magic, is truncated
     *     or holds a record that is not the index's (each message says which)
     */
    public static void importFrom(InputStream in, Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new IOException("cannot import the S3 index into " + dir + ": the directory is not empty");
                }
            }
        }
        byte[] magic = in.readNBytes(DUMP_MAGIC.length);
        if (!Arrays.equals(magic, DUMP_MAGIC)) {
            throw new IOException("not an S3 index dump: it starts with "
                    + new String(magic, StandardCharsets.ISO_8859_1).replace("\n", "\\n").replace("\0", "\\0")
                    + ", not oe-s3-index-1");
        }
        boolean done = false;
        try (S3Index index = new S3Index(dir)) {
            index.load(in);
            done = true;
        } finally {
            if (!done) {
                deleteTree(dir);
            }
        }
    }

    private void load(InputStream in) throws IOException {
        long n = 0;
        WriteBatch batch = new WriteBatch();
        try (WriteOptions relaxed = new WriteOptions(); FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            while (true) {
                long keyLength = readUvarint(in, "the key length of record " + n);
                if (keyLength == 0) {
                    break;
                }
                byte[] k = readBytes(in, keyLength, "the key of record " + n);
                byte[] v = readBytes(in, readUvarint(in, "the value length of record " + n), "the value of record " + n);
                checkRecord(k, v, n);
                batch.put(family, k, v);
                if (++n % IMPORT_BATCH == 0) {
                    db.write(relaxed, batch);
                    batch.close();
                    batch = new WriteBatch();
                }
            }
            long count = readUvarint(in, "the record count after the end marker");
            if (count != n) {
                throw new IOException("S3 index dump damaged: it holds " + n + " records, its end says " + count);
            }
            db.write(relaxed, batch);
            db.flush(flush); // durable as SST files: the writes above skipped the WAL's sync
        } catch (RocksDBException e) {
            throw new IOException("cannot import the S3 index into " + dir + ": " + e.getMessage(), e);
        } finally {
            batch.close();
        }
    }

    /** Refuses a record whose key is of no known kind or whose value is not that kind's message. */
    private static void checkRecord(byte[] k, byte[] v, long n) throws IOException {
        try {
            if (startsWith(k, BUCKETS)) {
                StoredBucket.parseFrom(v);
            } else if (startsWith(k, OBJECTS)) {
                StoredObject.parseFrom(v);
            } else if (startsWith(k, UPLOADS) || startsWith(k, UPLOAD_IDS)) {
                StoredUpload.parseFrom(v);
            } else if (startsWith(k, PARTS)) {
                StoredPart.parseFrom(v);
            } else {
                throw new IOException("S3 index dump damaged: record " + n + " has a key of no known kind ("
                        + new String(k, 0, Math.min(k.length, 2), StandardCharsets.ISO_8859_1) + "...)");
            }
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("S3 index dump damaged: record " + n + " has a bad value: " + e.getMessage(), e);
        }
    }

    private static void writeUvarint(OutputStream out, long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static long readUvarint(InputStream in, String what) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("S3 index dump truncated: it ends in " + what);
            }
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IOException("S3 index dump damaged: " + what + " is not a varint");
    }

    private static byte[] readBytes(InputStream in, long n, String what) throws IOException {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IOException("S3 index dump damaged: " + what + " claims " + n + " bytes");
        }
        byte[] b = in.readNBytes((int) n);
        if (b.length != n) {
            throw new EOFException("S3 index dump truncated: it ends in " + what + " (" + b.length + " of " + n + " bytes)");
        }
        return b;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }

    // ---- RocksDB access

    private byte[] read(byte[] k) {
        enter();
        try {
            return db.get(family, k);
        } catch (RocksDBException e) {
            throw io("read", e);
        } finally {
            exit();
        }
    }

    private interface Visitor {
        void visit(byte[] key, byte[] value);
    }

    /** Visits up to {@code max} records in [from, to). */
    private void scan(byte[] from, byte[] to, int max, Visitor visitor) {
        if (max == 0 || Arrays.compareUnsigned(from, to) >= 0) {
            return;
        }
        enter();
        try (Slice upper = new Slice(to); ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
             RocksIterator it = db.newIterator(family, ro)) {
            int n = 0;
            for (it.seek(from); it.isValid() && n < max; it.next(), n++) {
                visitor.visit(it.key(), it.value());
            }
            check(it);
        } finally {
            exit();
        }
    }

    /** Whether any record lies under {@code prefix}. */
    private boolean any(byte[] prefix) {
        boolean[] found = {false};
        scan(prefix, successor(prefix), 1, (k, v) -> found[0] = true);
        return found[0];
    }

    private void requireBucket(String bucket) throws RocksDBException {
        if (db.get(family, bucketKey(bucket)) == null) {
            throw new IllegalStateException("no bucket " + bucket);
        }
    }

    private void check(RocksIterator it) {
        try {
            it.status();
        } catch (RocksDBException e) {
            throw io("iterate", e);
        }
    }

    private void enter() {
        life.readLock().lock();
        if (closed) {
            life.readLock().unlock();
            throw new IllegalStateException("the S3 index at " + dir + " is closed");
        }
    }

    private void exit() {
        life.readLock().unlock();
    }

    private UncheckedIOException io(String what, RocksDBException e) {
        return new UncheckedIOException(new IOException("cannot " + what + " in the S3 index at " + dir + ": "
                + e.getMessage(), e));
    }

    @Override
    public void close() {
        life.writeLock().lock(); // waits for calls in flight; later ones fail
        try {
            if (closed) {
                return;
            }
            closed = true;
            family.close();
            db.close();
            durable.close();
            familyOptions.close();
            dbOptions.close();
        } finally {
            life.writeLock().unlock();
        }
    }

    // ---- keys

    private static byte[] bucketKey(String bucket) {
        return concat(BUCKETS, bucketName(bucket));
    }

    private static byte[] objectKey(String bucket, String key) {
        return concat(OBJECTS, bucketName(bucket), new byte[] {0}, keyBytes(key, false));
    }

    private static byte[] uploadKey(String bucket, String key, String uploadId) {
        return concat(UPLOADS, bucketName(bucket), new byte[] {0}, keyBytes(key, false), new byte[] {0},
                uploadIdBytes(uploadId));
    }

    private static byte[] uploadIdKey(String uploadId) {
        return concat(UPLOAD_IDS, uploadIdBytes(uploadId));
    }

    private static byte[] partsPrefix(String uploadId) {
        return concat(PARTS, uploadIdBytes(uploadId), new byte[] {0});
    }

    private static byte[] partKey(String uploadId, int number) {
        if (number < 1 || number > MAX_PART_NUMBER) {
            throw new IllegalArgumentException("part number must be 1.." + MAX_PART_NUMBER + ", was " + number);
        }
        return concat(partsPrefix(uploadId), ByteBuffer.allocate(4).putInt(number).array());
    }

    private static byte[] bucketName(String bucket) {
        if (bucket == null || bucket.isEmpty() || bucket.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("bucket name must be non-empty without U+0000, was "
                    + (bucket == null ? "null" : "\"" + bucket.replace("\0", "\\0") + "\""));
        }
        return utf8(bucket);
    }

    private static byte[] uploadIdBytes(String uploadId) {
        if (uploadId == null || uploadId.isEmpty() || uploadId.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("upload id must be non-empty without U+0000, was "
                    + (uploadId == null ? "null" : "\"" + uploadId.replace("\0", "\\0") + "\""));
        }
        return utf8(uploadId);
    }

    /**
     * A key's UTF-8 bytes: a key must be non-empty and at most {@link #MAX_KEY_BYTES}; a prefix or
     * marker ({@code partial}) may be empty or longer (it then matches nothing).
     */
    private static byte[] keyBytes(String key, boolean partial) {
        if (key == null || (!partial && key.isEmpty())) {
            throw new IllegalArgumentException("key must be non-empty, was " + (key == null ? "null" : "empty"));
        }
        byte[] b = utf8(key);
        if (!partial && b.length > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("key is " + b.length + " bytes in UTF-8, more than S3's "
                    + MAX_KEY_BYTES + ": " + key.substring(0, 40) + "...");
        }
        return b;
    }

    /** Strict UTF-8: a lone surrogate would otherwise become '?' and two keys one. */
    private static byte[] utf8(String s) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(s));
            return Arrays.copyOf(b.array(), b.limit());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not valid Unicode (a lone surrogate): "
                    + s.substring(0, Math.min(s.length(), 40)), e);
        }
    }

    /**
     * The least byte string above every string that starts with {@code prefix}: the prefix with its
     * last byte incremented. Never needs a carry: UTF-8 has no 0xFF byte and our separators are
     * 0x00 and ASCII.
     */
    static byte[] successor(byte[] prefix) {
        byte[] s = prefix.clone();
        int i = s.length - 1;
        while (i >= 0 && s[i] == (byte) 0xFF) {
            i--; // not reached by UTF-8 keys; kept so the function is right for any bytes
        }
        if (i < 0) {
            throw new IllegalArgumentException("no successor of an all-0xFF prefix");
        }
        s[i]++;
        return Arrays.copyOf(s, i + 1);
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    // ---- values

    private static StoredBucket encode(S3Model.Bucket b) {
        return StoredBucket.newBuilder().setName(b.name()).setCreatedMillis(b.createdMillis())
                .setPublicRead(b.publicRead()).build();
    }

    private static S3Model.Bucket decodeBucket(byte[] v) {
        StoredBucket b = parse(() -> StoredBucket.parseFrom(v), "bucket");
        return new S3Model.Bucket(b.getName(), b.getCreatedMillis(), b.getPublicRead());
    }

    private static StoredPiece encode(S3Model.Piece p) {
        return StoredPiece.newBuilder().setCid(p.cid()).setSize(p.size()).build();
    }

    private static S3Model.Piece decode(StoredPiece p) {
        return new S3Model.Piece(p.getCid(), p.getSize());
    }

    private static StoredObject encode(S3Model.ObjectEntry e) {
        keyBytes(e.key(), false);
        StoredObject.Builder b = StoredObject.newBuilder().setKey(e.key()).setSize(e.size()).setEtag(e.etag())
                .setLastModifiedMillis(e.lastModifiedMillis()).putAllHeaders(e.headers())
                .putAllUserMetadata(e.userMetadata()).putAllChecksums(e.checksums()).setEncrypted(e.encrypted());
        e.pieces().forEach(p -> b.addPieces(encode(p)));
        return b.build();
    }

    private static S3Model.ObjectEntry decodeObject(byte[] v) {
        StoredObject o = parse(() -> StoredObject.parseFrom(v), "object");
        return new S3Model.ObjectEntry(o.getKey(), o.getPiecesList().stream().map(S3Index::decode).toList(),
                o.getSize(), o.getEtag(), o.getLastModifiedMillis(), o.getHeadersMap(), o.getUserMetadataMap(),
                o.getChecksumsMap(), o.getEncrypted());
    }

    private static StoredUpload encode(S3Model.Upload u) {
        StoredUpload.Builder b = StoredUpload.newBuilder().setUploadId(u.uploadId()).setBucket(u.bucket())
                .setKey(u.key()).setInitiatedMillis(u.initiatedMillis()).putAllHeaders(u.headers())
                .putAllUserMetadata(u.userMetadata());
        if (u.checksumAlgorithm() != null) {
            b.setChecksumAlgorithm(u.checksumAlgorithm());
        }
        return b.build();
    }

    private static S3Model.Upload decodeUpload(byte[] v) {
        StoredUpload u = parse(() -> StoredUpload.parseFrom(v), "upload");
        return new S3Model.Upload(u.getUploadId(), u.getBucket(), u.getKey(), u.getInitiatedMillis(), u.getHeadersMap(),
                u.getUserMetadataMap(), u.hasChecksumAlgorithm() ? u.getChecksumAlgorithm() : null);
    }

    private static StoredPart encode(S3Model.Part p) {
        return StoredPart.newBuilder().setNumber(p.number()).setPiece(encode(p.piece())).setEtag(p.etag())
                .setLastModifiedMillis(p.lastModifiedMillis()).putAllChecksums(p.checksums()).build();
    }

    private static S3Model.Part decodePart(byte[] v) {
        StoredPart p = parse(() -> StoredPart.parseFrom(v), "part");
        return new S3Model.Part(p.getNumber(), decode(p.getPiece()), p.getEtag(), p.getLastModifiedMillis(),
                p.getChecksumsMap());
    }

    private interface Parser<T> {
        T parse() throws InvalidProtocolBufferException;
    }

    private static <T> T parse(Parser<T> p, String what) {
        try {
            return p.parse();
        } catch (InvalidProtocolBufferException e) {
            throw new UncheckedIOException(new IOException("a damaged " + what + " record in the S3 index: "
                    + e.getMessage(), e));
        }
    }
}
