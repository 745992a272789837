package io.oecloud.node.proving;

import io.oecloud.chain.ledger.Storage.ContractPick;
import io.oecloud.chain.pb.ChainProto.ContractAnswer;
import io.oecloud.dht.PeerId;
import io.oecloud.node.store.ShardStore;
import io.oecloud.node.store.StoreException;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.storage.NodeEntry;
import io.oecloud.proofs.storage.NodeRoot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Answers to the contract challenges the chain fixed for a node's window (chain-bridge/README.md,
 * "Lost blocks stay in the root"): for each pick, the picked entry of this node's receipt for that
 * contract, proven under the receipt's entries root (which the contract keeps), and a slice of the
 * picked chunk from the store. A block whose loss was declared before the seed is answered without
 * a slice; any other block that cannot be proven means the window cannot be answered, as for the
 * node root's own challenges.
 */
final class ContractAnswers {
    private ContractAnswers() {}

    /**
     * The answers, in the picks' order.
     *
     * @param declared CIDs (text) of the period's fault list
     * @throws IOException when a pick cannot be answered (the words say which and why)
     * @throws ProvingException STORE when the store is closed
     */
    static List<ContractAnswer> build(ShardStore store, List<ContractPick> picks, long period, Set<String> declared)
            throws IOException, ProvingException {
        List<ContractAnswer> out = new ArrayList<>(picks.size());
        for (int i = 0; i < picks.size(); i++) {
            ContractPick pick = picks.get(i);
            String which = "period " + period + ": contract challenge " + i + " (" + pick.object() + " paid by " + pick.payer() + ")";
            byte[] payer = PeerId.parse(pick.payer()).ed25519PublicKey();
            if (payer == null) {
                throw new IOException(which + ": the payer's ID carries no Ed25519 key");
            }
            List<ShardStore.SignedReceipt> recorded;
            try {
                recorded = store.receiptVersions(Cid.parse(pick.object()), payer);
            } catch (StoreException e) {
                throw storeFailed(which, e);
            }
            NodeRoot tree = null;
            for (ShardStore.SignedReceipt r : recorded) { // the one the contract keeps may be an earlier one
                NodeRoot t = r.tree();
                if (t.count() == pick.count() && Arrays.equals(t.root(), pick.root())) {
                    tree = t;
                    break;
                }
            }
            if (tree == null) {
                throw new IOException(which + ": none of the " + recorded.size() + " receipts recorded here is the one the contract"
                        + " keeps (" + pick.count() + " blocks)");
            }
            long index = pick.challenge().entry();
            NodeEntry entry = tree.entries().get(Math.toIntExact(index));
            ContractAnswer.Builder a = ContractAnswer.newBuilder()
                    .setEntries(com.google.protobuf.ByteString.copyFrom(tree.proveEntries(index).encode()));
            if (!declared.contains(entry.cid().toString())) {
                try {
                    a.setSlice(com.google.protobuf.ByteString.copyFrom(store.prove(entry.cid(), pick.challenge().chunk(entry.size()), 1).encode()));
                } catch (StoreException e) {
                    if (e.code() == StoreException.Code.CLOSED) {
                        throw storeFailed(which, e);
                    }
                    throw new IOException(which + " names block " + entry.cid() + ", which cannot be proven (" + e.code() + ": "
                            + e.getMessage() + ") and was not declared before the seed: the window will be missed");
                }
            }
            out.add(a.build());
        }
        return out;
    }

    private static ProvingException storeFailed(String which, StoreException e) {
        return new ProvingException(ProvingException.Code.STORE, which + ": " + e.getMessage(), e);
    }
}
