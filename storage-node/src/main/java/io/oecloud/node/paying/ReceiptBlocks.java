package io.oecloud.node.paying;

import io.oecloud.chain.pb.ChainProto.Receipt;
import io.oecloud.node.object.Manifests;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.node.shard.Receipts;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The payer's check of a holder's receipt against the object it stored: the blocks the receipt's
 * map names must be the object's (its manifest and shards, sized as the manifest says), and their
 * count, bytes and entries root must be the receipt's. The chain keeps the root and challenges the
 * holder under it each period, so a root over anything else (blocks it could rebuild at will, other
 * sizes) would let a holder be paid for bytes it need not keep; such a receipt is not taken, as if
 * the holder had given none.
 */
final class ReceiptBlocks {
    private final List<NodeEntry> blocks;

    ReceiptBlocks(Cid object, Manifest manifest) {
        this.blocks = Manifests.blockEntries(object, manifest);
    }

    /** Null when {@code s} is a receipt of the blocks its map names; else what is wrong, in words. */
    String problem(Receipts.Signed s) {
        byte[] map = s.blocks();
        int want = (blocks.size() + 7) / 8;
        if (map.length != want) {
            return "a block map of " + map.length + " bytes for an object of " + blocks.size() + " blocks (" + want + " bytes)";
        }
        if (blocks.size() % 8 != 0 && (map[map.length - 1] & 0xff) >>> (blocks.size() % 8) != 0) {
            return "a block map that names blocks past the object's " + blocks.size();
        }
        List<NodeEntry> named = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < blocks.size(); i++) {
            if ((map[i >>> 3] & (1 << (i & 7))) != 0) {
                named.add(blocks.get(i));
                bytes += blocks.get(i).size();
            }
        }
        Receipt r = s.receipt();
        if (named.size() != Integer.toUnsignedLong(r.getBlocks())) {
            return "the receipt counts " + Integer.toUnsignedString(r.getBlocks()) + " blocks, its map names " + named.size();
        }
        if (bytes != r.getBytes()) {
            return "the receipt counts " + Long.toUnsignedString(r.getBytes()) + " bytes, the blocks its map names are " + bytes;
        }
        if (!Arrays.equals(Receipts.entriesRoot(named).root(), r.getEntriesRoot().toByteArray())) {
            return "the receipt's entries root is not the root of the blocks its map names";
        }
        return null;
    }
}
