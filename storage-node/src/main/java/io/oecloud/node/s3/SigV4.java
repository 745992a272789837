package io.oecloud.node.s3;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 for S3 (the header form, {@code Authorization: AWS4-HMAC-SHA256
 * Credential=KEY/DATE/REGION/s3/aws4_request, SignedHeaders=..., Signature=...}): the canonical
 * request, the string to sign and the signature, computed from what the request carries, so the
 * gateway can compare a client's signature with its own in constant time. Written from AWS's
 * description of the algorithm; checked against the worked example in its documentation
 * ({@code SigV4Test}).
 *
 * <p>The first piece of the S3 gateway (issue 27); the gateway itself is not built yet.
 */
public final class SigV4 {
    public static final String ALGORITHM = "AWS4-HMAC-SHA256";
    /** The payload hash a client sends when it does not sign the body. */
    public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

    private SigV4() {}

    /**
     * What a signature covers.
     *
     * @param method upper case, as sent
     * @param path the URI path as sent (already percent-encoded by the client; S3 does not encode it again)
     * @param query the query parameters, decoded (they are encoded here, sorted by name then value)
     * @param headers the signed headers, by name (any case); values as sent
     * @param payloadHash {@code x-amz-content-sha256}: hex SHA-256 of the body, or {@link #UNSIGNED_PAYLOAD}
     */
    public record Request(String method, String path, List<Map.Entry<String, String>> query, Map<String, String> headers,
                          String payloadHash) {}

    /** The scope of a signature: {@code DATE/REGION/SERVICE/aws4_request}. */
    public record Scope(String date, String region, String service) {
        @Override
        public String toString() {
            return date + "/" + region + "/" + service + "/aws4_request";
        }
    }

    /** The canonical request: method, path, query, headers, signed header names, payload hash. */
    public static String canonicalRequest(Request r) {
        TreeMap<String, String> h = new TreeMap<>();
        r.headers().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), v.strip().replaceAll(" +", " ")));
        StringBuilder b = new StringBuilder(r.method()).append('\n').append(r.path().isEmpty() ? "/" : r.path()).append('\n');
        List<String> q = new ArrayList<>();
        for (Map.Entry<String, String> e : r.query()) {
            q.add(encode(e.getKey()) + "=" + encode(e.getValue()));
        }
        q.sort(null);
        b.append(String.join("&", q)).append('\n');
        h.forEach((k, v) -> b.append(k).append(':').append(v).append('\n'));
        return b.append('\n').append(String.join(";", h.keySet())).append('\n').append(r.payloadHash()).toString();
    }

    /** The string to sign for {@code canonical} at {@code amzDate} (yyyyMMdd'T'HHmmss'Z') in {@code scope}. */
    public static String stringToSign(String amzDate, Scope scope, String canonical) {
        return ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
    }

    /** The signature (hex) of {@code toSign} with {@code secret} in {@code scope}. */
    public static String signature(String secret, Scope scope, String toSign) {
        return hmacHex(signingKey(secret, scope), toSign);
    }

    /** The signing key of {@code secret} in {@code scope}: HMACs of date, region, service and "aws4_request". */
    public static byte[] signingKey(String secret, Scope scope) {
        byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), scope.date());
        k = hmac(k, scope.region());
        k = hmac(k, scope.service());
        return hmac(k, "aws4_request");
    }

    /** Hex HMAC-SHA256 of {@code data} (UTF-8) with {@code key}. */
    public static String hmacHex(byte[] key, String data) {
        return hex(hmac(key, data));
    }

    /** Whether {@code given} (hex, from the client) is the signature of the request, compared in constant time. */
    public static boolean matches(String given, String secret, Scope scope, String amzDate, Request r) {
        String mine = signature(secret, scope, stringToSign(amzDate, scope, canonicalRequest(r)));
        return MessageDigest.isEqual(mine.getBytes(StandardCharsets.US_ASCII), given.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
    }

    /** URI encoding as SigV4 wants it: unreserved characters as they are, everything else %XX in upper case. */
    static String encode(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            int u = c & 0xff;
            if (u >= 'A' && u <= 'Z' || u >= 'a' && u <= 'z' || u >= '0' && u <= '9' || u == '-' || u == '_' || u == '.' || u == '~') {
                b.append((char) u);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(u >> 4, 16))).append(Character.toUpperCase(Character.forDigit(u & 15, 16)));
            }
        }
        return b.toString();
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Lower-case hex. */
    public static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
