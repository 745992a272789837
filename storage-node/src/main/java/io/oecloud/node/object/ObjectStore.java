package io.oecloud.node.object;

import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * Objects by CID: what the HTTP API, and later the CDN edge and the S3 gateway, code against.
 * Domain values only; manifests, shards and nodes stay behind it ({@link ObjectService} is the
 * network's implementation).
 *
 * <pre>{@code
 * ObjectView v = store.stat(cid);                       // a HEAD: size, type, kind, encrypted
 * store.read(v, new ByteSpan(0, v.size()), out);        // the bytes, or a range of them
 * ObjectView page = store.resolve(root, List.of("assets", "logo.png"));   // a path in a directory
 * }</pre>
 *
 * <p>Every method blocks (network and disk work): call it from a virtual thread, never an event
 * loop. Failures are {@link ObjectException}s whose {@link ObjectException.Code} an API maps to a
 * status once; their messages are words for a client, never Java's. Streams stay the caller's: an
 * upload reads its InputStream to the end and a read writes to its OutputStream, neither closes it.
 */
public interface ObjectStore {
    /** Content type of directory objects. */
    String DIRECTORY_TYPE = "inode/directory";
    /** Entries one directory may hold (its manifest stays a few MiB at most). */
    int MAX_ENTRIES = 100_000;

    /**
     * Reads {@code in} to its end and stores it; returns the object's CID.
     *
     * @param contentType kept with the object; null for {@code application/octet-stream}
     * @param encrypt encrypt it with a key only this node's identity can open (then only this node reads it)
     * @throws IOException when the stream fails or ends early: nothing is stored
     * @throws ObjectException BAD_INPUT for a content type no manifest can carry; PLACEMENT_FAILED
     *     when a segment cannot reach its write quorum; BUSY when the node's memory stayed full
     */
    Cid upload(InputStream in, String contentType, boolean encrypt) throws IOException, ObjectException;

    /**
     * {@link #upload(InputStream, String, boolean)} with {@code hook} as the store's last step,
     * before the upload is acknowledged: when it throws, the upload fails and its blocks are taken
     * back. A store that does not place blocks on nodes (a test's in-memory one) never calls it.
     */
    default Cid upload(InputStream in, String contentType, boolean encrypt, StoredHook hook) throws IOException, ObjectException {
        return upload(in, contentType, encrypt);
    }

    /** {@link #putDirectory(List)} with {@code hook} as its last step (see {@link #upload(InputStream, String, boolean, StoredHook)}). */
    default Cid putDirectory(List<NewEntry> entries, StoredHook hook) throws ObjectException {
        return putDirectory(entries);
    }

    /** {@link #upload(InputStream, String, boolean)} of public (unencrypted) content. */
    default Cid upload(InputStream in, String contentType) throws IOException, ObjectException {
        return upload(in, contentType, false);
    }

    /**
     * The object, as a HEAD answers it.
     *
     * @throws ObjectException NOT_FOUND when no node has it or {@code cid} names no object; CORRUPT
     *     when what was found is not a valid object
     */
    default ObjectView stat(Cid cid) throws ObjectException {
        return resolve(cid, List.of());
    }

    /**
     * The object at {@code path} (names, outermost first) under the directory {@code root};
     * {@code root} itself for an empty path.
     *
     * @throws ObjectException NOT_FOUND when a name is missing; BAD_INPUT when the path runs through a file
     */
    ObjectView resolve(Cid root, List<String> path) throws ObjectException;

    /**
     * Writes {@code span} of the object's bytes to {@code out}, fetching only the segments it
     * touches. No byte of a segment is written before the segment passed its checks: when a read
     * fails, {@code out} got a checked prefix of the span, and nothing at all when the first
     * segment failed (so an API can still answer with a clean error).
     *
     * @throws ObjectException BAD_RANGE for a span past the end; BAD_INPUT for a directory;
     *     NOT_OWNER for an encrypted object of another node; NOT_ENOUGH_SHARDS; CORRUPT; BUSY
     * @throws IOException when {@code out} fails
     */
    void read(ObjectView object, ByteSpan span, OutputStream out) throws IOException, ObjectException;

    /**
     * Stores a directory of existing objects; returns its CID. Every entry's object is looked up:
     * its size, type and kind come from the object itself, never from the request.
     *
     * @throws ObjectException BAD_INPUT for a bad or repeated name, over {@value #MAX_ENTRIES}
     *     entries or an unknown object
     */
    Cid putDirectory(List<NewEntry> entries) throws ObjectException;

    /**
     * Takes back this node's pins of the object everywhere (a DELETE); the holders collect what
     * no other object pins after their grace period.
     *
     * @return how many pins were removed
     * @throws ObjectException NOT_FOUND for an unknown object or one deleted here already;
     *     NOT_OWNER when this node's key is not the object's owner
     */
    int unpin(Cid cid) throws ObjectException;

    /** The objects uploaded through this node (signed by its key), newest first. */
    List<ObjectInfo> list() throws StoreException;

    /** Healthy shards of each segment of the object, by probes of every holder (network work). */
    Health health(Cid cid) throws ObjectException;

    /** Bytes {@code from} (inclusive) to {@code to} (exclusive) of an object. */
    record ByteSpan(long from, long to) {
        public ByteSpan {
            if (from < 0 || to < from) {
                throw new IllegalArgumentException("a byte span needs 0 <= from <= to, was " + from + "-" + to);
            }
        }

        /** All {@code size} bytes. */
        public static ByteSpan all(long size) {
            return new ByteSpan(0, size);
        }

        public long length() {
            return to - from;
        }
    }

    /** A directory entry as asked for: a name and the object (file or directory) it names. */
    record NewEntry(String name, Cid cid) {}

    /** A directory entry as stored: the object's size, type and kind, taken from it when the directory was made. */
    record DirectoryEntry(String name, Cid cid, long size, String contentType, boolean directory) {}

    /** An object this node's key owns, as {@code oe ls} shows it. */
    record ObjectInfo(Cid cid, long size, String contentType, boolean directory, boolean encrypted, long storedAtMillis) {}

    /** How many shards of each segment of an object are held by a node that answers. */
    record Health(Cid cid, int k, int m, List<Integer> healthyPerSegment) {
        public Health {
            healthyPerSegment = List.copyOf(healthyPerSegment);
        }

        /** The fewest healthy shards of any segment (k + m for an object without segments). */
        public int weakest() {
            return healthyPerSegment.stream().mapToInt(Integer::intValue).min().orElse(k + m);
        }
    }
}
