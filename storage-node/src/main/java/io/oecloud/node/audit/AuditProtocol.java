package io.oecloud.node.audit;

import io.oecloud.chain.ledger.Audits.Outcome;
import io.oecloud.node.pb.AuditProto.AuditRequest;
import io.oecloud.node.pb.AuditProto.AuditResponse;
import io.oecloud.proofs.slice.SliceProof;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.InclusionProof;
import io.oecloud.proofs.storage.NodeEntry;

/**
 * {@code /oe/proof/1.0.0}, the timed retrieval audit (storage-node/README.md, "Timed retrieval
 * audits"): a member of the chain's audit committee asks a storage node for an entry of the root it
 * committed for a period and a range of that shard's 1 KiB chunks; the node answers with the entry's
 * {@link InclusionProof} under the root and a {@link SliceProof} of the chunks against the entry's
 * CID. The asker picks the entry and the range with its own randomness, so the node cannot know
 * them before it is asked; it judges the answer against the root on the chain and its deadline.
 *
 * <p>The range: the first chunk is {@code floor(chunkPick × chunks(size) / 2^64)} (the asker does
 * not know the entry's size before the answer names it), {@code chunkCount} chunks from there, cut
 * short at the shard's last chunk.
 */
public final class AuditProtocol {
    public static final String PROTOCOL_ID = "/oe/proof/1.0.0";
    /** A request is at most this many bytes (its four varints need at most 33). */
    public static final int MAX_REQUEST = 64;
    /** Chunks one request may ask for (16 KiB of shard bytes). */
    public static final int MAX_CHUNKS = 16;
    /** An answer is at most this many bytes: the inclusion proof, the chunks, their sibling CVs and the framing. */
    public static final int MAX_RESPONSE = InclusionProof.MAX_ENCODED_BYTES + MAX_CHUNKS * Challenges.CHUNK_BYTES + 4096;

    private AuditProtocol() {}

    /** The chunk range a request names for an entry of {@code size} bytes: {first, count}. */
    public static long[] range(long chunkPick, int chunkCount, long size) {
        long chunks = Challenges.chunks(size);
        long first = Math.unsignedMultiplyHigh(chunkPick, chunks);
        return new long[] {first, Math.min(chunkCount, chunks - first)};
    }

    /** Null when {@code r} is a request a node answers, else what is wrong with it. */
    public static String problem(AuditRequest r) {
        if (r.getChunkCount() < 1 || r.getChunkCount() > MAX_CHUNKS) {
            return "chunk count " + Integer.toUnsignedString(r.getChunkCount()) + " is outside [1, " + MAX_CHUNKS + "]";
        }
        if (r.getPeriod() < 0 || r.getEntry() < 0) {
            return "period " + Long.toUnsignedString(r.getPeriod()) + " or entry " + Long.toUnsignedString(r.getEntry()) + " out of range";
        }
        if (!r.getUnknownFields().asMap().isEmpty()) {
            return "unknown fields " + r.getUnknownFields().asMap().keySet();
        }
        return null;
    }

    /**
     * Judges an answer to {@code r} against the root and count the node committed on the chain:
     * PASS when the inclusion proof proves entry {@code r.entry} under (root, count) and the slice
     * is exactly the requested range of that entry and verifies against its CID and size; BAD when
     * it does not, or when the node said it cannot prove a committed entry (NOT_FOUND); TIMEOUT for
     * any other refusal (no verified answer). The caller judges the time.
     */
    public static Judged judge(AuditRequest r, byte[] root, long count, AuditResponse a) {
        if (a.getStatus() == AuditResponse.Status.NOT_FOUND) {
            return new Judged(Outcome.BAD, "the node cannot prove a committed entry: " + a.getMessage());
        }
        if (a.getStatus() != AuditResponse.Status.OK) {
            return new Judged(Outcome.TIMEOUT, "no answer: " + a.getStatus() + " " + a.getMessage());
        }
        try {
            InclusionProof inc = InclusionProof.decode(a.getInclusion().toByteArray(), InclusionProof.MAX_ENCODED_BYTES);
            inc.verify(root, count, r.getEntry());
            NodeEntry e = inc.entry();
            long[] range = range(r.getChunkPick(), r.getChunkCount(), e.size());
            SliceProof sp = SliceProof.decode(a.getSlice().toByteArray(), MAX_RESPONSE);
            if (sp.firstChunk() != range[0] || sp.chunkCount() != range[1]) {
                return new Judged(Outcome.BAD, "the slice proves chunks [" + sp.firstChunk() + ", +" + sp.chunkCount() + "), the request "
                        + "named [" + range[0] + ", +" + range[1] + ")");
            }
            sp.verify(e.cid(), e.size());
            return new Judged(Outcome.PASS, "entry " + r.getEntry() + " (" + e.cid() + "), chunks [" + range[0] + ", +" + range[1] + ")");
        } catch (RuntimeException e) { // StorageProofException, SliceProofException, and anything a crafted answer provokes
            return new Judged(Outcome.BAD, "the answer does not verify: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** An outcome and why. */
    public record Judged(Outcome outcome, String detail) {}
}
