package io.oecloud.proofs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CidTest {
    /** CIDv1 raw leaves as IPFS prints them (ipfs add --cid-version 1 --raw-leaves [--hash blake3]). */
    @ParameterizedTest
    @CsvSource({
        "'', sha2-256, bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "hello world, sha2-256, bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
        "abc, sha2-256, bafkreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu",
        "'', blake3, bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi",
        "hello world, blake3, bafkr4igxjga67jykbseaxdmmdgc5a5o3zp3htom2l6mrjznk7fvyggu6eq",
    })
    void rawCid_ofBytes_matchesIpfs(String text, String hash, String expected) {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        Cid cid = Cid.compute(ContentCodec.RAW, HashFunction.parse(hash), data);
        assertEquals(expected, cid.toString());
        Cid parsed = Cid.parse(expected);
        assertEquals(cid, parsed);
        assertEquals(cid.hashCode(), parsed.hashCode());
        assertTrue(parsed.verify(data));
        assertTrue(parsed.verify(ByteBuffer.wrap(data)));
        assertFalse(parsed.verify("tampered".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void raw_usesSha256_asIpfsDoesByDefault() {
        assertEquals("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", Cid.raw(new byte[0]).toString());
    }

    @Test
    void binaryForm_isVersionCodecMultihash() {
        Cid cid = Cid.raw(new byte[0]);
        byte[] b = cid.toBytes();
        assertEquals("01551220", HexFormat.of().formatHex(b, 0, 4));
        assertEquals(36, b.length);
        assertEquals(cid, Cid.fromBytes(b));
    }

    @Test
    void manifestCodec_roundTripsAndDiffersFromRaw() {
        byte[] data = "manifest".getBytes(StandardCharsets.UTF_8);
        Cid m = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, data);
        Cid r = Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, data);
        assertNotEquals(m, r);
        assertEquals(m, Cid.parse(m.toString()));
        assertEquals(ContentCodec.MANIFEST, Cid.parse(m.toString()).codec());
        assertEquals("e5dec101", HexFormat.of().formatHex(m.toBytes(), 1, 5)); // varint of 0x306f65
    }

    @Test
    void multihash_isWhatFollowsVersionAndCodec_forOneAndFourByteCodecs() {
        byte[] data = "manifest".getBytes(StandardCharsets.UTF_8);
        Cid r = Cid.raw(data);
        assertArrayEquals(java.util.Arrays.copyOfRange(r.toBytes(), 2, 36), r.multihash());
        assertEquals("1220", HexFormat.of().formatHex(r.multihash(), 0, 2));
        Cid m = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, data);
        assertArrayEquals(java.util.Arrays.copyOfRange(m.toBytes(), 5, 39), m.multihash());
        assertEquals("1e20", HexFormat.of().formatHex(m.multihash(), 0, 2));
    }

    @Test
    void parse_upperCaseBase32_isAccepted() {
        String s = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
        assertEquals(Cid.parse(s), Cid.parse("B" + s.substring(1).toUpperCase()));
    }

    private static CidFormatException.Part rejectedPart(String s) {
        return assertThrows(CidFormatException.class, () -> Cid.parse(s)).part();
    }

    @Test
    void parse_malformed_namesTheWrongPart() {
        String good = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
        assertEquals(CidFormatException.Part.MULTIBASE, rejectedPart(""));
        assertEquals(CidFormatException.Part.MULTIBASE, rejectedPart("zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7"));
        assertEquals(CidFormatException.Part.MULTIBASE, rejectedPart("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"));
        assertEquals(CidFormatException.Part.BASE32, rejectedPart("bafkrei!dwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));
        assertEquals(CidFormatException.Part.BASE32, rejectedPart(good.substring(0, good.length() - 1) + "v"));
        assertEquals(CidFormatException.Part.DIGEST_LENGTH, rejectedPart(good.substring(0, good.length() - 8)));
        assertEquals(CidFormatException.Part.DIGEST_LENGTH, rejectedPart(good + "aaaaaaaa"));
        assertEquals(CidFormatException.Part.DIGEST_LENGTH, rejectedPart("b" + "a".repeat(200)));
        String message = assertThrows(CidFormatException.class,
                () -> Cid.parse(good.substring(0, good.length() - 8))).getMessage();
        assertTrue(message.contains("truncated digest"), message);
    }

    private static CidFormatException.Part rejectedBytes(String hex) {
        return assertThrows(CidFormatException.class, () -> Cid.fromBytes(HexFormat.of().parseHex(hex))).part();
    }

    @Test
    void fromBytes_malformed_namesTheWrongPart() {
        String digest = "00".repeat(32);
        assertEquals(CidFormatException.Part.VERSION, rejectedBytes("001220" + digest));
        assertEquals(CidFormatException.Part.CODEC, rejectedBytes("01701220" + digest)); // dag-pb
        assertEquals(CidFormatException.Part.HASH_FUNCTION, rejectedBytes("01551320" + digest)); // sha2-512
        assertEquals(CidFormatException.Part.DIGEST_LENGTH, rejectedBytes("01551210" + "00".repeat(16)));
        assertEquals(CidFormatException.Part.VARINT, rejectedBytes("0155"));
        assertEquals(CidFormatException.Part.VARINT, rejectedBytes("01d5"));
        assertEquals(CidFormatException.Part.VARINT, rejectedBytes("81005512"));
        assertEquals(CidFormatException.Part.VARINT, rejectedBytes("ffffffffffffffffff01"));
        String msg = assertThrows(CidFormatException.class,
                () -> Cid.fromBytes(HexFormat.of().parseHex("01701220" + digest))).getMessage();
        assertTrue(msg.contains("0x70"), msg);
    }

    @Test
    void randomBytes_neverCrashTheParser() {
        Random rnd = new Random(5);
        byte[] good = Cid.raw(new byte[0]).toBytes();
        for (int i = 0; i < 20_000; i++) {
            byte[] b = i % 2 == 0 ? new byte[rnd.nextInt(48)] : good.clone();
            if (i % 2 == 0) {
                rnd.nextBytes(b);
            } else {
                b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            }
            try {
                Cid c = Cid.fromBytes(b);
                assertArrayEquals(b, c.toBytes());
            } catch (CidFormatException expected) {
                assertFalse(expected.getMessage().isEmpty());
            }
        }
    }

    @Test
    void compareTo_isConsistentWithEquals() {
        Cid a = Cid.raw(new byte[] {1});
        Cid b = Cid.raw(new byte[] {2});
        assertEquals(0, a.compareTo(Cid.parse(a.toString())));
        assertEquals(-Integer.signum(a.compareTo(b)), Integer.signum(b.compareTo(a)));
    }
}
