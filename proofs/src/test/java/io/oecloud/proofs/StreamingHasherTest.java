package io.oecloud.proofs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StreamingHasherTest {
    @ParameterizedTest
    @EnumSource(HashFunction.class)
    void piecesOfHeapAndDirectBuffers_hashLikeTheWhole(HashFunction f) {
        byte[] data = new byte[3 * 1024 * 1024 + 123];
        new Random(1).nextBytes(data);
        StreamingHasher h = f.newHasher();
        Random rnd = new Random(2);
        for (int at = 0; at < data.length; ) {
            int n = Math.min(data.length - at, rnd.nextInt(200_000));
            if (rnd.nextBoolean()) {
                h.update(data, at, n);
            } else {
                ByteBuffer b = ByteBuffer.allocateDirect(n).put(data, at, n).flip();
                h.update(b);
                assertEquals(0, b.remaining(), "buffer consumed");
            }
            at += n;
        }
        assertEquals(data.length, h.length());
        Cid whole = Cid.compute(ContentCodec.RAW, f, data);
        assertEquals(whole, h.cid(ContentCodec.RAW));
        assertEquals(true, whole.verify(h));
        // digest() does not end the stream
        h.update(new byte[] {7}, 0, 1);
        byte[] more = java.util.Arrays.copyOf(data, data.length + 1);
        more[data.length] = 7;
        assertArrayEquals(f.digest(more), h.digest());
        h.reset();
        assertArrayEquals(f.digest(new byte[0]), h.digest());
        assertEquals(0, h.length());
    }

    @ParameterizedTest
    @EnumSource(HashFunction.class)
    void parse_labels(HashFunction f) {
        assertEquals(f, HashFunction.parse(f.label()));
        assertEquals(HashFunction.SHA2_256, HashFunction.parse("SHA256"));
        assertThrows(IllegalArgumentException.class, () -> HashFunction.parse("md5"));
    }
}
