package io.oecloud.erasure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every malformed call gets an IllegalArgumentException naming the parameter and its value. */
class BadInputTest {
    private final ReedSolomon rs = ReedSolomon.of(4, 2);

    private static void rejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' should mention '" + f + "'");
        }
    }

    @Test
    void of_kOrMOutOfRange_namesTheParameter() {
        rejects(() -> ReedSolomon.of(0, 2), "k (data shards)", "was 0");
        rejects(() -> ReedSolomon.of(4, -1), "m (parity shards)", "was -1");
        rejects(() -> ReedSolomon.of(200, 57), "k + m", "257");
        assertEquals(256, ReedSolomon.of(1, 255).totalShards());
        assertEquals(256, ReedSolomon.of(256, 0).totalShards());
    }

    @Test
    void encode_wrongShardCount_namesCount() {
        rejects(() -> rs.encode(new byte[5][8], 0, 8), "shards.length", "6", "was 5");
        rejects(() -> rs.encode(new ByteBuffer[7], 0, 8), "shards.length", "was 7");
        rejects(() -> rs.encode((byte[][]) null, 0, 8), "shards is null");
    }

    @Test
    void encode_nullShard_namesIndex() {
        byte[][] s = new byte[6][8];
        s[3] = null;
        rejects(() -> rs.encode(s, 0, 8), "shards[3] is null");
    }

    @Test
    void encode_unequalShards_namesBoth() {
        byte[][] s = new byte[6][8];
        s[5] = new byte[7];
        rejects(() -> rs.encode(s, 0, 7), "shards[5].length is 7", "shards[0].length is 8");
        ByteBuffer[] b = Shards.buffers(new byte[6][8], true);
        b[2] = ByteBuffer.allocateDirect(9);
        rejects(() -> rs.encode(b, 0, 8), "shards[2].limit() is 9");
    }

    @Test
    void encode_rangeOutsideShard_namesOffsetAndLength() {
        byte[][] s = new byte[6][8];
        rejects(() -> rs.encode(s, -1, 4), "offset", "-1");
        rejects(() -> rs.encode(s, 0, -4), "length", "-4");
        rejects(() -> rs.encode(s, 5, 4), "offset 5 + length 4", "shard length 8");
        rejects(() -> rs.encode(s, Integer.MAX_VALUE, 1), "offset " + Integer.MAX_VALUE);
    }

    @Test
    void encode_outputAliasesInput_rejected() {
        byte[][] s = new byte[6][8];
        s[4] = s[1];
        rejects(() -> rs.encode(s, 0, 8), "shards[4] is the same array as shards[1]");
    }

    @Test
    void encode_readOnlyParityBuffer_rejected() {
        ByteBuffer[] b = Shards.buffers(new byte[6][8], false);
        b[5] = b[5].asReadOnlyBuffer();
        rejects(() -> rs.encode(b, 0, 8), "shards[5] is read-only");
    }

    @Test
    void reconstruct_presentOfWrongLength_namesIt() {
        rejects(() -> rs.reconstruct(new byte[6][8], new boolean[5], 0, 8), "present.length", "was 5");
        rejects(() -> rs.reconstruct(new byte[6][8], null, 0, 8), "present is null");
    }

    @Test
    void backend_unknownName_listsTheChoices() {
        rejects(() -> ErasureBackend.parse("avx"), "oe.erasure.backend", "isal, vector, scalar", "'avx'");
        assertEquals(ErasureBackend.VECTOR, ErasureBackend.parse(" Vector "));
    }

    @Test
    void backend_forcedByProperty_isChosen() {
        assertEquals(ErasureBackend.SCALAR, Kernels.choose("scalar"));
        assertEquals(ErasureBackend.VECTOR, Kernels.choose("vector"));
        if (ErasureBackend.ISAL.isAvailable()) {
            assertEquals(ErasureBackend.ISAL, Kernels.choose(null));
        } else {
            assertEquals(ErasureBackend.VECTOR, Kernels.choose(""));
            assertThrows(IllegalStateException.class, () -> Kernels.choose("isal"));
        }
    }
}
