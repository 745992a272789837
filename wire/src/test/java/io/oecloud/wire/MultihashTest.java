package io.oecloud.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class MultihashTest {
    @Test
    void encode_sha256OfNothing_isWhatIpfsNamesTheEmptyBlockWith() throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(new byte[0]);
        byte[] mh = Multihash.encode(Multihash.SHA2_256, digest);
        assertEquals("1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", HexFormat.of().formatHex(mh));
        assertEquals(mh.length, Multihash.size(Multihash.SHA2_256, digest.length));
    }

    @Test
    void encode_identityOfAKeyProto_inlinesIt() {
        byte[] key = {8, 1, 18, 2, 7, 7};
        assertArrayEquals(new byte[] {0, 6, 8, 1, 18, 2, 7, 7}, Multihash.encode(Multihash.IDENTITY, key));
    }

    @Test
    void write_atAnOffset_returnsTheEnd_withVarintCodeAndLength() {
        byte[] digest = new byte[200];
        digest[199] = 9;
        byte[] out = new byte[3 + Multihash.size(0x1234, 200)];
        int end = Multihash.write(out, 3, 0x1234, digest);
        assertEquals(out.length, end);
        assertEquals("b424c801", HexFormat.of().formatHex(out, 3, 7)); // uvarint 0x1234, uvarint 200
        assertEquals(9, out[end - 1]);
    }
}
