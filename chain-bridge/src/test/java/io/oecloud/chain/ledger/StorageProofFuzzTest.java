package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.chain.ledger.Ledger.Code;
import io.oecloud.chain.pb.ChainProto.ContractAnswer;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProver;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.EntriesProof;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Strategy 14 of issue 24: malformed proofs (sibling counts, indices out of range, entries left out
 * or added, empty, huge, the old answer form, contract answers missing, extra, of another tree,
 * entry or chunk, 10^5 fuzzed transactions) are refused as INVALID_PROOF, MALFORMED or TOO_LARGE,
 * never accepted and never a crash; and the byte cost of a period's proof at c = 32 (with its
 * contract answers) against the 64 KiB transaction limit.
 */
class StorageProofFuzzTest {
    private final Identity a = Identity.fromSeed(new byte[32]);
    private final Identity payer = ContractChain.id(61);

    @Test
    void strategy14_malformedAndFuzzedProofsAreRefusedWithoutACrash() throws Exception {
        StorageChain c = new StorageChain(21, a, payer);
        StorageChain.Shards shards = new StorageChain.Shards(14, 64);
        StorageChain.Shards other = new StorageChain.Shards(15, 64);
        StorageChain.Shards held = new StorageChain.Shards(16, 8); // the node's blocks of a contracted object
        StorageChain.Shards heldOther = new StorageChain.Shards(17, 8);
        String node = StorageChain.addr(a);
        byte[] id = Storage.nodeId(node);
        c.runTo(5);
        assertEquals(Code.OK, c.submit(a, StorageChain.register(1, BigInteger.valueOf(5_000_000))).code());
        assertEquals(Code.OK, c.submit(a, StorageChain.commit(1, shards.tree.root(), shards.tree.count())).code());
        byte[] obj = ContractChain.object("fuzzed");
        Ledger.Result made = c.submit(payer, ContractChain.create(obj, 3, List.of(ContractChain.receipt(a, obj, StorageChain.addr(payer),
                100_000, (int) held.tree.count(), held.tree.root(), 0))));
        assertEquals(Code.OK, made.code(), made.log());
        var w = c.windows().nodeBlocks(id, 1);
        c.runTo(w.first() + 1);
        byte[] seed = c.state.storageSeed(1, c.windows().nodeWindow(id));
        StorageChain.Answers good = shards.answers(seed, id, 1, 0, 32, shards.content);
        List<Storage.ContractPick> picks = Storage.contractPicks(c.state, 1, node);
        assertEquals(2, picks.size(), "k = 2 picks of the node's one contract");
        List<ContractAnswer> goodContract = new ArrayList<>();
        for (Storage.ContractPick pick : picks) {
            goodContract.add(StorageChain.contractAnswer(pick, held, held.content));
        }
        List<Challenge> cs = new ArrayList<>();
        for (int j = 0; j < 32; j++) {
            cs.add(Challenges.one(seed, id, 1, shards.tree.count(), j));
        }
        long[] picked = EntriesProof.distinctSorted(cs.stream().mapToLong(Challenge::entry).toArray());
        EntriesProof ep = EntriesProof.decode(good.entries(), good.entries().length, 32);
        byte[] sib = ep.siblings();
        long[] lastOut = picked.clone();
        lastOut[lastOut.length - 1] = shards.tree.count(); // an index at the count
        long[] lastHuge = picked.clone();
        lastHuge[lastHuge.length - 1] = NodeRoot.MAX_COUNT - 1;
        long[] oneMore = java.util.stream.LongStream.range(0, shards.tree.count()).filter(i -> Arrays.binarySearch(picked, i) < 0)
                .limit(1).toArray();
        long[] plusOne = EntriesProof.distinctSorted(java.util.stream.LongStream.concat(Arrays.stream(picked), Arrays.stream(oneMore)).toArray());
        ProofAnswer g0 = good.answers().get(0);
        NodeEntry e0 = ep.entry(cs.get(0).entry());
        List<StorageChain.Answers> named = List.of(
                good.withEntries(new EntriesProof(picked, ep.entries(), Arrays.copyOf(sib, sib.length + 32)).encode()), // a sibling more
                good.withEntries(new EntriesProof(picked, ep.entries(), Arrays.copyOf(sib, Math.max(0, sib.length - 32))).encode()), // fewer
                good.withEntries(new EntriesProof(lastOut, ep.entries(), sib).encode()),
                good.withEntries(new EntriesProof(lastHuge, ep.entries(), sib).encode()),
                good.withEntries(new byte[0]), // none
                good.withEntries(shards.tree.proveEntries(Arrays.copyOf(picked, picked.length - 1)).encode()), // an entry left out
                good.withEntries(shards.tree.proveEntries(plusOne).encode()), // one more than challenged
                good.withEntries(other.tree.proveEntries(picked).encode()), // another tree's entries at the same indices
                good.withEntries(shards.tree.proveEntries(java.util.stream.LongStream.range(0, 64).toArray()).encode()), // every entry
                good.with(0, ProofAnswer.getDefaultInstance()), // no slice
                good.with(0, g0.toBuilder().setSlice(ByteString.copyFrom(SliceProver.prove(shards.content.get(e0.cid()), 0,
                        (int) Math.min(2, e0.chunks())).encode())).build()), // two chunks
                new StorageChain.Answers(new byte[60_000], List.of(g0)), // huge, for one answer
                new StorageChain.Answers(shards.tree.proveEntries(cs.get(0).entry()).encode(),
                        List.of(g0.toBuilder().setSlice(ByteString.copyFrom(new byte[60_000])).build())));
        // the contract answers' own faults, each with good node answers: another tree's entry at the index, another
        // index, none, no slice, another chunk's or entry's slice, a slice of two chunks, too big
        Storage.ContractPick p0 = picks.getFirst();
        long e0c = p0.challenge().entry();
        NodeEntry held0 = held.tree.entries().get((int) e0c);
        long wrongIndex = (e0c + 1) % held.tree.count();
        long chunk0 = p0.challenge().chunk(held0.size());
        ContractAnswer ca0 = goodContract.getFirst();
        byte[] anotherChunk = SliceProver.prove(held.content.get(held0.cid()), (chunk0 + 1) % held0.chunks(), 1).encode();
        NodeEntry heldW = held.tree.entries().get((int) wrongIndex);
        byte[] anotherEntry = SliceProver.prove(held.content.get(heldW.cid()), 0, 1).encode();
        NodeEntry big = held0.chunks() >= 2 ? held0 : held.tree.entries().stream().filter(e -> e.chunks() >= 2).findFirst().orElseThrow();
        byte[] twoChunks = SliceProver.prove(held.content.get(big.cid()), 0, 2).encode();
        List<ContractAnswer> contractNamed = List.of(
                ca0.toBuilder().setEntries(ByteString.copyFrom(heldOther.tree.proveEntries(e0c).encode())).build(),
                ca0.toBuilder().setEntries(ByteString.copyFrom(held.tree.proveEntries(wrongIndex).encode())).build(),
                ca0.toBuilder().setEntries(ByteString.EMPTY).build(),
                ca0.toBuilder().setSlice(ByteString.EMPTY).build(),
                ca0.toBuilder().setSlice(ByteString.copyFrom(held0.chunks() > 1 ? anotherChunk : anotherEntry)).build(),
                ca0.toBuilder().setSlice(ByteString.copyFrom(anotherEntry)).build(),
                ca0.toBuilder().setSlice(ByteString.copyFrom(twoChunks)).build(),
                ca0.toBuilder().setEntries(ByteString.copyFrom(new byte[Storage.MAX_CONTRACT_ENTRIES_BYTES + 1])).build(),
                ca0.toBuilder().setSlice(ByteString.copyFrom(new byte[Storage.MAX_SLICE_BYTES + 1])).build());
        // all in one block (the window has P/W - 1 = 4 answering blocks): each refused, none changes the state
        List<byte[]> txs = new ArrayList<>();
        for (StorageChain.Answers bad : named) {
            // a transaction of 32 answers completes the window: it carries the contract answers
            txs.add(c.tx(a, StorageChain.proof(1, 0, bad, bad.answers().size() == 32 ? goodContract : List.of())));
        }
        for (ContractAnswer bad : contractNamed) {
            List<ContractAnswer> l = new ArrayList<>(goodContract);
            l.set(0, bad);
            txs.add(c.tx(a, StorageChain.proof(1, 0, good, l)));
        }
        // an answer more than c, a wrong start, none at all, a transaction above 64 KiB, an answer of the old form (field 1)
        List<ProofAnswer> tooMany = new ArrayList<>(good.answers());
        tooMany.add(g0);
        txs.add(c.tx(a, StorageChain.proof(1, 0, good.entries(), tooMany)));
        txs.add(c.tx(a, StorageChain.proof(1, 1, shards.answers(seed, id, 1, 1, 32, shards.content))));
        txs.add(c.tx(a, StorageChain.proof(1, 0, good.entries(), List.of())));
        txs.add(c.tx(a, StorageChain.proof(1, 0, new byte[70_000], List.of(g0))));
        ProofAnswer oldForm = withInclusion(g0, shards.tree.prove(cs.get(0).entry()).encode());
        txs.add(c.tx(a, StorageChain.proof(1, 0, good.with(0, oldForm), goodContract)));
        // the window completed without its contract answers, with one too many, and a part that does not complete it carrying them
        txs.add(c.tx(a, StorageChain.proof(1, 0, good, List.of())));
        List<ContractAnswer> extra = new ArrayList<>(goodContract);
        extra.add(ca0);
        txs.add(c.tx(a, StorageChain.proof(1, 0, good, extra)));
        txs.add(c.tx(a, StorageChain.proof(1, 0, shards.answers(seed, id, 1, 0, 31, shards.content), goodContract)));
        List<Ledger.Result> rs = c.block(txs.toArray(byte[][]::new));
        int bad = named.size() + contractNamed.size();
        for (int i = 0; i < bad; i++) {
            assertEquals(Code.INVALID_PROOF, rs.get(i).code(), "case " + i + ": " + rs.get(i).log());
        }
        for (int i = named.size(); i < bad; i++) {
            assertTrue(rs.get(i).log().startsWith("contract answer 0 (" + p0.contract() + "): "), rs.get(i).log());
        }
        assertEquals(List.of(Code.MALFORMED, Code.MALFORMED, Code.MALFORMED, Code.TOO_LARGE, Code.MALFORMED, Code.MALFORMED, Code.MALFORMED,
                Code.MALFORMED), rs.subList(bad, rs.size()).stream().map(Ledger.Result::code).toList());
        assertTrue(rs.get(bad + 4).log().contains("unknown field(s) [1]"), rs.get(bad + 4).log());
        assertTrue(rs.get(bad + 5).log().contains("answers its 2 contract picks, one answer each, not 0"), rs.get(bad + 5).log());
        assertTrue(rs.get(bad + 6).log().contains("not 3"), rs.get(bad + 6).log());
        assertTrue(rs.get(bad + 7).log().contains("contract answers come with the transaction that completes"), rs.get(bad + 7).log());
        assertEquals(0, c.state.storageRoot(1, node).answered());

        // 10^5 fuzzed transactions (seed 2424): the entries proof, one slice, or a contract answer's entries proof or
        // slice mutated, verified by the transaction's whole rule on a copy of the state: never accepted unless unchanged
        Random r = new Random(2424);
        LedgerState s = c.state.copyAt(c.state.height() + 1, 0);
        byte[] before = s.appHash();
        long t = System.nanoTime();
        int refused = 0;
        int onEntries = 0;
        int onContract = 0;
        for (int i = 0; i < 100_000; i++) {
            StorageChain.Answers fuzzed = good;
            List<ContractAnswer> fuzzedContract = goodContract;
            int j = r.nextInt(32);
            int target = r.nextInt(6);
            if (target < 2) {
                fuzzed = good.withEntries(mutate(good.entries(), r));
                onEntries++;
            } else if (target < 5) {
                ProofAnswer g = good.answers().get(j);
                fuzzed = good.with(j, g.toBuilder().setSlice(ByteString.copyFrom(mutate(g.getSlice().toByteArray(), r))).build());
            } else {
                int q = r.nextInt(goodContract.size());
                ContractAnswer g = goodContract.get(q);
                List<ContractAnswer> l = new ArrayList<>(goodContract);
                l.set(q, r.nextBoolean() ? g.toBuilder().setEntries(ByteString.copyFrom(mutate(g.getEntries().toByteArray(), r))).build()
                        : g.toBuilder().setSlice(ByteString.copyFrom(mutate(g.getSlice().toByteArray(), r))).build());
                fuzzedContract = l;
                onContract++;
            }
            if (Arrays.equals(fuzzed.entries(), good.entries()) && fuzzed.answers().equals(good.answers()) && fuzzedContract.equals(goodContract)) {
                continue;
            }
            Ledger.Result res = Storage.submitProof(s, node, 1, 0, ByteString.copyFrom(fuzzed.entries()), fuzzed.answers(), fuzzedContract);
            assertEquals(Code.INVALID_PROOF, res.code(), "fuzzed case " + i + ": " + res.log());
            refused++;
        }
        long ms = (System.nanoTime() - t) / 1_000_000;
        assertTrue(refused > 99_000, refused + " refused");
        assertTrue(ms < 60_000, "10^5 fuzzed transactions took " + ms + " ms");
        assertEquals(0, s.storageRoot(1, node).answered());
        assertEquals(java.util.HexFormat.of().formatHex(before), java.util.HexFormat.of().formatHex(s.appHash()), "nothing changed");
        System.out.printf("storage proofs: %d fuzzed transactions (%d on the entries proof, %d on a contract answer) refused in %d ms%n",
                refused, onEntries, onContract, ms);
        assertTrue(onContract > 10_000, onContract + " on a contract answer");
        // and the good one is accepted
        assertEquals(Code.OK, Storage.submitProof(s, node, 1, 0, ByteString.copyFrom(good.entries()), good.answers(), goodContract).code());
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
     * A period's proof at c = 32 for a node of 100,000 entries of 8 MiB shards: the entries proof,
     * the slices and the signed SubmitProof transaction, which must fit in one transaction with
     * room to spare (at most 64,000 bytes: issue 24's "64 KB a node a day" at one period a day);
     * also the bytes at 1,000 and 10^6 entries, against the old format (one inclusion proof an
     * answer); and the same window with its k = 2 contract answers, each for an 8 MiB shard in a
     * receipt of 32 entries (a single-entry proof and a one-chunk slice), also within 64,000 bytes.
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
        StorageChain c = new StorageChain(22, a);
        List<Challenge> cs = Challenges.derive(seed, id, 1, tree.count(), 32);
        List<ProofAnswer> answers = new ArrayList<>();
        List<ProofAnswer> oldAnswers = new ArrayList<>(); // the format before: an inclusion proof an answer (field 1), no entries proof
        int slices = 0;
        int maxSlice = 0;
        int inclusions = 0;
        for (Challenge ch : cs) {
            byte[] slice = SliceProver.prove(shard, ch.chunk(shard.length), 1).encode(); // the shape of every 8 MiB entry's
            slices += slice.length;
            maxSlice = Math.max(maxSlice, slice.length);
            byte[] inclusion = tree.prove(ch.entry()).encode();
            inclusions += inclusion.length;
            answers.add(ProofAnswer.newBuilder().setSlice(ByteString.copyFrom(slice)).build());
            oldAnswers.add(withInclusion(answers.getLast(), inclusion));
        }
        byte[] entries = StorageChain.entriesOf(tree, cs);
        assertEquals(entries.length, entriesBytes(cs, 100_000, shard.length), "the counted size is the built one");
        EntriesProof.decode(entries, Storage.maxEntriesBytes(32), 32).verify(tree.root(), tree.count(),
                cs.stream().mapToLong(Challenge::entry).toArray());
        int whole = c.tx(a, StorageChain.proof(1, 0, entries, answers)).length;
        int oldWhole = c.tx(a, StorageChain.proof(1, 0, new byte[0], oldAnswers)).length;
        System.out.printf("storage proofs at c = 32, 8 MiB shards, 100,000 entries: entries proof %d B (32 inclusion proofs: %d B),"
                + " slices %d B (≤ %d each), signed SubmitProof %d B (limit %d; the old format %d B)%n",
                entries.length, inclusions, slices, maxSlice, whole, Ledger.MAX_TX_BYTES, oldWhole);
        for (long n : new long[] {1_000, 1_000_000}) {
            List<Challenge> cn = Challenges.derive(seed, id, 1, n, 32);
            int eb = entriesBytes(cn, n, shard.length);
            int inc = 0;
            for (Challenge ch : cn) {
                inc += 5 + 1 + 36 + 4 + 1 + 32 * NodeRoot.pathLength(ch.entry(), n) - (5 - io.oecloud.wire.Uvarint.size(ch.entry()));
            }
            System.out.printf("storage proofs at c = 32, %,d entries: entries proof %d B (32 inclusion proofs: %d B), signed SubmitProof about %d B%n",
                    n, eb, inc, whole - entries.length + eb + (io.oecloud.wire.Uvarint.size(eb) - io.oecloud.wire.Uvarint.size(entries.length)));
        }
        assertTrue(whole <= 64_000, "a period's proof in one signed transaction: " + whole + " bytes");
        assertTrue(maxSlice <= 1448, "slice " + maxSlice);

        // k = 2 contract answers: the receipt names 32 entries of 8 MiB shards, one of them the real shard (every 8 MiB
        // entry's slice has its shape)
        List<NodeEntry> receiptEntries = new ArrayList<>(32);
        receiptEntries.add(new NodeEntry(real, shard.length));
        for (int i = 1; i < 32; i++) {
            r.nextBytes(d);
            receiptEntries.add(new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, d.clone()), shard.length));
        }
        receiptEntries.sort(java.util.Comparator.comparing(NodeEntry::cid));
        NodeRoot receipt = NodeRoot.build(receiptEntries);
        List<ContractAnswer> contract = new ArrayList<>();
        int answerBytes = 0;
        for (int j = 0; j < 2; j++) {
            Challenge ch = Challenges.one(seed, id, 1, receipt.count(), j);
            byte[] ep = receipt.proveEntries(ch.entry()).encode();
            EntriesProof.decode(ep, Storage.MAX_CONTRACT_ENTRIES_BYTES, 1).verify(receipt.root(), receipt.count(), new long[] {ch.entry()});
            byte[] slice = SliceProver.prove(shard, ch.chunk(shard.length), 1).encode();
            contract.add(ContractAnswer.newBuilder().setEntries(ByteString.copyFrom(ep)).setSlice(ByteString.copyFrom(slice)).build());
            answerBytes = Math.max(answerBytes, contract.getLast().getSerializedSize());
            System.out.printf("contract answer %d: entries proof %d B (bound %d), slice %d B, ContractAnswer %d B%n", j, ep.length,
                    Storage.MAX_CONTRACT_ENTRIES_BYTES, slice.length, contract.getLast().getSerializedSize());
        }
        io.oecloud.chain.pb.ChainProto.TxBody.Builder b = StorageChain.proof(1, 0, entries, answers);
        b.getSubmitProofBuilder().addAllContractAnswers(contract);
        int withPicks = c.tx(a, b).length;
        System.out.printf("storage proofs at c = 32, 100,000 entries, k = 2 contract answers: signed SubmitProof %d B (%d B more;"
                + " at 10^6 entries about %d B)%n", withPicks, withPicks - whole,
                withPicks + entriesBytes(Challenges.derive(seed, id, 1, 1_000_000, 32), 1_000_000, shard.length) - entries.length);
        assertTrue(answerBytes <= 1_700, "a contract answer of an 8 MiB shard in 32 entries: " + answerBytes + " bytes");
        assertTrue(withPicks <= 64_000, "a period's proof with its contract answers in one signed transaction: " + withPicks + " bytes");
    }

    /** {@code a} with an inclusion proof in field 1, as answers were before the entries proof (now a reserved field). */
    private static ProofAnswer withInclusion(ProofAnswer a, byte[] inclusion) {
        return a.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder().addField(1,
                com.google.protobuf.UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFrom(inclusion)).build()).build()).build();
    }

    /** The encoded size of an entries proof of {@code cs}' entries in a tree of {@code n} entries of BLAKE3 raw CIDs of {@code size} bytes. */
    private static int entriesBytes(List<Challenge> cs, long n, long size) {
        long[] idx = EntriesProof.distinctSorted(cs.stream().mapToLong(Challenge::entry).toArray());
        List<NodeEntry> fake = new ArrayList<>();
        for (int i = 0; i < idx.length; i++) {
            fake.add(new NodeEntry(Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, new byte[32]), size));
        }
        return new EntriesProof(idx, fake, new byte[32 * EntriesProof.siblingCount(idx, n)]).encode().length;
    }
}
