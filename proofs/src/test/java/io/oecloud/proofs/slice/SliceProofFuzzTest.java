package io.oecloud.proofs.slice;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.oecloud.proofs.Blake3;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 10^5 hostile encodings (mutated real proofs, random headers, random bytes) through
 * {@link SliceProof#decode} and {@link SliceProof#verify}: only {@link SliceProofException}s, no
 * allocation beyond the limit, and nothing but the original proof verifies.
 */
class SliceProofFuzzTest {
    private static final int MAX_BYTES = 64 * 1024;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void decodeAndVerify_hostileInputs_throwOnlyTyped() {
        Random rnd = new Random(0x5_1ce);
        List<byte[]> contents = new ArrayList<>();
        List<SliceProof> proofs = new ArrayList<>();
        for (int n : new int[] {0, 1000, 1024, 5000, 16 * 1024 + 1, 100_000, 300_001}) {
            byte[] c = SliceProofTest.content(n);
            long chunks = TreeShape.chunks(n);
            for (int k = 0; k < 3; k++) {
                long first = rnd.nextLong(chunks);
                int count = (int) Math.min(1 + rnd.nextInt(4), chunks - first);
                contents.add(c);
                proofs.add(SliceProver.prove(c, first, count));
            }
        }
        int decoded = 0;
        int verified = 0;
        for (int i = 0; i < 100_000; i++) {
            int which = rnd.nextInt(proofs.size());
            SliceProof original = proofs.get(which);
            byte[] input = mutate(original.encode(), rnd, i % 10);
            SliceProof p;
            try {
                p = SliceProof.decode(input, MAX_BYTES);
            } catch (SliceProofException e) {
                continue;
            } catch (RuntimeException e) {
                fail("input " + i + " threw " + e, e);
                return;
            }
            decoded++;
            try {
                p.verify(Blake3.hash(contents.get(which)), contents.get(which).length);
                verified++;
                assertArrayEquals(original.encode(), p.encode(), "input " + i + " verified but is not the original");
            } catch (SliceProofException e) {
                assertTrue(e.kind() != null);
            } catch (RuntimeException e) {
                fail("input " + i + " threw " + e + " from verify", e);
            }
        }
        assertTrue(decoded > 1000, "too few inputs reached verify: " + decoded);
        assertTrue(verified > 0, "no unchanged input verified");
    }

    /** One of ten mutation strategies over a real encoding. */
    private static byte[] mutate(byte[] b, Random rnd, int strategy) {
        byte[] m = b.clone();
        switch (strategy) {
            case 0, 1, 2 -> { // a few flipped bits anywhere
                for (int k = 1 + rnd.nextInt(3); k > 0 && m.length > 0; k--) {
                    m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 3 -> { // a header byte replaced
                m[rnd.nextInt(Math.min(m.length, 10))] = (byte) rnd.nextInt(256);
            }
            case 4 -> { // truncated
                m = java.util.Arrays.copyOf(m, rnd.nextInt(m.length + 1));
            }
            case 5 -> { // extended
                m = java.util.Arrays.copyOf(m, m.length + 1 + rnd.nextInt(64));
            }
            case 6 -> { // a random header in front of the body
                byte[] h = new byte[40];
                int o = io.oecloud.wire.Uvarint.write(h, 0, rnd.nextInt(8) == 0 ? rnd.nextInt(4) : 1);
                o = io.oecloud.wire.Uvarint.write(h, o, rnd.nextBoolean() ? rnd.nextLong(1L << 50) : rnd.nextInt(400_000));
                o = io.oecloud.wire.Uvarint.write(h, o, rnd.nextBoolean() ? rnd.nextLong() >>> 1 : rnd.nextInt(400));
                o = io.oecloud.wire.Uvarint.write(h, o, rnd.nextBoolean() ? rnd.nextInt() & 0x7fffffff : rnd.nextInt(6));
                byte[] body = java.util.Arrays.copyOfRange(m, Math.min(m.length, 4), m.length);
                m = new byte[o + body.length];
                System.arraycopy(h, 0, m, 0, o);
                System.arraycopy(body, 0, m, o, body.length);
            }
            case 7 -> { // random bytes
                m = new byte[rnd.nextInt(2048)];
                rnd.nextBytes(m);
            }
            case 8 -> { // two 32-byte blocks swapped
                if (m.length >= 72) {
                    int a = 8 + rnd.nextInt(m.length - 40);
                    int c = 8 + rnd.nextInt(m.length - 40);
                    byte[] t = java.util.Arrays.copyOfRange(m, a, a + 32);
                    System.arraycopy(m, c, m, a, 32);
                    System.arraycopy(t, 0, m, c, 32);
                }
            }
            default -> { } // unchanged: must verify
        }
        return m;
    }
}
