package io.oecloud.chain.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class TxSignaturesTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] MSG = "oechain/tx/v1 edge case".getBytes(StandardCharsets.US_ASCII);

    record Vector(String name, String pk, String sig, boolean valid) {}

    /**
     * Signatures at Ed25519's edges over {@link #MSG}, built with the curve arithmetic written out
     * (a scalar-multiply-and-add script, not any of the libraries under test): which ones hold is
     * this project's rule, and every backend must give that answer.
     */
    private static final List<Vector> EDGES = List.of(
            // A = aB + T (T of order 8) and H(R || A || M) a multiple of 8: [S]B = R + [k]A holds
            new Vector("mixed-order key, equation holds", "f836457e96220703badcedc10555654debf0677a34f0fa401e14a47e573e6d56",
                    "66d8d5aa64d6b04740407acc5c062df3f4e5b8f7f58a57e3a4cd416e9cf17517ca77257f688871ab9c747490bd55f9c0581a0c668031cded41b8846a4c7fb20d", true),
            // R = rB + T: only the cofactored equation (times 8) holds; libsodium refuses it
            new Vector("mixed-order nonce, cofactored equation holds", "224de4e4949e9a73e9cc7545b0561b7160797dc21218e861eb2db2f02088afce",
                    "8561714ff45b24504c1e7603b3e7628631385c77583f8027107c1cda9dc900bb1cf62bde56bc4da32bd423bde3b45fd8b64af274331ad1addbdbbe5b185f970d", true),
            // A of order 8 (no secret key behind it) with an S that satisfies the equation
            new Vector("small-order key, equation holds", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
                    "693217442bafb87d8c7eb786180a698f47fd8cd1cba30b5b58a3f4322953d87a092cdef477cb225849837d721f2afece079fe0efe5e91eb9ec0ff0fcd9432f0b", false),
            new Vector("valid", "a843116fde412b659d3c98691df44b10abf34f5738007401cb4c1f5c407b25b7",
                    "6aa60515984ee79df7aaa6bfa938d3b6106134671fbef8eb702a484c23b318b36dea9af036949b4f75b5160b23c685a263b30deb47f8e118570e8d7247006e0b", true),
            // the same with S + L: the same point, a malleated signature
            new Vector("S + L", "a843116fde412b659d3c98691df44b10abf34f5738007401cb4c1f5c407b25b7",
                    "6aa60515984ee79df7aaa6bfa938d3b6106134671fbef8eb702a484c23b318b35abe904d51f7ada74b520eae01c064b763b30deb47f8e118570e8d7247006e1b", false),
            // y = p + 3 (the point y = 3, encoded above p)
            new Vector("non-canonical key", "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                    "6aa60515984ee79df7aaa6bfa938d3b6106134671fbef8eb702a484c23b318b36dea9af036949b4f75b5160b23c685a263b30deb47f8e118570e8d7247006e0b", false),
            // R the neutral element and S = k a: the equation holds
            new Vector("neutral nonce, equation holds", "0c893970ccac7054e3f74a4a2f13d7c9193ba740b6d5154da3c6c4d5e5114eac",
                    "0100000000000000000000000000000000000000000000000000000000000000796017727fcd24dc6b585d59a8201e8595c9595c263e3895ec7871e04b06b604", false));

    @Test
    void edgeCases_getTheRulesAnswer_fromEveryBackend() {
        for (Vector v : EDGES) {
            byte[] pk = HEX.parseHex(v.pk());
            byte[] sig = HEX.parseHex(v.sig());
            assertEquals(v.valid(), TxSignatures.verify(sig, pk, MSG), v.name());
            if (TxSignatures.admissible(sig, pk)) { // past the edge rules, Bouncy Castle's answer is the rule's
                assertEquals(v.valid(), TxSignatures.bouncyCastle(sig, pk, MSG), v.name() + " (Bouncy Castle)");
                if (TxSignatures.sodiumAvailable() && TxSignatures.sodium(sig, pk, MSG)) {
                    assertTrue(v.valid(), v.name() + ": libsodium accepts only what the rule accepts");
                }
            }
        }
        if (TxSignatures.sodiumAvailable()) { // the case the two equations part on, and why libsodium's "no" is not final
            Vector mixed = EDGES.get(1);
            assertFalse(TxSignatures.sodium(HEX.parseHex(mixed.sig()), HEX.parseHex(mixed.pk()), MSG), "cofactorless fails");
            assertTrue(TxSignatures.verify(HEX.parseHex(mixed.sig()), HEX.parseHex(mixed.pk()), MSG), "cofactored holds");
        }
    }

    @Test
    void randomSignaturesAndTheirCorruptions_getOneAnswerFromBothBackends() {
        Random rnd = new Random(42);
        int valid = 0;
        for (int i = 0; i < 300; i++) {
            byte[] sk = new byte[32];
            rnd.nextBytes(sk);
            byte[] pk = new byte[32];
            Ed25519.generatePublicKey(sk, 0, pk, 0);
            byte[] msg = new byte[1 + rnd.nextInt(300)];
            rnd.nextBytes(msg);
            byte[] sig = new byte[64];
            Ed25519.sign(sk, 0, msg, 0, msg.length, sig, 0);
            int where = rnd.nextInt(4); // 0: as signed; 1: message, 2: signature, 3: key with one bit flipped
            byte[] target = where == 1 ? msg : where == 2 ? sig : where == 3 ? pk : null;
            if (target != null) {
                int bit = rnd.nextInt(target.length * 8);
                target[bit / 8] ^= (byte) (1 << (bit % 8));
            }
            boolean answer = TxSignatures.verify(sig, pk, msg);
            assertEquals(where == 0, answer, "case " + i + " (" + where + ")");
            valid += answer ? 1 : 0;
            if (TxSignatures.admissible(sig, pk)) { // no small-order parts here: the two equations agree
                assertEquals(TxSignatures.bouncyCastle(sig, pk, msg), answer, "case " + i);
                if (TxSignatures.sodiumAvailable()) {
                    assertEquals(TxSignatures.sodium(sig, pk, msg), answer, "case " + i);
                }
            }
        }
        assertTrue(valid > 50, "a quarter of the cases are untouched signatures");
    }

    @Test
    void smallOrderList_holdsExactlyTheYCoordinatesOfTheEightSmallOrderPoints() {
        BigInteger p = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
        BigInteger d = BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(p)).mod(p);
        // [2]P has y = 0 (order 4) when x^2 = -y^2; on -x^2 + y^2 = 1 + d x^2 y^2 that is d y^4 + 2 y^2 - 1 = 0
        Set<BigInteger> ys = new HashSet<>(List.of(BigInteger.ZERO, BigInteger.ONE, p.subtract(BigInteger.ONE)));
        BigInteger root = sqrt(BigInteger.ONE.add(d).mod(p), p);
        for (BigInteger s : List.of(root, p.subtract(root))) {
            BigInteger y2 = s.subtract(BigInteger.ONE).multiply(d.modInverse(p)).mod(p);
            BigInteger y = sqrt(y2, p);
            if (y != null) {
                ys.add(y);
                ys.add(p.subtract(y));
            }
        }
        assertEquals(5, ys.size(), "0, 1, p - 1 and two y of order 8 (each with two x)");
        Set<BigInteger> listed = new HashSet<>();
        for (byte[] y : TxSignatures.SMALL_ORDER_Y) {
            byte[] be = new byte[32];
            for (int i = 0; i < 32; i++) {
                be[i] = y[31 - i];
            }
            listed.add(new BigInteger(1, be));
        }
        assertEquals(ys, listed);
    }

    @Test
    void libsodium_checksSignatures_whereverItIsInstalled() {
        boolean installed = Files.exists(Path.of("/lib/x86_64-linux-gnu/libsodium.so.23"))
                || Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libsodium.so.23"));
        Assumptions.assumeTrue(installed, "libsodium23 is not installed here (.ci/run installs it)");
        assertTrue(TxSignatures.sodiumAvailable(), "libsodium is installed but was not loaded");
        assertTrue(TxSignatures.backend().startsWith("libsodium"));
    }

    @Test
    void wrongLengths_areRefusedWithoutError() {
        assertFalse(TxSignatures.verify(new byte[63], new byte[32], MSG));
        assertFalse(TxSignatures.verify(new byte[64], new byte[31], MSG));
    }

    /** A square root mod p (p = 5 mod 8), or null. */
    private static BigInteger sqrt(BigInteger a, BigInteger p) {
        BigInteger x = a.modPow(p.add(BigInteger.valueOf(3)).shiftRight(3), p);
        if (x.multiply(x).subtract(a).mod(p).signum() == 0) {
            return x;
        }
        x = x.multiply(BigInteger.TWO.modPow(p.subtract(BigInteger.ONE).shiftRight(2), p)).mod(p);
        return x.multiply(x).subtract(a).mod(p).signum() == 0 ? x : null;
    }
}
