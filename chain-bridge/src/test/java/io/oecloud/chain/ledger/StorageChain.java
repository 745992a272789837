package io.oecloud.chain.ledger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto;
import io.oecloud.chain.pb.ChainProto.ContractAnswer;
import io.oecloud.chain.pb.ChainProto.ProofAnswer;
import io.oecloud.chain.pb.ChainProto.TxBody;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.slice.SliceProver;
import io.oecloud.proofs.storage.Challenge;
import io.oecloud.proofs.storage.Challenges;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import io.oecloud.proofs.storage.Windows;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A ledger-level chain for the proof-of-storage tests: a genesis with storage parameters
 * (P = 20 blocks, W = 4, c = 32), blocks driven through {@link Block} on an in-memory state
 * (no CometBFT), a beacon seed per block set as the beacon would (a hash of the height and a
 * salt), and storage nodes holding real shards.
 */
public final class StorageChain {
    public static final String CHAIN = "oe-storage-test";
    static final ObjectMapper JSON = new ObjectMapper();
    static final BigInteger MIN_COLLATERAL = BigInteger.valueOf(1_000_000);
    static final BigInteger FUNDS = BigInteger.TEN.pow(15);

    public final Ledger ledger;
    public LedgerState state;
    private final Map<String, Long> nonces = new HashMap<>();
    /** Changes the beacon's seeds (a chain with other randomness). */
    final long salt;

    public StorageChain(long salt, Identity... funded) throws Exception {
        this.salt = salt;
        ObjectNode app = JSON.createObjectNode().put("minFee", "1").put("feePerByte", "0");
        app.putObject("storage").put("periodBlocks", 20).put("windows", 4).put("challenges", 32)
                .put("minCollateral", MIN_COLLATERAL.toString()).put("penaltyPpm", 100_000).put("faultFee", "10")
                .put("commitDeadline", 1).put("retainPeriods", 4);
        ArrayNode accounts = app.putArray("accounts");
        for (Identity id : funded) {
            accounts.addObject().put("address", addr(id)).put("balance", FUNDS.toString());
        }
        Genesis g = Genesis.read(CHAIN, JSON.writeValueAsBytes(app), 1);
        ledger = new Ledger(CHAIN, g.fees());
        state = g.state();
    }

    public static String addr(Identity id) {
        return Ledger.address(id.publicKey());
    }

    public Windows windows() {
        return state.storageParams().windowing();
    }

    /** The seed the beacon would give after block {@code h}. */
    public byte[] beaconSeed(long h) {
        return Ledger.sha256().digest(ByteBuffer.allocate(16).putLong(salt).putLong(h).array());
    }

    /** Applies the next block with {@code txs} (signed bytes); returns their results. */
    public List<Ledger.Result> block(byte[]... txs) {
        Block b = Block.begin(state, state.height() + 1, 1_000L * (state.height() + 1), List.of(), List.of());
        b.state().beaconPrevious = b.state().beaconSeed;
        b.state().beaconSeed = beaconSeed(state.height() + 1);
        List<Ledger.Result> rs = new ArrayList<>();
        for (byte[] tx : txs) {
            rs.add(b.apply(ledger, ledger.check(tx)));
        }
        b.end(); // throws when the supply invariant breaks
        state = b.state();
        if (!state.escrowPool().equals(ContractChain.unspentEscrow(state))) { // paid storage's books, at every block of every ledger test
            throw new AssertionError("escrow pool " + state.escrowPool() + " != the contracts' unspent escrow "
                    + ContractChain.unspentEscrow(state) + " at block " + state.height());
        }
        return rs;
    }

    /** Empty blocks until the next block is {@code h}. */
    public void runTo(long h) {
        while (state.height() + 1 < h) {
            block();
        }
    }

    /** Signs {@code body} for {@code key} with its next nonce (a nonce is taken only when the result is OK: call {@link #accepted}). */
    public byte[] tx(Identity key, TxBody.Builder body) {
        long n = state.account(addr(key)).nonce();
        body.setChainId(CHAIN).setSender(ByteString.copyFrom(key.publicKey())).setNonce(n);
        return ledger.fees().sign(key, body);
    }

    /** The next block with one transaction; its result. */
    public Ledger.Result submit(Identity key, TxBody.Builder body) {
        return block(tx(key, body)).get(0);
    }

    public static TxBody.Builder register(long capacity, BigInteger collateral) {
        return TxBody.newBuilder().setRegisterStorageNode(ChainProto.RegisterStorageNode.newBuilder().setCapacity(capacity)
                .setCollateral(ByteString.copyFrom(Amounts.encode(collateral))));
    }

    public static TxBody.Builder commit(long period, byte[] root, long count) {
        return TxBody.newBuilder().setCommitRoot(ChainProto.CommitRoot.newBuilder().setPeriod(period)
                .setRoot(ByteString.copyFrom(root)).setCount(count));
    }

    /**
     * What one SubmitProof carries: the entries proof of its challenges' entries and one answer (a
     * slice, or nothing for a declared fault) a challenge.
     */
    public record Answers(byte[] entries, List<ProofAnswer> answers) {
        public Answers {
            answers = List.copyOf(answers);
        }

        /** The same with answer {@code i} replaced. */
        public Answers with(int i, ProofAnswer a) {
            List<ProofAnswer> l = new ArrayList<>(answers);
            l.set(i, a);
            return new Answers(entries, l);
        }

        /** The same with another entries proof. */
        public Answers withEntries(byte[] e) {
            return new Answers(e, answers);
        }
    }

    public static TxBody.Builder proof(long period, int first, Answers a) {
        return proof(period, first, a.entries(), a.answers());
    }

    public static TxBody.Builder proof(long period, int first, byte[] entries, List<ProofAnswer> answers) {
        return TxBody.newBuilder().setSubmitProof(ChainProto.SubmitProof.newBuilder().setPeriod(period).setFirst(first)
                .setEntries(ByteString.copyFrom(entries)).addAllAnswers(answers));
    }

    /** A SubmitProof with the contract answers the window's completing transaction carries. */
    public static TxBody.Builder proof(long period, int first, Answers a, List<ContractAnswer> contract) {
        TxBody.Builder b = proof(period, first, a);
        b.getSubmitProofBuilder().addAllContractAnswers(contract);
        return b;
    }

    /**
     * The answer to {@code pick} from the holder's blocks under the pick's root ({@code held}, its
     * tree and bytes): the entries proof of the picked entry, and its picked chunk's slice, or no
     * slice when {@code data} lacks the entry's bytes (declared faulty, or lost).
     */
    public static ContractAnswer contractAnswer(Storage.ContractPick pick, Shards held, Map<Cid, byte[]> data) {
        NodeEntry e = held.tree.entries().get((int) pick.challenge().entry());
        byte[] b = data.get(e.cid());
        return ContractAnswer.newBuilder().setEntries(ByteString.copyFrom(held.tree.proveEntries(pick.challenge().entry()).encode()))
                .setSlice(b == null ? ByteString.EMPTY : ByteString.copyFrom(SliceProver.prove(b, pick.challenge().chunk(e.size()), 1).encode()))
                .build();
    }

    /** The entries proof of the entries {@code challenges} pick in {@code tree}. */
    public static byte[] entriesOf(NodeRoot tree, List<Challenge> challenges) {
        return tree.proveEntries(challenges.stream().mapToLong(Challenge::entry).toArray()).encode();
    }

    public static TxBody.Builder declare(long period, List<Cid> cids) {
        ChainProto.DeclareFaults.Builder d = ChainProto.DeclareFaults.newBuilder().setPeriod(period);
        for (Cid c : cids) {
            d.addCids(ByteString.copyFrom(c.toBytes()));
        }
        return TxBody.newBuilder().setDeclareFaults(d);
    }

    /** A storage node's shards: real bytes, their BLAKE3 raw CIDs, and the node root over them. */
    public static final class Shards {
        public final Map<Cid, byte[]> content = new HashMap<>();
        public final NodeRoot tree;

        public Shards(long seed, int n) {
            Random r = new Random(seed);
            int[] sizes = {0, 1, 1023, 1024, 1025, 4096, 5000, 20_000};
            List<NodeEntry> es = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[i < sizes.length ? sizes[i] : r.nextInt(30_000)];
                r.nextBytes(b);
                Cid c = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, b);
                content.put(c, b);
                es.add(new NodeEntry(c, b.length));
            }
            es.sort(Comparator.comparing(NodeEntry::cid));
            tree = NodeRoot.build(es);
        }

        /** The shards {@code content} holds (the tree over their entries). */
        public Shards(Map<Cid, byte[]> content) {
            List<NodeEntry> es = new ArrayList<>();
            content.forEach((c, b) -> {
                this.content.put(c, b);
                es.add(new NodeEntry(c, b.length));
            });
            es.sort(Comparator.comparing(NodeEntry::cid));
            tree = NodeRoot.build(es);
        }

        /** Answers to challenges {@code from .. to-1} for {@code nodeId} in {@code period} under {@code seed}, from {@code data}. */
        public Answers answers(byte[] seed, byte[] nodeId, long period, int from, int to, Map<Cid, byte[]> data) {
            List<Challenge> cs = new ArrayList<>();
            for (int j = from; j < to; j++) {
                cs.add(Challenges.one(seed, nodeId, period, tree.count(), j));
            }
            return answers(cs, data);
        }

        /** The entries proof of {@code cs}' entries and each challenge's slice from {@code data}. */
        public Answers answers(List<Challenge> cs, Map<Cid, byte[]> data) {
            List<ProofAnswer> out = new ArrayList<>();
            for (Challenge ch : cs) {
                out.add(answer(ch, data));
            }
            return new Answers(entriesOf(tree, cs), out);
        }

        /** The slice of challenge {@code ch}, from {@code data}. */
        ProofAnswer answer(Challenge ch, Map<Cid, byte[]> data) {
            NodeEntry e = tree.entries().get((int) ch.entry());
            byte[] slice = SliceProver.prove(data.get(e.cid()), ch.chunk(e.size()), 1).encode();
            return ProofAnswer.newBuilder().setSlice(ByteString.copyFrom(slice)).build();
        }
    }
}
