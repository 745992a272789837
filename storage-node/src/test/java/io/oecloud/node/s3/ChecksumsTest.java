package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The checksums against their published check values ("123456789") and known digests. */
class ChecksumsTest {
    private static final byte[] CHECK = "123456789".getBytes(StandardCharsets.US_ASCII);

    private static String hex(Checksums.Algorithm a, byte[] data) {
        return HexFormat.of().formatHex(Base64.getDecoder().decode(Checksums.base64(a, data)));
    }

    @Test
    void crc64nvme_ofTheCheckString_isTheCatalogueCheckValue() {
        assertEquals("ae8b14860a799888", hex(Checksums.Algorithm.CRC64NVME, CHECK));
        assertEquals("0000000000000000", hex(Checksums.Algorithm.CRC64NVME, new byte[0]));
    }

    @Test
    void crc64nvme_sliceByEight_equalsByteAtATime_forEveryLengthAndSplit() {
        Random rnd = new Random(7);
        byte[] data = new byte[200];
        rnd.nextBytes(data);
        for (int len = 0; len <= data.length; len++) {
            long bytewise = -1L;
            for (int i = 0; i < len; i++) {
                bytewise = Checksums.Crc64Nvme.update(bytewise, data, i, 1);
            }
            long bulk = Checksums.Crc64Nvme.update(-1L, data, 0, len);
            assertEquals(bytewise, bulk, "length " + len);
            int split = len / 3;
            long two = Checksums.Crc64Nvme.update(Checksums.Crc64Nvme.update(-1L, data, 0, split), data, split, len - split);
            assertEquals(bytewise, two, "length " + len + " split at " + split);
        }
    }

    @Test
    void crc32AndCrc32c_ofTheCheckString_areTheCatalogueCheckValues_bigEndian() {
        assertEquals("cbf43926", hex(Checksums.Algorithm.CRC32, CHECK));
        assertEquals("e3069283", hex(Checksums.Algorithm.CRC32C, CHECK));
    }

    @Test
    void sha1AndSha256_base64_ofKnownStrings() {
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        assertEquals("qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", Checksums.base64(Checksums.Algorithm.SHA1, abc));
        assertEquals("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", Checksums.base64(Checksums.Algorithm.SHA256, abc));
        assertEquals("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", Checksums.base64(Checksums.Algorithm.SHA256, new byte[0]));
    }

    @Test
    void digest_finish_isRepeatable_andUpdateAfterItFails() {
        Checksums.Digest d = Checksums.Algorithm.CRC32C.newDigest();
        d.update(CHECK, 0, CHECK.length);
        assertArrayEquals(d.finish(), d.finish());
        assertThrows(IllegalStateException.class, () -> d.update(CHECK, 0, 1));
    }

    @Test
    void headerNamesAndNames_mapBothWays_unknownNameIsInvalidArgument() throws Exception {
        assertEquals("x-amz-checksum-crc64nvme", Checksums.Algorithm.CRC64NVME.headerName());
        assertEquals(Optional.of(Checksums.Algorithm.CRC32C), Checksums.Algorithm.fromHeader("X-Amz-Checksum-CRC32C"));
        assertEquals(Optional.empty(), Checksums.Algorithm.fromHeader("x-amz-checksum-md5"));
        assertEquals(Checksums.Algorithm.SHA256, Checksums.Algorithm.fromName("sha256"));
        S3Exception e = assertThrows(S3Exception.class, () -> Checksums.Algorithm.fromName("MD5"));
        assertEquals(S3Error.InvalidArgument, e.error());
    }

    @Test
    void multipartEtag_isMd5OfTheConcatenatedPartMd5s_dashCount() throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        byte[] a = md.digest("part one".getBytes(StandardCharsets.UTF_8));
        byte[] b = md.digest("part two".getBytes(StandardCharsets.UTF_8));
        byte[] both = new byte[32];
        System.arraycopy(a, 0, both, 0, 16);
        System.arraycopy(b, 0, both, 16, 16);
        String expected = "\"" + HexFormat.of().formatHex(md.digest(both)) + "-2\"";
        assertEquals(expected, Checksums.multipartEtag(List.of(a, b)));
        // A known value: two parts whose MD5s are those of the empty string.
        byte[] empty = HexFormat.of().parseHex("d41d8cd98f00b204e9800998ecf8427e");
        assertEquals("\"" + HexFormat.of().formatHex(md.digest(HexFormat.of().parseHex("d41d8cd98f00b204e9800998ecf8427ed41d8cd98f00b204e9800998ecf8427e"))) + "-2\"",
                Checksums.multipartEtag(List.of(empty, empty)));
    }

    @Test
    void composite_isTheChecksumOfThePartChecksums_dashCount() throws Exception {
        String p1 = Checksums.base64(Checksums.Algorithm.CRC32, "hello ".getBytes(StandardCharsets.UTF_8));
        String p2 = Checksums.base64(Checksums.Algorithm.CRC32, "world".getBytes(StandardCharsets.UTF_8));
        byte[] both = new byte[8];
        System.arraycopy(Base64.getDecoder().decode(p1), 0, both, 0, 4);
        System.arraycopy(Base64.getDecoder().decode(p2), 0, both, 4, 4);
        assertEquals(Checksums.base64(Checksums.Algorithm.CRC32, both) + "-2", Checksums.composite(Checksums.Algorithm.CRC32, List.of(p1, p2)));
        assertEquals(S3Error.InvalidRequest, assertThrows(S3Exception.class,
                () -> Checksums.composite(Checksums.Algorithm.CRC32, List.of("not base64!"))).error());
    }
}
