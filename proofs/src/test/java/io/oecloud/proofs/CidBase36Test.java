package io.oecloud.proofs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The base36 form subdomains carry: a DNS label holds 63 characters, a BLAKE3 manifest CID in base32 64. */
class CidBase36Test {
    @Test
    void everyCid_roundTripsThroughBase36_andAManifestCidFitsADnsLabel() {
        Random r = new Random(36);
        for (int i = 0; i < 2000; i++) {
            byte[] data = new byte[r.nextInt(100)];
            r.nextBytes(data);
            ContentCodec codec = i % 2 == 0 ? ContentCodec.MANIFEST : ContentCodec.RAW;
            HashFunction f = i % 3 == 0 ? HashFunction.SHA2_256 : HashFunction.BLAKE3;
            Cid c = Cid.compute(codec, f, data);
            String k = c.toBase36();
            assertTrue(k.startsWith("k") && k.substring(1).chars().allMatch(ch -> Character.isDigit(ch) || ch >= 'a' && ch <= 'z'), k);
            assertEquals(new BigInteger(1, c.toBytes()), new BigInteger(k.substring(1), 36), "base36 is the bytes as one big-endian number");
            assertEquals(c, Cid.parse(k));
            assertTrue(k.length() <= 63, k + " is " + k.length() + " characters");
        }
        Cid manifest = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, new byte[] {1});
        assertEquals(64, manifest.toString().length(), "why subdomains need base36: the base32 form is one over a DNS label");
    }

    @Test
    void badBase36_isRefusedNamingTheCharacter() {
        CidFormatException e = assertThrows(CidFormatException.class, () -> Cid.parse("k2jmtx!w8"));
        assertEquals(CidFormatException.Part.BASE36, e.part());
        assertTrue(e.getMessage().contains("'!'"), e.getMessage());
        assertEquals(CidFormatException.Part.MULTIBASE, assertThrows(CidFormatException.class, () -> Cid.parse("K2JMTX")).part());
    }
}
