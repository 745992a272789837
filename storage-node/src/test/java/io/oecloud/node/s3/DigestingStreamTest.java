package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Every check DigestingStream makes at the end of the body, and the error each failure gives. */
class DigestingStreamTest {
    private static final byte[] BODY = "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII);
    private static final String MD5_HEX = "9e107d9d372bb6826bd81d3542a419d6";
    private static final String MD5_B64 = Base64.getEncoder().encodeToString(HexFormat.of().parseHex(MD5_HEX));
    private static final String SHA256_HEX = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592";

    private static DigestingStream stream(byte[] body, long length, String md5, String sha, Checksums.Algorithm a, String checksum) throws S3Exception {
        return new DigestingStream(new ByteArrayInputStream(body), length, md5, sha, a, () -> checksum);
    }

    private static S3Error drainError(InputStream in) {
        return assertThrows(S3Exception.class, () -> in.readAllBytes()).error();
    }

    @Test
    void aWholeMatchingBody_endsAndReportsItsDigests() throws IOException {
        String crc = Checksums.base64(Checksums.Algorithm.CRC32, BODY);
        DigestingStream s = stream(BODY, BODY.length, MD5_B64, SHA256_HEX, Checksums.Algorithm.CRC32, crc);
        assertEquals(BODY.length, s.readAllBytes().length);
        assertEquals(MD5_HEX, s.md5Hex());
        assertEquals(BODY.length, s.length());
        assertEquals(crc, s.checksumBase64());
        assertEquals(-1, s.read());
    }

    @Test
    void nothingExpected_stillGivesMd5AndLength_noChecksum() throws IOException {
        DigestingStream s = stream(BODY, -1, null, null, null, null);
        s.readAllBytes();
        assertEquals(MD5_HEX, s.md5Hex());
        assertNull(s.checksumBase64());
    }

    @Test
    void accessorsBeforeTheEnd_throw() throws IOException {
        DigestingStream s = stream(BODY, -1, null, null, null, null);
        assertThrows(IllegalStateException.class, s::md5Hex);
    }

    @Test
    void fewerBytesThanAnnounced_isIncompleteBody() throws IOException {
        assertEquals(S3Error.IncompleteBody, drainError(stream(BODY, BODY.length + 1, null, null, null, null)));
    }

    @Test
    void moreBytesThanAnnounced_isInvalidRequest() throws IOException {
        assertEquals(S3Error.InvalidRequest, drainError(stream(BODY, BODY.length - 1, null, null, null, null)));
    }

    @Test
    void anotherMd5_isBadDigest() throws IOException {
        String other = Base64.getEncoder().encodeToString(new byte[16]);
        assertEquals(S3Error.BadDigest, drainError(stream(BODY, -1, other, null, null, null)));
    }

    @Test
    void malformedContentMd5_isInvalidDigest_atOnce() {
        assertEquals(S3Error.InvalidDigest, assertThrows(S3Exception.class, () -> stream(BODY, -1, "not*base64", null, null, null)).error());
        assertEquals(S3Error.InvalidDigest, assertThrows(S3Exception.class, () -> stream(BODY, -1, "AAAA", null, null, null)).error());
    }

    @Test
    void anotherSha256_isXAmzContentSHA256Mismatch() throws IOException {
        assertEquals(S3Error.XAmzContentSHA256Mismatch, drainError(stream(BODY, -1, null, "00".repeat(32), null, null)));
    }

    @Test
    void anotherChecksum_isBadDigest_namingTheAlgorithm() throws IOException {
        DigestingStream s = stream(BODY, -1, null, null, Checksums.Algorithm.CRC32, "AAAAAA==");
        S3Exception e = assertThrows(S3Exception.class, s::readAllBytes);
        assertEquals(S3Error.BadDigest, e.error());
        assertEquals("The CRC32 you specified did not match the calculated checksum.", e.getMessage());
    }

    @Test
    void theFailure_repeatsOnEveryLaterRead() throws IOException {
        DigestingStream s = stream(BODY, BODY.length + 5, null, null, null, null);
        S3Exception first = assertThrows(S3Exception.class, s::readAllBytes);
        assertSame(first, assertThrows(S3Exception.class, s::read));
    }

    @Test
    void theExpectedChecksum_isReadOnlyAtTheEnd() throws IOException {
        String[] trailer = {null};
        DigestingStream s = new DigestingStream(new ByteArrayInputStream(BODY), -1, null, null, Checksums.Algorithm.SHA256, () -> trailer[0]);
        s.readNBytes(10);
        trailer[0] = Checksums.base64(Checksums.Algorithm.SHA256, BODY);
        s.readAllBytes();
        assertEquals(trailer[0], s.checksumBase64());
    }
}
