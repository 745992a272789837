package io.oecloud.node.s3;

import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Signs a request to the gateway with SigV4 in its Authorization header (the CLI's {@code oe s3 public}, and tests). */
public final class S3Signer {
    private static final DateTimeFormatter AMZ = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private S3Signer() {}

    /** Adds the headers and Authorization of a SigV4 signature of {@code method uri} with {@code headers} and an empty body. */
    public static void sign(HttpRequest.Builder b, String method, URI uri, Map<String, String> headers, S3Keys.Key key, String region,
                            Instant now) {
        sign(b, method, uri, headers, key, region, now, SigV4.hex(SigV4.sha256(new byte[0])));
    }

    /**
     * Adds the headers and Authorization of a SigV4 signature of {@code method uri} with {@code headers} and a body
     * declared by {@code payloadHash} (its SHA-256 in hex, {@link SigV4#UNSIGNED_PAYLOAD} or a STREAMING- mode).
     */
    public static void sign(HttpRequest.Builder b, String method, URI uri, Map<String, String> headers, S3Keys.Key key, String region,
                            Instant now, String payloadHash) {
        String amzDate = AMZ.format(now);
        Map<String, String> signed = new LinkedHashMap<>();
        signed.put("host", uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort());
        signed.put("x-amz-content-sha256", payloadHash);
        signed.put("x-amz-date", amzDate);
        headers.forEach((k, v) -> signed.put(k.toLowerCase(Locale.ROOT), v));
        List<Map.Entry<String, String>> query = new ArrayList<>();
        if (uri.getRawQuery() != null) {
            for (String p : uri.getRawQuery().split("&")) {
                int eq = p.indexOf('=');
                query.add(Map.entry(URLDecoder.decode(eq < 0 ? p : p.substring(0, eq), StandardCharsets.UTF_8),
                        eq < 0 ? "" : URLDecoder.decode(p.substring(eq + 1), StandardCharsets.UTF_8)));
            }
        }
        SigV4.Scope scope = new SigV4.Scope(amzDate.substring(0, 8), region, "s3");
        String canonical = SigV4.canonicalRequest(new SigV4.Request(method, uri.getRawPath(), query, signed, payloadHash));
        String signature = SigV4.signature(key.secret(), scope, SigV4.stringToSign(amzDate, scope, canonical));
        signed.forEach((k, v) -> {
            if (!k.equals("host")) {
                b.header(k, v);
            }
        });
        b.header("Authorization", SigV4.ALGORITHM + " Credential=" + key.accessKeyId() + "/" + scope + ", SignedHeaders="
                + String.join(";", new java.util.TreeMap<>(signed).keySet()) + ", Signature=" + signature);
    }
}
