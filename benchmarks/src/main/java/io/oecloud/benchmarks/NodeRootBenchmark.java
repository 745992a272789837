package io.oecloud.benchmarks;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.InclusionProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a node root costs (proofs/README.md, "Node roots and challenges"): building the tree over
 * {@code entries} random BLAKE3 raw CIDs with sizes (the target: a few hundred ms for 100,000),
 * producing one inclusion proof from the built tree, verifying one (with its encoded form decoded
 * first, as a super-node receives it), and deriving a period's 32 challenges; and a period's 32
 * challenged entries verified as the chain does since issue 24's multiproof (one
 * {@link EntriesProof}, decoded and verified against the challenged indices) against the first
 * format in the same run (32 {@link InclusionProof}s, each decoded and verified). One thread.
 *
 * <p>Run: {@code benchmarks/run.sh roots}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class NodeRootBenchmark {
    @Param({"100000"})
    public int entries;

    private List<NodeEntry> list;
    private NodeRoot tree;
    private byte[] root;
    private byte[] encoded;
    private long index;
    private long[] picked;
    private byte[] entriesProof;
    private byte[][] inclusionProofs;
    private final byte[] seed = new byte[32];
    private final byte[] nodeId = new byte[32];

    @Setup
    public void setup() {
        Random rnd = new Random(42);
        list = new ArrayList<>(entries);
        for (int i = 0; i < entries; i++) {
            byte[] d = new byte[32];
            rnd.nextBytes(d);
            list.add(new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, d), rnd.nextLong(1L << 26)));
        }
        list.sort((a, b) -> a.cid().compareTo(b.cid()));
        tree = NodeRoot.build(list);
        root = tree.root();
        index = entries / 3;
        encoded = tree.prove(index).encode();
        rnd.nextBytes(seed);
        rnd.nextBytes(nodeId);
        picked = Challenges.derive(seed, nodeId, 7, entries, Challenges.DEFAULT_PER_PERIOD).stream()
                .mapToLong(Challenge::entry).toArray();
        entriesProof = tree.proveEntries(picked).encode();
        inclusionProofs = new byte[picked.length][];
        for (int j = 0; j < picked.length; j++) {
            inclusionProofs[j] = tree.prove(picked[j]).encode();
        }
    }

    /** The whole tree: leaf hashes, every level, the root. */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public NodeRoot build() {
        return NodeRoot.build(list);
    }

    @Benchmark
    public InclusionProof prove() {
        return tree.prove(index);
    }

    /** Decode (with the encoded form's cap) and verify against (root, count), as a verifier does. */
    @Benchmark
    public InclusionProof decodeAndVerify() {
        InclusionProof p = InclusionProof.decode(encoded, InclusionProof.MAX_ENCODED_BYTES);
        p.verify(root, entries, index);
        return p;
    }

    /** A period's 32 challenged entries as one multiproof: decoded with the chain's caps and verified against the challenges. */
    @Benchmark
    public EntriesProof verifyThirtyTwoEntries() {
        EntriesProof p = EntriesProof.decode(entriesProof, EntriesProof.maxEncodedBytes(picked.length), picked.length);
        p.verify(root, entries, picked);
        return p;
    }

    /** The peer: the same 32 entries as 32 inclusion proofs (the first chain format), each decoded and verified. */
    @Benchmark
    public int verifyThirtyTwoInclusionProofs() {
        int n = 0;
        for (int j = 0; j < picked.length; j++) {
            InclusionProof p = InclusionProof.decode(inclusionProofs[j], InclusionProof.MAX_ENCODED_BYTES);
            p.verify(root, entries, picked[j]);
            n += p.siblingCount();
        }
        return n;
    }

    /** Making the multiproof of a period's 32 challenges from the built tree (the prover's side). */
    @Benchmark
    public EntriesProof proveThirtyTwoEntries() {
        return tree.proveEntries(picked);
    }

    /** A period's 32 challenges for one node. */
    @Benchmark
    public List<Challenge> challenges() {
        return Challenges.derive(seed, nodeId, 7, entries, Challenges.DEFAULT_PER_PERIOD);
    }
}
