package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * aws-chunked decoding against AWS's worked example ("Signature Calculations for the Authorization
 * Header: Transferring Payload in Multiple Chunks", PUT of 65 KiB of 'a' in 64 KiB + 1 KiB chunks,
 * 2013-05-24), then framing, truncation, trailers and a fuzz of mutated bodies.
 */
class AwsChunkedStreamTest {
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final String DATE = "20130524T000000Z";
    private static final SigV4.Scope SCOPE = new SigV4.Scope("20130524", "us-east-1", "s3");
    private static final String SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    private static final String[] DOC_SIGNATURES = {
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"};

    private static ChunkSigner signer() {
        return new ChunkSigner(SigV4.signingKey(SECRET, SCOPE), DATE, SCOPE, SEED);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The example's body, byte for byte as the documentation describes it (66824 bytes). */
    private static byte[] documentedBody() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] a64 = new byte[65536];
        Arrays.fill(a64, (byte) 'a');
        b.writeBytes(ascii("10000;chunk-signature=" + DOC_SIGNATURES[0] + "\r\n"));
        b.writeBytes(a64);
        b.writeBytes(ascii("\r\n400;chunk-signature=" + DOC_SIGNATURES[1] + "\r\n"));
        b.writeBytes(Arrays.copyOf(a64, 1024));
        b.writeBytes(ascii("\r\n0;chunk-signature=" + DOC_SIGNATURES[2] + "\r\n\r\n"));
        return b.toByteArray();
    }

    /** A signed body of {@code data} cut into chunks of {@code chunk} bytes, with optional signed trailers. */
    private static byte[] signedBody(byte[] data, int chunk, Map<String, String> trailers) {
        ChunkSigner s = signer();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int off = 0; off <= data.length; off += chunk) {
            int n = Math.min(chunk, data.length - off);
            byte[] part = Arrays.copyOfRange(data, off, off + n);
            b.writeBytes(ascii(Integer.toHexString(n) + ";chunk-signature=" + s.signChunk(SigV4.sha256(part)) + "\r\n"));
            b.writeBytes(part);
            if (n > 0) {
                b.writeBytes(ascii("\r\n"));
            }
            if (n == 0) {
                break;
            }
            if (off + n == data.length) {
                b.writeBytes(ascii("0;chunk-signature=" + s.signChunk(SigV4.sha256(new byte[0])) + "\r\n"));
                break;
            }
        }
        StringBuilder canonical = new StringBuilder();
        trailers.forEach((k, v) -> {
            b.writeBytes(ascii(k + ":" + v + "\r\n"));
            canonical.append(k).append(':').append(v).append('\n');
        });
        if (!trailers.isEmpty()) {
            b.writeBytes(ascii("x-amz-trailer-signature:" + s.signTrailer(canonical.toString()) + "\r\n"));
        }
        b.writeBytes(ascii("\r\n"));
        return b.toByteArray();
    }

    /** An unsigned body (STREAMING-UNSIGNED-PAYLOAD-TRAILER) with trailers. */
    private static byte[] unsignedBody(byte[] data, int chunk, Map<String, String> trailers) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int off = 0; off < data.length; off += chunk) {
            int n = Math.min(chunk, data.length - off);
            b.writeBytes(ascii(Integer.toHexString(n) + "\r\n"));
            b.write(data, off, n);
            b.writeBytes(ascii("\r\n"));
        }
        b.writeBytes(ascii("0\r\n"));
        trailers.forEach((k, v) -> b.writeBytes(ascii(k + ":" + v + "\r\n")));
        b.writeBytes(ascii("\r\n"));
        return b.toByteArray();
    }

    private static byte[] data(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    @Test
    void theDocumentedSeedSignature_followsFromItsCanonicalRequest() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", "s3.amazonaws.com");
        h.put("x-amz-date", DATE);
        h.put("x-amz-storage-class", "REDUCED_REDUNDANCY");
        h.put("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
        h.put("Content-Encoding", "aws-chunked");
        h.put("x-amz-decoded-content-length", "66560");
        h.put("Content-Length", "66824");
        SigV4.Request r = new SigV4.Request("PUT", "/examplebucket/chunkObject.txt", List.of(), h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
        assertEquals(SEED, SigV4.signature(SECRET, SCOPE, SigV4.stringToSign(DATE, SCOPE, SigV4.canonicalRequest(r))));
        assertEquals(66824, documentedBody().length);
    }

    @Test
    void theDocumentedChunkSignatures_followFromTheSeed() {
        ChunkSigner s = signer();
        byte[] a = new byte[65536];
        Arrays.fill(a, (byte) 'a');
        assertEquals(DOC_SIGNATURES[0], s.signChunk(SigV4.sha256(a)));
        assertEquals(DOC_SIGNATURES[1], s.signChunk(SigV4.sha256(Arrays.copyOf(a, 1024))));
        assertEquals(DOC_SIGNATURES[2], s.signChunk(SigV4.sha256(new byte[0])));
    }

    @Test
    void theDocumentedBody_decodesTo65KiBOfA() throws IOException {
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(documentedBody()), signer(), 66560, Set.of());
        byte[] out = s.readAllBytes();
        assertEquals(66560, out.length);
        for (byte c : out) {
            assertEquals('a', c);
        }
        assertEquals(Map.of(), s.trailers());
        assertEquals(-1, s.read());
    }

    @Test
    void theDocumentedBody_readOneByteAtATime_decodesTheSame() throws IOException {
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(documentedBody()), signer(), 66560, Set.of());
        int n = 0;
        while (s.read() >= 0) {
            n++;
        }
        assertEquals(66560, n);
    }

    @Test
    void aTamperedDataByte_isSignatureDoesNotMatch() {
        byte[] body = documentedBody();
        body[100] = 'b';
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), signer(), 66560, Set.of());
        assertEquals(S3Error.SignatureDoesNotMatch, assertThrows(S3Exception.class, s::readAllBytes).error());
    }

    @Test
    void anotherSeed_failsTheFirstChunk() {
        ChunkSigner wrong = new ChunkSigner(SigV4.signingKey(SECRET, SCOPE), DATE, SCOPE, SEED.replace('4', '5'));
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(documentedBody()), wrong, 66560, Set.of());
        assertEquals(S3Error.SignatureDoesNotMatch, assertThrows(S3Exception.class, s::readAllBytes).error());
    }

    @Test
    void aSignedBodyWithoutChunkSignatures_isRefused() {
        byte[] body = unsignedBody(data(100, 1), 50, Map.of());
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), signer(), 100, Set.of());
        assertEquals(S3Error.InvalidRequest, assertThrows(S3Exception.class, s::readAllBytes).error());
    }

    @Test
    void signedTrailers_areVerifiedAndReturned() throws IOException {
        byte[] d = data(10_000, 2);
        String crc = Checksums.base64(Checksums.Algorithm.CRC32C, d);
        byte[] body = signedBody(d, 4096, Map.of("x-amz-checksum-crc32c", crc));
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), signer(), d.length, Set.of("x-amz-checksum-crc32c"));
        assertArrayEquals(d, s.readAllBytes());
        assertEquals(Map.of("x-amz-checksum-crc32c", crc), s.trailers());
    }

    @Test
    void aChangedSignedTrailer_isSignatureDoesNotMatch() {
        byte[] d = data(5000, 3);
        byte[] body = signedBody(d, 4096, Map.of("x-amz-checksum-crc32", Checksums.base64(Checksums.Algorithm.CRC32, d)));
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("x-amz-checksum-crc32:") + "x-amz-checksum-crc32:".length();
        body[at] = (byte) (body[at] == 'A' ? 'B' : 'A');
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), signer(), d.length, Set.of("x-amz-checksum-crc32"));
        assertEquals(S3Error.SignatureDoesNotMatch, assertThrows(S3Exception.class, s::readAllBytes).error());
    }

    @Test
    void unsignedWithACrc32Trailer_decodes_andTheTrailerChecksTheBody() throws IOException {
        byte[] d = data(70_000, 4);
        String crc = Checksums.base64(Checksums.Algorithm.CRC32, d);
        byte[] body = unsignedBody(d, 65536, Map.of("x-amz-checksum-crc32", crc));
        AwsChunkedStream chunked = new AwsChunkedStream(new ByteArrayInputStream(body), null, d.length, Set.of("x-amz-checksum-crc32"));
        DigestingStream s = new DigestingStream(chunked, d.length, null, null, Checksums.Algorithm.CRC32,
                () -> chunked.trailers().get("x-amz-checksum-crc32"));
        assertArrayEquals(d, s.readAllBytes());
        assertEquals(crc, s.checksumBase64());

        byte[] wrong = unsignedBody(d, 65536, Map.of("x-amz-checksum-crc32", "AAAAAA=="));
        AwsChunkedStream c2 = new AwsChunkedStream(new ByteArrayInputStream(wrong), null, d.length, Set.of("x-amz-checksum-crc32"));
        DigestingStream s2 = new DigestingStream(c2, d.length, null, null, Checksums.Algorithm.CRC32, () -> c2.trailers().get("x-amz-checksum-crc32"));
        assertEquals(S3Error.BadDigest, assertThrows(S3Exception.class, s2::readAllBytes).error());
    }

    @Test
    void anUndeclaredTrailer_isInvalidRequest_aMissingDeclaredOne_isIncompleteBody() {
        byte[] d = data(10, 5);
        byte[] body = unsignedBody(d, 10, Map.of("x-amz-checksum-sha1", "abc="));
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), null, d.length, Set.of("x-amz-checksum-crc32"));
        assertEquals(S3Error.InvalidRequest, assertThrows(S3Exception.class, s::readAllBytes).error());
        AwsChunkedStream missing = new AwsChunkedStream(new ByteArrayInputStream(unsignedBody(d, 10, Map.of())), null, d.length,
                Set.of("x-amz-checksum-crc32"));
        assertEquals(S3Error.IncompleteBody, assertThrows(S3Exception.class, missing::readAllBytes).error());
    }

    @Test
    void everyTruncation_isIncompleteBody() throws IOException {
        byte[] body = signedBody(data(300, 6), 128, Map.of());
        for (int cut = 0; cut < body.length; cut++) {
            AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(Arrays.copyOf(body, cut)), signer(), 300, Set.of());
            S3Exception e = assertThrows(S3Exception.class, s::readAllBytes, "cut at " + cut);
            assertEquals(S3Error.IncompleteBody, e.error(), "cut at " + cut + ": " + e.getMessage());
        }
    }

    @Test
    void aDecodedLengthOtherThanTheChunks_isIncompleteBody() {
        byte[] body = signedBody(data(300, 7), 128, Map.of());
        for (long announced : new long[] {299, 301}) {
            AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), signer(), announced, Set.of());
            assertEquals(S3Error.IncompleteBody, assertThrows(S3Exception.class, s::readAllBytes).error(), "announced " + announced);
        }
    }

    @Test
    void badFraming_isInvalidRequest_withWords() {
        for (String bad : new String[] {"zz\r\n", "5\n", "1" + "0".repeat(20) + "\r\n", "8000000\r\n", "3;x=y\r\nabcX\r\n", "0;" + "x".repeat(5000) + "\r\n"}) {
            AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(ascii(bad + "\r\n")), null, -1, Set.of());
            S3Exception e = assertThrows(S3Exception.class, s::readAllBytes, bad);
            assertEquals(S3Error.InvalidRequest, e.error(), bad + ": " + e.getMessage());
            assertTrue(e.getMessage().length() < 300, e.getMessage());
        }
    }

    @Test
    void bulkReads_passLargeChunksThroughWithoutCopyingByteByByte() throws IOException {
        byte[] d = data(3 << 20, 8);
        byte[] body = unsignedBody(d, 1 << 20, Map.of());
        AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), null, d.length, Set.of());
        byte[] out = new byte[d.length];
        int off = 0;
        int reads = 0;
        for (int n; (n = s.read(out, off, out.length - off)) > 0; ) {
            off += n;
            reads++;
        }
        assertArrayEquals(d, out);
        assertTrue(reads < 20, reads + " reads for 3 MiB");
    }

    @Test
    void fuzz_mutatedBodies_onlyEverThrowS3ExceptionOrIOException_andNeverHang() {
        byte[] d = data(2000, 9);
        List<byte[]> seeds = List.of(signedBody(d, 700, Map.of("x-amz-checksum-crc32", Checksums.base64(Checksums.Algorithm.CRC32, d))),
                unsignedBody(d, 700, Map.of("x-amz-checksum-crc32", Checksums.base64(Checksums.Algorithm.CRC32, d))));
        Random rnd = new Random(20261207);
        long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            int runs = 0;
            while (System.nanoTime() < until) {
                int which = rnd.nextInt(2);
                byte[] body = mutate(seeds.get(which), rnd);
                AwsChunkedStream s = new AwsChunkedStream(new ByteArrayInputStream(body), which == 0 ? signer() : null,
                        rnd.nextBoolean() ? d.length : -1, Set.of("x-amz-checksum-crc32"));
                try {
                    drain(s, rnd);
                } catch (IOException expected) {
                    // S3Exception is one
                } catch (RuntimeException e) {
                    fail("run " + runs + " threw " + e, e);
                }
                runs++;
            }
            assertTrue(runs > 100, runs + " runs");
        });
    }

    private static void drain(InputStream s, Random rnd) throws IOException {
        byte[] buf = new byte[1 + rnd.nextInt(1000)];
        while (true) {
            int n = rnd.nextInt(4) == 0 ? s.read() : s.read(buf, 0, 1 + rnd.nextInt(buf.length));
            if (n < 0) {
                return;
            }
        }
    }

    private static byte[] mutate(byte[] seed, Random rnd) {
        byte[] b = seed.clone();
        int edits = 1 + rnd.nextInt(4);
        for (int i = 0; i < edits && b.length > 0; i++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(5)) {
                case 0 -> b[at] = (byte) rnd.nextInt(256);
                case 1 -> b[at] = (byte) "0123456789abcdef;\r\n:=".charAt(rnd.nextInt(21));
                case 2 -> b = Arrays.copyOf(b, at);
                case 3 -> {
                    byte[] c = new byte[b.length - 1];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + 1, c, at, b.length - at - 1);
                    b = c;
                }
                default -> {
                    byte[] c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, at);
                    c[at] = (byte) rnd.nextInt(256);
                    System.arraycopy(b, at, c, at + 1, b.length - at);
                    b = c;
                }
            }
        }
        return b;
    }
}
