package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProver;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.InclusionProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Strategy 14 of issue 24: malformed answers (path lengths, indices out of range, empty, huge,
 * 10^5 fuzzed) are refused as INVALID_PROOF or MALFORMED, never accepted and never a crash; and
 * the byte cost of a period's proof at c = 32 against the 64 KiB transaction limit.
 */
class StorageProofFuzzTest {
    private final Identity a = Identity.fromSeed(new byte[32]);

    @Test
    void strategy14_malformedAndFuzzedProofsAreRefusedWithoutACrash() throws Exception {
        StorageChain c = new StorageChain(21, a);
        StorageChain.Shards shards = new StorageChain.Shards(14, 64);
        String node = StorageChain.addr(a);
        byte[] id = Storage.nodeId(node);
        c.runTo(5);
        assertEquals(Code.OK, c.submit(a, StorageChain.register(1, BigInteger.valueOf(5_000_000))).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.commit(1, shards.tree.root(), shards.tree.count())).code());
        var w = c.windows().nodeBlocks(id, 1);
        c.runTo(w.first() + 1);
        byte[] seed = c.state.storageSeed(1, c.windows().nodeWindow(id));
        List<ProofAnswer> good = shards.answers(seed, id, 1, 0, 32, shards.content);
        // named cases, through signed transactions
        ProofAnswer g0 = good.get(0);
        byte[] inc = g0.getInclusion().toByteArray();
        InclusionProof p0 = InclusionProof.decode(inc, InclusionProof.MAX_ENCODED_BYTES);
        byte[] longer = Arrays.copyOf(p0.siblings(), p0.siblings().length + 32);
        byte[] shorter = Arrays.copyOf(p0.siblings(), Math.max(0, p0.siblings().length - 32));
        List<ProofAnswer> named = List.of(
                g0.toBuilder().setInclusion(ByteString.copyFrom(new InclusionProof(p0.index(), p0.entry(), longer).encode())).build(),
                g0.toBuilder().setInclusion(ByteString.copyFrom(new InclusionProof(p0.index(), p0.entry(), shorter).encode())).build(),
                g0.toBuilder().setInclusion(ByteString.copyFrom(new InclusionProof(shards.tree.count(), p0.entry(), p0.siblings()).encode())).build(),
                g0.toBuilder().setInclusion(ByteString.copyFrom(new InclusionProof(NodeRoot.MAX_COUNT - 1, p0.entry(), p0.siblings()).encode())).build(),
                ProofAnswer.getDefaultInstance(),
                g0.toBuilder().clearSlice().build(),
                g0.toBuilder().setInclusion(ByteString.copyFrom(new byte[60_000])).build(),
                g0.toBuilder().setSlice(ByteString.copyFrom(new byte[60_000])).build(),
                g0.toBuilder().setSlice(ByteString.copyFrom(SliceProver.prove(shards.content.get(p0.entry().cid()), 0,
                        (int) Math.min(2, p0.entry().chunks())).encode())).build());
        // all in one block (the window has P/W - 1 = 4 answering blocks): each refused, none changes the state
        List<byte[]> txs = new ArrayList<>();
        for (ProofAnswer bad : named) {
            List<ProofAnswer> answers = new ArrayList<>(good);
            answers.set(0, bad);
            if (bad.getSlice().size() >= 60_000 || bad.getInclusion().size() >= 60_000) {
                answers = List.of(bad);
            }
            txs.add(c.tx(a, StorageChain.proof(1, 0, answers)));
        }
        // an answer more than c, a wrong start, none at all, and a transaction above 64 KiB
        List<ProofAnswer> tooMany = new ArrayList<>(good);
        tooMany.add(good.get(0));
        txs.add(c.tx(a, StorageChain.proof(1, 0, tooMany)));
        txs.add(c.tx(a, StorageChain.proof(1, 1, good.subList(1, 32))));
        txs.add(c.tx(a, StorageChain.proof(1, 0, List.of())));
        txs.add(c.tx(a, StorageChain.proof(1, 0, List.of(g0.toBuilder().setSlice(ByteString.copyFrom(new byte[70_000])).build()))));
        List<Ledger.Result> rs = c.block(txs.toArray(byte[][]::new));
        for (int i = 0; i < named.size(); i++) {
            assertEquals(Code.INVALID_PROOF, rs.get(i).code(), "case " + i + ": " + rs.get(i).log());
        }
        assertEquals(List.of(Code.MALFORMED, Code.MALFORMED, Code.MALFORMED, Code.TOO_LARGE),
                rs.subList(named.size(), rs.size()).stream().map(Ledger.Result::code).toList());
        assertEquals(0, c.state.storageRoot(1, node).answered());

        // 10^5 fuzzed answers (seed 2424), verified as the block would: never accepted unless unchanged
        Random r = new Random(2424);
        LedgerState s = c.state.copyAt(c.state.height() + 1, 0);
        byte[] before = s.appHash();
        long t = System.nanoTime();
        int refused = 0;
        for (int i = 0; i < 100_000; i++) {
            int j = r.nextInt(32);
            ProofAnswer g = good.get(j);
            byte[] in = g.getInclusion().toByteArray();
            byte[] sl = g.getSlice().toByteArray();
            boolean onInclusion = r.nextBoolean();
            byte[] m = mutate(onInclusion ? in : sl, r);
            ProofAnswer fuzzed = onInclusion ? g.toBuilder().setInclusion(ByteString.copyFrom(m)).build()
                    : g.toBuilder().setSlice(ByteString.copyFrom(m)).build();
            if (fuzzed.equals(g)) {
                continue;
            }
            List<ProofAnswer> answers = new ArrayList<>(good.subList(0, j));
            answers.add(fuzzed);
            String why = Storage.verifyAnswer(fuzzed, seed, id, 1, shards.tree.root(), shards.tree.count(), j, null);
            assertNotNull(why, "fuzzed answer " + i + " was accepted");
            if (i % 1000 == 0) { // the whole transaction's rule, now and then (the earlier answers are valid)
                Ledger.Result res = Storage.submitProof(s, node, 1, 0, answers);
                assertEquals(Code.INVALID_PROOF, res.code(), res.log());
            }
            refused++;
        }
        long ms = (System.nanoTime() - t) / 1_000_000;
        assertTrue(refused > 99_000, refused + " refused");
        assertTrue(ms < 60_000, "10^5 fuzzed answers took " + ms + " ms");
        assertEquals(java.util.HexFormat.of().formatHex(before), java.util.HexFormat.of().formatHex(s.appHash()), "nothing changed");
        System.out.printf("storage proofs: %d fuzzed answers refused in %d ms%n", refused, ms);
    }

    private static byte[] mutate(byte[] b, Random r) {
        byte[] m = b.clone();
        switch (r.nextInt(6)) {
            case 0 -> m[r.nextInt(Math.max(1, m.length))] ^= (byte) (1 << r.nextInt(8)); // one bit
            case 1 -> { // a few random bytes
                for (int k = 0, n = 1 + r.nextInt(4); k < n && m.length > 0; k++) {
                    m[r.nextInt(m.length)] = (byte) r.nextInt(256);
                }
            }
            case 2 -> m = Arrays.copyOf(m, r.nextInt(Math.max(1, m.length))); // truncated
            case 3 -> { // extended
                m = Arrays.copyOf(m, m.length + 1 + r.nextInt(64));
                for (int k = b.length; k < m.length; k++) {
                    m[k] = (byte) r.nextInt(256);
                }
            }
            case 4 -> m[r.nextInt(Math.min(m.length, 12))] = (byte) (0x80 | r.nextInt(128)); // a header varint made long
            default -> { // random bytes of a plausible length
                m = new byte[r.nextInt(2 * b.length + 2)];
                r.nextBytes(m);
            }
        }
        return m;
    }

    /**
     * A period's proof at c = 32 for a node of 100,000 entries of 8 MiB shards: the bytes of one
     * answer and of the signed transaction(s), against the 64 KiB limit.
     */
    @Test
    void proofBytesAtThirtyTwoChallenges() throws Exception {
        Random r = new Random(7);
        byte[] shard = new byte[8 << 20];
        r.nextBytes(shard);
        Cid real = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, shard);
        List<NodeEntry> es = new ArrayList<>(100_000);
        es.add(new NodeEntry(real, shard.length));
        byte[] d = new byte[32];
        for (int i = 1; i < 100_000; i++) {
            r.nextBytes(d);
            es.add(new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, d.clone()), shard.length));
        }
        es.sort(java.util.Comparator.comparing(NodeEntry::cid));
        NodeRoot tree = NodeRoot.build(es);
        byte[] seed = new byte[32];
        byte[] id = Storage.nodeId(StorageChain.addr(a));
        List<ProofAnswer> answers = new ArrayList<>();
        int maxInc = 0;
        int maxSlice = 0;
        for (int j = 0; j < 32; j++) {
            Challenge ch = Challenges.one(seed, id, 1, tree.count(), j);
            byte[] incl = tree.prove(ch.entry()).encode();
            byte[] slice = SliceProver.prove(shard, ch.chunk(shard.length), 1).encode(); // same shape for every 8 MiB entry
            maxInc = Math.max(maxInc, incl.length);
            maxSlice = Math.max(maxSlice, slice.length);
            answers.add(ProofAnswer.newBuilder().setInclusion(ByteString.copyFrom(incl)).setSlice(ByteString.copyFrom(slice)).build());
        }
        StorageChain c = new StorageChain(22, a);
        int whole = c.tx(a, StorageChain.proof(1, 0, answers)).length;
        int half = c.tx(a, StorageChain.proof(1, 0, answers.subList(0, 16))).length;
        System.out.printf("storage proofs: answer ≤ %d + %d bytes; 32 answers in one transaction %d bytes (limit %d), 16 in one %d%n",
                maxInc, maxSlice, whole, Ledger.MAX_TX_BYTES, half);
        assertTrue(half < Ledger.MAX_TX_BYTES, "two transactions of 16 answers always fit");
        assertTrue(maxInc <= 600 && maxSlice <= 1460, maxInc + " " + maxSlice);
    }
}
