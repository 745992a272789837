package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.oecloud.chain.pb.ChainProto.StateProof;
import java.nio.charset.StandardCharsets;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Proofs of the state tree: every key of trees of every shape, absence, and tampering. */
class StateTreeTest {
    private static TreeMap<String, byte[]> entries(int n) {
        TreeMap<String, byte[]> m = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            m.put(String.format("k/%04d", i * 2), ("value " + i).getBytes(StandardCharsets.UTF_8));
        }
        return m;
    }

    @Test
    void everyKey_ofTreesOfEverySize_provesItsValue_andEveryGap_provesAbsence() throws Exception {
        for (int n = 0; n <= 33; n++) {
            TreeMap<String, byte[]> m = entries(n);
            StateTree t = new StateTree(m);
            byte[] root = t.root();
            for (var e : m.entrySet()) {
                assertArrayEquals(e.getValue(), StateTree.verify(t.prove(e.getKey(), 7), e.getKey(), root), "n=" + n + " " + e.getKey());
            }
            // keys are k/0000, k/0002, ...: every odd number falls in a gap, "a" before them all, "zzz" after
            java.util.List<String> missing = new java.util.ArrayList<>(java.util.List.of("a", "zzz"));
            for (int i = 1; i <= 2 * n; i += 2) {
                missing.add(String.format("k/%04d", i));
            }
            for (String key : missing) {
                assertNull(StateTree.verify(t.prove(key, 7), key, root), "n=" + n + " absent " + key);
            }
        }
    }

    @Test
    void aTamperedValue_aTamperedSibling_orAnotherKeysProof_doNotVerify() {
        TreeMap<String, byte[]> m = entries(13);
        StateTree t = new StateTree(m);
        byte[] root = t.root();
        StateProof good = t.prove("k/0010", 1);
        StateProof value = good.toBuilder().setEntries(0, good.getEntries(0).toBuilder().setValue(ByteString.copyFromUtf8("value 99"))).build();
        assertThrows(StateTree.ProofException.class, () -> StateTree.verify(value, "k/0010", root));
        byte[] sib = good.getEntries(0).getSiblings(1).toByteArray();
        sib[0] ^= 1;
        StateProof sibling = good.toBuilder().setEntries(0, good.getEntries(0).toBuilder().setSiblings(1, ByteString.copyFrom(sib))).build();
        assertThrows(StateTree.ProofException.class, () -> StateTree.verify(sibling, "k/0010", root));
        assertThrows(StateTree.ProofException.class, () -> StateTree.verify(good, "k/0012", root), "a proof of another key");
        // absence claimed with neighbours that are not adjacent
        StateProof gap = StateProof.newBuilder().setTotal(13).addEntries(t.prove("k/0008", 1).getEntries(0))
                .addEntries(t.prove("k/0012", 1).getEntries(0)).build();
        assertThrows(StateTree.ProofException.class, () -> StateTree.verify(gap, "k/0010", root), "k/0010 hidden between non-neighbours");
        StateProof wrongTotal = good.toBuilder().setTotal(14).build();
        assertThrows(StateTree.ProofException.class, () -> StateTree.verify(wrongTotal, "k/0010", root));
    }

    @Test
    void aTreeUpdatedFromTheChanges_isTheTreeBuiltWhole_forValueChangesInsertsAndDeletes() throws Exception {
        java.util.Random rnd = new java.util.Random(3);
        TreeMap<String, byte[]> m = new TreeMap<>();
        StateTree t = new StateTree(m);
        for (int block = 0; block < 400; block++) {
            java.util.Set<String> changed = new java.util.HashSet<>();
            int kind = rnd.nextInt(3); // values only; also inserts; also deletes
            for (int c = rnd.nextInt(6); c > 0; c--) {
                String k = String.format("k/%03d", rnd.nextInt(60));
                if (kind == 0 && !m.containsKey(k)) {
                    continue; // a value-only block touches existing keys
                }
                if (kind == 2 && rnd.nextBoolean()) {
                    m.remove(k);
                } else {
                    m.put(k, ("v" + rnd.nextInt()).getBytes(StandardCharsets.UTF_8));
                }
                changed.add(k);
            }
            if (rnd.nextInt(10) == 0) {
                changed.add("k/999"); // named as changed but absent before and after
            }
            t = StateTree.next(t, m, changed);
            StateTree whole = new StateTree(m);
            assertArrayEquals(whole.root(), t.root(), "block " + block + ", " + m.size() + " entries");
            for (var e : m.entrySet()) {
                assertArrayEquals(e.getValue(), StateTree.verify(t.prove(e.getKey(), block), e.getKey(), t.root()), "block " + block + " " + e.getKey());
            }
            assertNull(StateTree.verify(t.prove("k/9999", block), "k/9999", t.root()));
        }
    }
}
