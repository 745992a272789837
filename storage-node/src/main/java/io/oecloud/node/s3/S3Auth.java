package io.oecloud.node.s3;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Who sent a request: AWS Signature Version 4 checked against the gateway's keys, in the
 * Authorization header or a presigned URL's query, or nobody (anonymous: public reads only).
 * The clock skew limit is S3's, 15 minutes; a presigned URL lives at most 7 days.
 *
 * <p>The signature covers the method, the path as sent, the query, the signed headers and the
 * payload hash the client declares ({@code x-amz-content-sha256}); the body itself is checked
 * against that hash as it streams ({@link DigestingStream}), chunk by chunk for
 * {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD} ({@link AwsChunkedStream}).
 */
public final class S3Auth {
    static final Duration MAX_SKEW = Duration.ofMinutes(15);
    static final long MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
    static final String STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    static final String STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    static final String STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);

    /**
     * A request as the signature sees it.
     *
     * @param rawPath the path exactly as sent (percent-encoded)
     * @param query decoded names and values, in order
     * @param headers lower-case names to their values (repeated headers joined by ",")
     */
    public record Request(String method, String rawPath, List<Map.Entry<String, String>> query, Map<String, String> headers) {
        String header(String name) {
            return headers.get(name);
        }

        String param(String name) {
            for (Map.Entry<String, String> e : query) {
                if (e.getKey().equals(name)) {
                    return e.getValue();
                }
            }
            return null;
        }
    }

    /**
     * The verdict: {@code accessKeyId} null for an anonymous request. For a signed streaming body,
     * {@code chunks} checks its chunks' signatures (null otherwise); {@code payloadHash} is what
     * the client declared (hex, UNSIGNED-PAYLOAD or a STREAMING-* value; UNSIGNED-PAYLOAD for presigned URLs).
     */
    public record Caller(String accessKeyId, String payloadHash, ChunkSigner chunks) {
        public boolean anonymous() {
            return accessKeyId == null;
        }
    }

    private final S3Keys keys;
    private final String region;

    public S3Auth(S3Keys keys, String region) {
        this.keys = keys;
        this.region = region;
    }

    public String region() {
        return region;
    }

    /** Checks {@code r}'s signature at {@code now}; throws the S3 error a client should see. */
    public Caller verify(Request r, Instant now) throws S3Exception {
        String authorization = r.header("authorization");
        if (authorization != null) {
            return header(r, authorization, now);
        }
        if (r.param("X-Amz-Algorithm") != null || r.param("X-Amz-Credential") != null || r.param("X-Amz-Signature") != null) {
            return presigned(r, now);
        }
        if (r.param("AWSAccessKeyId") != null) {
            throw new S3Exception(S3Error.InvalidRequest, "Signature Version 2 is not supported here; sign with AWS4-HMAC-SHA256");
        }
        return new Caller(null, SigV4.UNSIGNED_PAYLOAD, null);
    }

    private Caller header(Request r, String authorization, Instant now) throws S3Exception {
        if (!authorization.startsWith(SigV4.ALGORITHM + " ")) {
            throw new S3Exception(authorization.startsWith("AWS ") ? S3Error.InvalidRequest : S3Error.AuthorizationHeaderMalformed,
                    "the Authorization header must use " + SigV4.ALGORITHM + " (Signature Version 4)");
        }
        Map<String, String> parts = new LinkedHashMap<>();
        for (String p : authorization.substring(SigV4.ALGORITHM.length() + 1).split(",")) {
            int eq = p.indexOf('=');
            if (eq > 0) {
                parts.put(p.substring(0, eq).strip(), p.substring(eq + 1).strip());
            }
        }
        String credential = parts.get("Credential");
        String signed = parts.get("SignedHeaders");
        String signature = parts.get("Signature");
        if (credential == null || signed == null || signature == null) {
            throw new S3Exception(S3Error.AuthorizationHeaderMalformed, "the Authorization header needs Credential, SignedHeaders and Signature");
        }
        String amzDate = r.header("x-amz-date");
        if (amzDate == null) {
            throw new S3Exception(S3Error.AccessDenied, "AWS authentication requires a valid Date or x-amz-date header");
        }
        Instant at = parseDate(amzDate, S3Error.AccessDenied);
        if (Duration.between(at, now).abs().compareTo(MAX_SKEW) > 0) {
            throw new S3Exception(S3Error.RequestTimeTooSkewed, "The difference between the request time and the server's time is too large.");
        }
        Credential c = credential(credential, amzDate, S3Error.AuthorizationHeaderMalformed);
        S3Keys.Key key = keys.active(c.accessKeyId()).orElseThrow(() -> new S3Exception(S3Error.InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."));
        String payload = r.header("x-amz-content-sha256");
        if (payload == null) {
            throw new S3Exception(S3Error.InvalidRequest, "Missing required header for this request: x-amz-content-sha256");
        }
        if (!payload.equals(SigV4.UNSIGNED_PAYLOAD) && !payload.startsWith("STREAMING-") && !payload.matches("[0-9a-f]{64}")) {
            throw new S3Exception(S3Error.InvalidArgument, "x-amz-content-sha256 must be the body's SHA-256 in hex, UNSIGNED-PAYLOAD or a STREAMING- value");
        }
        SigV4.Request canonical = new SigV4.Request(r.method(), r.rawPath(), r.query(), signedHeaders(r, signed), payload);
        if (!SigV4.matches(signature, key.secret(), c.scope(), amzDate, canonical)) {
            throw new S3Exception(S3Error.SignatureDoesNotMatch,
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
        }
        ChunkSigner chunks = null;
        if (payload.equals(STREAMING_SIGNED) || payload.equals(STREAMING_SIGNED_TRAILER)) {
            chunks = new ChunkSigner(SigV4.signingKey(key.secret(), c.scope()), amzDate, c.scope(), signature.toLowerCase(Locale.ROOT));
        } else if (payload.startsWith("STREAMING-") && !payload.equals(STREAMING_UNSIGNED_TRAILER)) {
            throw new S3Exception(S3Error.InvalidArgument, "x-amz-content-sha256 '" + payload + "' is not a payload mode this gateway knows");
        }
        return new Caller(key.accessKeyId(), payload, chunks);
    }

    private Caller presigned(Request r, Instant now) throws S3Exception {
        String algorithm = r.param("X-Amz-Algorithm");
        String credential = r.param("X-Amz-Credential");
        String amzDate = r.param("X-Amz-Date");
        String expires = r.param("X-Amz-Expires");
        String signed = r.param("X-Amz-SignedHeaders");
        String signature = r.param("X-Amz-Signature");
        if (!SigV4.ALGORITHM.equals(algorithm) || credential == null || amzDate == null || expires == null || signed == null || signature == null) {
            throw new S3Exception(S3Error.AuthorizationQueryParametersError, "a presigned URL needs X-Amz-Algorithm=" + SigV4.ALGORITHM
                    + ", X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
        }
        long seconds;
        try {
            seconds = Long.parseLong(expires);
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (seconds < 1 || seconds > MAX_PRESIGNED_SECONDS) {
            throw new S3Exception(S3Error.AuthorizationQueryParametersError, "X-Amz-Expires must be 1 to " + MAX_PRESIGNED_SECONDS + " seconds");
        }
        Instant at = parseDate(amzDate, S3Error.AuthorizationQueryParametersError);
        if (now.isAfter(at.plusSeconds(seconds))) {
            throw new S3Exception(S3Error.AccessDenied, "Request has expired");
        }
        if (at.isAfter(now.plus(MAX_SKEW))) {
            throw new S3Exception(S3Error.AccessDenied, "Request is not valid yet");
        }
        Credential c = credential(credential, amzDate, S3Error.AuthorizationQueryParametersError);
        S3Keys.Key key = keys.active(c.accessKeyId()).orElseThrow(() -> new S3Exception(S3Error.InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."));
        List<Map.Entry<String, String>> query = new ArrayList<>();
        for (Map.Entry<String, String> e : r.query()) {
            if (!e.getKey().equals("X-Amz-Signature")) {
                query.add(e);
            }
        }
        SigV4.Request canonical = new SigV4.Request(r.method(), r.rawPath(), query, signedHeaders(r, signed), SigV4.UNSIGNED_PAYLOAD);
        if (!SigV4.matches(signature, key.secret(), c.scope(), amzDate, canonical)) {
            throw new S3Exception(S3Error.SignatureDoesNotMatch,
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
        }
        return new Caller(key.accessKeyId(), SigV4.UNSIGNED_PAYLOAD, null);
    }

    private record Credential(String accessKeyId, SigV4.Scope scope) {}

    /** KEY/DATE/REGION/s3/aws4_request, its date the request's day. */
    private Credential credential(String text, String amzDate, S3Error malformed) throws S3Exception {
        String[] p = text.split("/");
        if (p.length != 5 || !p[4].equals("aws4_request") || !p[3].equals("s3")) {
            throw new S3Exception(malformed, "the credential must be ACCESS_KEY/DATE/REGION/s3/aws4_request");
        }
        if (!amzDate.startsWith(p[1])) {
            throw new S3Exception(malformed, "the credential's date " + p[1] + " is not the request's day");
        }
        if (!p[2].equals(region)) {
            throw new S3Exception(malformed, "the region '" + p[2] + "' is wrong; expecting '" + region + "'");
        }
        return new Credential(p[0], new SigV4.Scope(p[1], p[2], p[3]));
    }

    /** The values of the signed headers; host must be among them, and each must be present. */
    private static Map<String, String> signedHeaders(Request r, String signed) throws S3Exception {
        Map<String, String> out = new LinkedHashMap<>();
        boolean host = false;
        for (String name : signed.split(";")) {
            String n = name.strip().toLowerCase(Locale.ROOT);
            host |= n.equals("host");
            String v = r.header(n);
            if (v == null) {
                throw new S3Exception(S3Error.AccessDenied, "the signed header '" + S3Text.shorten(n) + "' is not in the request");
            }
            out.put(n, v);
        }
        if (!host) {
            throw new S3Exception(S3Error.AccessDenied, "the signature must cover the Host header");
        }
        return out;
    }

    private static Instant parseDate(String amzDate, S3Error error) throws S3Exception {
        try {
            return LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new S3Exception(error, "the date '" + S3Text.shorten(amzDate) + "' is not yyyyMMddTHHmmssZ");
        }
    }
}
