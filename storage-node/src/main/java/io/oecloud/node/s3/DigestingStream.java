package io.oecloud.node.s3;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * An upload's body as it passes to the store: counts it, always computes its MD5 (the ETag), its
 * SHA-256 when the client signed it, and one {@link Checksums.Algorithm} when asked. When the inner
 * stream ends, everything is checked before {@code read} returns -1, so a reader that sees the end
 * has a body that is whole and as the client described it; otherwise {@code read} throws an
 * {@link S3Exception} (and keeps throwing it).
 *
 * <p>Bounding the body is the caller's job (Content-Length, the largest object): this only notices
 * bytes beyond {@code expectedLength}. Not thread-safe; no mark/reset.
 */
public final class DigestingStream extends FilterInputStream {
    private final long expectedLength;
    private final byte[] expectedMd5;
    private final String expectedSha256Hex;
    private final Checksums.Algorithm algorithm;
    private final Supplier<String> expectedChecksumBase64;
    private final MessageDigest md5 = Checksums.messageDigest("MD5");
    private final MessageDigest sha256;
    private final Checksums.Digest checksum;
    private long length;
    private boolean ended;
    private S3Exception failure;
    private String md5Hex;
    private String checksumBase64;

    /**
     * @param expectedLength Content-Length (or the decoded length of an aws-chunked body), -1 unknown
     * @param expectedMd5Base64 Content-MD5, or null
     * @param expectedSha256Hex x-amz-content-sha256 when it is a hash, or null
     * @param algorithm the checksum to compute, or null
     * @param expectedChecksumBase64 the client's value of that checksum (header or trailer), read at the end; may return null
     * @throws S3Exception InvalidDigest for a Content-MD5 that is not base64 of 16 bytes, InvalidArgument for a SHA-256 that is not 64 hex digits
     */
    public DigestingStream(InputStream in, long expectedLength, String expectedMd5Base64, String expectedSha256Hex,
                    Checksums.Algorithm algorithm, Supplier<String> expectedChecksumBase64) throws S3Exception {
        super(in);
        this.expectedLength = expectedLength;
        this.expectedMd5 = expectedMd5Base64 == null ? null : decodeMd5(expectedMd5Base64);
        if (expectedSha256Hex != null && !expectedSha256Hex.matches("[0-9a-fA-F]{64}")) {
            throw new S3Exception(S3Error.InvalidArgument, "x-amz-content-sha256 '" + expectedSha256Hex + "' is neither a hex SHA-256 nor a known payload value.");
        }
        this.expectedSha256Hex = expectedSha256Hex == null ? null : expectedSha256Hex.toLowerCase(Locale.ROOT);
        this.sha256 = expectedSha256Hex == null ? null : Checksums.messageDigest("SHA-256");
        this.algorithm = algorithm;
        this.checksum = algorithm == null ? null : algorithm.newDigest();
        this.expectedChecksumBase64 = expectedChecksumBase64 == null ? () -> null : expectedChecksumBase64;
    }

    private static byte[] decodeMd5(String b64) throws S3Exception {
        byte[] m;
        try {
            m = Base64.getDecoder().decode(b64.strip());
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.InvalidDigest, "The Content-MD5 you specified is not valid base64.");
        }
        if (m.length != 16) {
            throw new S3Exception(S3Error.InvalidDigest, "The Content-MD5 you specified is " + m.length + " bytes, not the 16 of an MD5.");
        }
        return m;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (failure != null) {
            throw failure;
        }
        if (ended) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        int n = in.read(b, off, len);
        if (n < 0) {
            finish();
            return -1;
        }
        length += n;
        if (expectedLength >= 0 && length > expectedLength) {
            throw fail(new S3Exception(S3Error.InvalidRequest, "The body is longer than the " + expectedLength + " bytes announced."));
        }
        md5.update(b, off, n);
        if (sha256 != null) {
            sha256.update(b, off, n);
        }
        if (checksum != null) {
            checksum.update(b, off, n);
        }
        return n;
    }

    /** Every check of the whole body, in S3's order: length, Content-MD5, SHA-256, checksum. */
    private void finish() throws S3Exception {
        if (expectedLength >= 0 && length < expectedLength) {
            throw fail(new S3Exception(S3Error.IncompleteBody, "The body ended after " + length + " of the " + expectedLength + " bytes announced."));
        }
        byte[] m = md5.digest();
        if (expectedMd5 != null && !MessageDigest.isEqual(m, expectedMd5)) {
            throw fail(new S3Exception(S3Error.BadDigest, "The Content-MD5 you specified did not match what we received."));
        }
        if (sha256 != null && !HexFormat.of().formatHex(sha256.digest()).equals(expectedSha256Hex)) {
            throw fail(new S3Exception(S3Error.XAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed."));
        }
        if (checksum != null) {
            byte[] mine = checksum.finish();
            String given = expectedChecksumBase64.get();
            if (given != null) {
                byte[] theirs;
                try {
                    theirs = Base64.getDecoder().decode(given.strip());
                } catch (IllegalArgumentException e) {
                    throw fail(new S3Exception(S3Error.InvalidRequest, "Value for " + algorithm.headerName() + " is not base64."));
                }
                if (!MessageDigest.isEqual(mine, theirs)) {
                    throw fail(new S3Exception(S3Error.BadDigest, "The " + algorithm + " you specified did not match the calculated checksum."));
                }
            }
            checksumBase64 = Base64.getEncoder().encodeToString(mine);
        }
        md5Hex = HexFormat.of().formatHex(m);
        ended = true;
    }

    private S3Exception fail(S3Exception e) {
        failure = e;
        return e;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes must still be counted and digested.
        byte[] buf = new byte[(int) Math.min(8192, Math.max(n, 1))];
        long done = 0;
        while (done < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public void mark(int limit) {}

    @Override
    public void reset() throws IOException {
        throw new IOException("DigestingStream cannot reset: its digests have seen the bytes");
    }

    /** The body's MD5 in hex (the ETag without quotes). */
    public String md5Hex() {
        requireEnded();
        return md5Hex;
    }

    /** The body's length. */
    public long length() {
        requireEnded();
        return length;
    }

    /** The checksum of the body in base64, or null when no algorithm was asked for. */
    public String checksumBase64() {
        requireEnded();
        return checksumBase64;
    }

    private void requireEnded() {
        if (!ended) {
            throw new IllegalStateException("the body has not been read to its end (or failed its checks)");
        }
    }
}
