package io.oecloud.node.s3;

import io.oecloud.node.object.ObjectException;
import io.oecloud.node.object.ObjectStore;
import io.oecloud.node.object.ObjectView;
import io.oecloud.node.object.StoredHook;
import io.oecloud.node.paying.ContractBuyer;
import io.oecloud.node.paying.Terms;
import io.oecloud.proofs.Cid;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * The gateway's bytes in the object store: each PUT or part is one OE object (a piece); an S3
 * object's range is read across its pieces in order; a piece no key refers to any more is let go
 * (its contract ended when the gateway pays for storage, then unpinned, so the holders collect it).
 * Owner and payer are whoever {@code objects} and {@code buyer} act for: the namespace key.
 */
final class S3Pieces {
    private static final System.Logger LOG = System.getLogger(S3Pieces.class.getName());

    private final ObjectStore objects;
    private final ContractBuyer buyer; // null: nothing is paid (a node without a chain link)

    S3Pieces(ObjectStore objects, ContractBuyer buyer) {
        this.objects = objects;
        this.buyer = buyer;
    }

    /** Stores {@code in} to its end as one piece; when the stream throws, nothing is kept. */
    S3Model.Piece store(InputStream in, long length, String contentType, boolean encrypt) throws IOException, ObjectException {
        StoredHook hook = buyer == null ? StoredHook.NONE : buyer.hook(Terms.DEFAULT, new java.util.concurrent.atomic.AtomicReference<>());
        Cid cid = objects.upload(in, contentType, encrypt, hook);
        return new S3Model.Piece(cid.toString(), length);
    }

    /** Writes bytes {@code from} to {@code to} (exclusive) of the object made of {@code pieces}. */
    void read(List<S3Model.Piece> pieces, long from, long to, OutputStream out) throws IOException, ObjectException {
        long at = 0;
        for (S3Model.Piece p : pieces) {
            long end = at + p.size();
            if (end > from && at < to) {
                ObjectView v = objects.stat(Cid.parse(p.cid()));
                objects.read(v, new ObjectStore.ByteSpan(Math.max(from, at) - at, Math.min(to, end) - at), out);
            }
            at = end;
            if (at >= to) {
                return;
            }
        }
    }

    /** Lets {@code piece} go: its contract ends and its pins are taken back. Failures are logged, never thrown. */
    void release(S3Model.Piece piece) {
        try {
            Cid cid = Cid.parse(piece.cid());
            if (buyer != null) {
                try {
                    buyer.end(cid);
                } catch (ObjectException e) {
                    LOG.log(System.Logger.Level.DEBUG, "no contract to end for {0}: {1}", cid, e.getMessage());
                }
            }
            objects.unpin(cid);
        } catch (ObjectException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not release piece {0}: {1}", piece.cid(), e.getMessage());
        }
    }
}
