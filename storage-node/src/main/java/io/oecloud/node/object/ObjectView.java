package io.oecloud.node.object;

import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import java.util.ArrayList;
import java.util.List;

/**
 * An object as {@link ObjectStore} shows it: what a HEAD answers (size, type, kind, whether it is
 * encrypted) and a directory's entries, without its manifest. A class rather than a record: it
 * carries the checked manifest it was read from, which stays inside this package, so a read of
 * the object after a lookup fetches and checks no manifest again.
 */
public final class ObjectView {
    private final Cid cid;
    private final Manifest manifest;

    ObjectView(Cid cid, Manifest manifest) {
        this.cid = cid;
        this.manifest = manifest;
    }

    /** The object's CID (its manifest's): also its ETag, since the bytes it names never change. */
    public Cid cid() {
        return cid;
    }

    /** Bytes of a file; for a directory, the sum of its entries' sizes. */
    public long size() {
        return manifest.getSize();
    }

    /** The content type recorded at upload ({@link ObjectStore#DIRECTORY_TYPE} for a directory). */
    public String contentType() {
        return manifest.getContentType();
    }

    /** Whether this is a directory object (its bytes are its entries, not content). */
    public boolean directory() {
        return manifest.getKind() == Kind.DIRECTORY;
    }

    /** Whether its segments are encrypted: only the owner's node can read it. */
    public boolean encrypted() {
        return manifest.hasEncryption();
    }

    /** A directory's entries, sorted by name bytes; empty for a file. A new list at each call. */
    public List<ObjectStore.DirectoryEntry> entries() {
        List<ObjectStore.DirectoryEntry> out = new ArrayList<>(manifest.getEntriesCount());
        for (Entry e : manifest.getEntriesList()) {
            out.add(new ObjectStore.DirectoryEntry(e.getName(), Cid.fromBytes(e.getCid().toByteArray()), e.getSize(),
                    e.getContentType(), e.getKind() == Kind.DIRECTORY));
        }
        return out;
    }

    Manifest manifest() {
        return manifest;
    }

    @Override
    public String toString() {
        return cid + " (" + (directory() ? "directory, " + manifest.getEntriesCount() + " entries, " : "")
                + size() + " bytes)";
    }
}
