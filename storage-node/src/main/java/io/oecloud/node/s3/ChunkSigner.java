package io.oecloud.node.s3;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * The chain of signatures of an aws-chunked body ({@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD} and
 * {@code ...-PAYLOAD-TRAILER}): each chunk's signature covers its data and the previous signature,
 * starting from the request's own ("seed") signature, so chunks can be neither changed, dropped nor
 * reordered. Written from AWS's "Signature Calculations for the Authorization Header: Transferring
 * Payload in Multiple Chunks" and "... trailing headers". One per request; not thread-safe.
 */
public final class ChunkSigner {
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private final byte[] signingKey;
    private final String amzDate;
    private final SigV4.Scope scope;
    private String previous;

    /**
     * @param signingKey {@link SigV4#signingKey} of the request's secret and scope
     * @param amzDate the request's x-amz-date
     * @param seedSignature the signature of the request's Authorization header (verified by the caller)
     */
    public ChunkSigner(byte[] signingKey, String amzDate, SigV4.Scope scope, String seedSignature) {
        this.signingKey = signingKey.clone();
        this.amzDate = amzDate;
        this.scope = scope;
        this.previous = seedSignature.toLowerCase(Locale.ROOT);
    }

    /** The signature the next chunk must carry, whose data hashes to {@code dataSha256}; moves the chain on. */
    String signChunk(byte[] dataSha256) {
        previous = SigV4.hmacHex(signingKey, "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                + EMPTY_SHA256 + "\n" + SigV4.hex(dataSha256));
        return previous;
    }

    /** The signature of the trailer, {@code canonicalTrailers} being its lines as "name:value\n"; moves the chain on. */
    String signTrailer(String canonicalTrailers) {
        previous = SigV4.hmacHex(signingKey, "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                + SigV4.hex(SigV4.sha256(canonicalTrailers.getBytes(StandardCharsets.UTF_8))));
        return previous;
    }

    /** Checks the signature {@code given} of the next chunk; SignatureDoesNotMatch if it is not its signature. */
    void verifyChunk(String given, byte[] dataSha256) throws S3Exception {
        check(given, signChunk(dataSha256), "chunk");
    }

    /** Checks the trailer's signature {@code given}. */
    void verifyTrailer(String given, String canonicalTrailers) throws S3Exception {
        check(given, signTrailer(canonicalTrailers), "trailer");
    }

    private static void check(String given, String mine, String what) throws S3Exception {
        if (!MessageDigest.isEqual(mine.getBytes(StandardCharsets.US_ASCII), given.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII))) {
            throw new S3Exception(S3Error.SignatureDoesNotMatch, "The " + what + " signature we calculated does not match the signature you provided.");
        }
    }
}
