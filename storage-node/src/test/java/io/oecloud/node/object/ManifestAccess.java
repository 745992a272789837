package io.oecloud.node.object;

import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.io.OutputStream;

/**
 * For tests outside this package that look at manifests (where the shards went) or hand a node a
 * manifest they built or changed: the {@link ObjectStore} contract shows neither, on purpose.
 */
public final class ManifestAccess {
    private ManifestAccess() {}

    /** The object's manifest, fetched and checked as every read does. */
    public static Manifest manifest(ObjectService objects, Cid cid) throws ObjectException {
        return objects.manifests.get(cid);
    }

    /** The nodes a read asks for a manifest it has no copy of, in the order it asks them (before recent failures count). */
    public static java.util.List<io.oecloud.dht.PeerId> manifestSources(ObjectService objects, Cid cid) {
        return objects.candidates.nearest(cid.toBytes());
    }

    /** Bytes [from, to) of the object {@code m} describes, read as a download reads them (with every check). */
    public static void download(ObjectService objects, Manifest m, long from, long to, OutputStream out)
            throws IOException, ObjectException {
        objects.download.download(m, from, to, out);
    }
}
