package io.oecloud.node.s3;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The namespace as the operations change it: {@link S3Index} (durable records) plus who refers to
 * each piece. A piece can be under several keys (CopyObject shares pieces; identical bytes stored
 * twice get one CID) and in parts of uploads, so a piece is let go only when the last key or part
 * referring to it goes. The counts live in memory, rebuilt from the index when it opens (one pass
 * over the records: a second per few hundred thousand objects). Each change and its count update
 * happen under one lock, so two writers never both free or both keep a piece wrongly; reads go to
 * the index directly.
 */
final class S3Namespace implements AutoCloseable {
    /** A write named a bucket that does not exist (any more). */
    static final class NoBucketException extends Exception {
        private static final long serialVersionUID = 1L;
    }

    /** A write named an upload that does not exist (any more). */
    static final class NoUploadException extends Exception {
        private static final long serialVersionUID = 1L;
    }

    private final S3Index index;
    private final Map<String, Integer> refs = new HashMap<>(); // guarded by this
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();

    /** Changes made since the namespace opened (snapshots compare it with what they saved). */
    long changes() {
        return changes.get();
    }

    private S3Namespace(S3Index index) {
        this.index = index;
    }

    static S3Namespace open(Path dir) throws IOException {
        S3Index index = S3Index.open(dir);
        S3Namespace n = new S3Namespace(index);
        try {
            n.count();
        } catch (RuntimeException e) {
            index.close();
            throw e;
        }
        return n;
    }

    S3Index index() {
        return index;
    }

    private synchronized void count() {
        for (S3Model.Bucket b : index.buckets()) {
            String after = null;
            while (true) {
                S3Model.Listing page = index.list(b.name(), "", null, after, 1000);
                for (S3Model.ObjectEntry e : page.contents()) {
                    e.pieces().forEach(p -> refs.merge(p.cid(), 1, Integer::sum));
                }
                if (!page.truncated() || page.nextMarker() == null) {
                    break;
                }
                after = page.nextMarker();
            }
            String keyMarker = null;
            String idMarker = null;
            while (true) {
                List<S3Model.Upload> ups = index.uploads(b.name(), "", keyMarker, idMarker, 1000);
                for (S3Model.Upload u : ups) {
                    index.allParts(u.uploadId()).forEach(p -> refs.merge(p.piece().cid(), 1, Integer::sum));
                }
                if (ups.size() < 1000) {
                    break;
                }
                keyMarker = ups.get(ups.size() - 1).key();
                idMarker = ups.get(ups.size() - 1).uploadId();
            }
        }
    }

    // ---- buckets (no pieces) ----

    boolean createBucket(String name, long nowMillis, boolean publicRead) {
        changes.incrementAndGet();
        return index.createBucket(name, nowMillis, publicRead);
    }

    Optional<S3Model.Bucket> bucket(String name) {
        return index.bucket(name);
    }

    List<S3Model.Bucket> buckets() {
        return index.buckets();
    }

    synchronized S3Index.DeleteBucket deleteBucket(String name) {
        changes.incrementAndGet();
        return index.deleteBucket(name);
    }

    boolean setPublic(String name, boolean publicRead) {
        changes.incrementAndGet();
        return index.setPublic(name, publicRead);
    }

    // ---- objects ----

    Optional<S3Model.ObjectEntry> get(String bucket, String key) {
        return index.get(bucket, key);
    }

    S3Model.Listing list(String bucket, String prefix, String delimiter, String after, int maxKeys) {
        return index.list(bucket, prefix, delimiter, after, maxKeys);
    }

    /** Puts {@code e}; returns the pieces nobody refers to any more (the replaced entry's, unless shared). */
    synchronized List<S3Model.Piece> putObject(String bucket, S3Model.ObjectEntry e) throws NoBucketException {
        if (index.bucket(bucket).isEmpty()) {
            throw new NoBucketException();
        }
        changes.incrementAndGet();
        Optional<S3Model.ObjectEntry> old = index.put(bucket, e);
        e.pieces().forEach(this::ref);
        return old.map(o -> unref(o.pieces())).orElse(List.of());
    }

    synchronized List<S3Model.Piece> deleteObject(String bucket, String key) {
        changes.incrementAndGet();
        return index.delete(bucket, key).map(o -> unref(o.pieces())).orElse(List.of());
    }

    // ---- multipart ----

    synchronized void createUpload(S3Model.Upload u) throws S3Exception {
        if (index.bucket(u.bucket()).isEmpty()) {
            throw S3Buckets.noSuchBucket(u.bucket());
        }
        changes.incrementAndGet();
        index.createUpload(u);
    }

    Optional<S3Model.Upload> upload(String uploadId) {
        return index.upload(uploadId);
    }

    synchronized List<S3Model.Piece> putPart(String uploadId, S3Model.Part p) throws NoUploadException {
        if (index.upload(uploadId).isEmpty()) {
            throw new NoUploadException();
        }
        changes.incrementAndGet();
        Optional<S3Model.Part> old = index.putPart(uploadId, p);
        ref(p.piece());
        return old.map(o -> unref(List.of(o.piece()))).orElse(List.of());
    }

    List<S3Model.Part> parts(String uploadId, int afterPartNumber, int max) {
        return index.parts(uploadId, afterPartNumber, max);
    }

    List<S3Model.Part> allParts(String uploadId) {
        return index.allParts(uploadId);
    }

    List<S3Model.Upload> uploads(String bucket, String prefix, String keyMarker, String uploadIdMarker, int max) {
        return index.uploads(bucket, prefix, keyMarker, uploadIdMarker, max);
    }

    synchronized List<S3Model.Piece> abortUpload(String uploadId) {
        changes.incrementAndGet();
        List<S3Model.Piece> gone = new ArrayList<>();
        for (S3Model.Part p : index.abortUpload(uploadId)) {
            gone.add(p.piece());
        }
        return unref(gone);
    }

    /**
     * Completes the upload as {@code e} in one batch; returns the pieces nobody refers to any more
     * (parts left out of the object, and the replaced entry's).
     */
    synchronized List<S3Model.Piece> completeUpload(String uploadId, S3Model.ObjectEntry e) throws NoUploadException {
        if (index.upload(uploadId).isEmpty()) {
            throw new NoUploadException();
        }
        List<S3Model.Piece> parts = new ArrayList<>();
        for (S3Model.Part p : index.allParts(uploadId)) {
            parts.add(p.piece());
        }
        changes.incrementAndGet();
        Optional<S3Model.ObjectEntry> old = index.completeUpload(uploadId, e);
        e.pieces().forEach(this::ref);
        List<S3Model.Piece> free = new ArrayList<>(unref(parts));
        old.ifPresent(o -> free.addAll(unref(o.pieces())));
        return free;
    }

    /**
     * Whether a key or a part of an upload in progress refers to the piece {@code cid} (its text
     * form): what keeps a piece's contract worth renewing. A piece being stored counts from the
     * moment its key or part is put.
     */
    synchronized boolean refersTo(String cid) {
        return refs.containsKey(cid);
    }

    private void ref(S3Model.Piece p) {
        refs.merge(p.cid(), 1, Integer::sum);
    }

    /** Drops one reference of each; returns those left with none. */
    private List<S3Model.Piece> unref(List<S3Model.Piece> pieces) {
        List<S3Model.Piece> free = new ArrayList<>();
        for (S3Model.Piece p : pieces) {
            Integer n = refs.computeIfPresent(p.cid(), (k, v) -> v <= 1 ? null : v - 1);
            if (n == null) {
                free.add(p);
            }
        }
        return free;
    }

    @Override
    public void close() {
        index.close();
    }
}
