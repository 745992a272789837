package io.oecloud.node.s3;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The S3 API over the namespace ({@link S3Index}) and the object store ({@link S3Pieces}): finds
 * the bucket and key (path style {@code /bucket/key}, or virtual-host style {@code bucket.DOMAIN}),
 * checks the caller ({@link S3Auth}), and hands the request to the bucket or object operations.
 * Runs on a request's work thread. Authorization: any valid key may do anything (one namespace,
 * one owner); anonymous callers may only read objects of public buckets.
 */
final class S3Gateway {
    /** Largest XML body read whole (DeleteObjects of 1,000 keys, CompleteMultipartUpload of 10,000 parts). */
    static final int MAX_XML = 2 << 20;
    /** Requests with a body (PUTs, parts, XML) handled at once; more get SlowDown (503), as S3 answers a burst. */
    static final int MAX_BODIES = 64;
    /** Of {@link #MAX_BODIES}, what one client address may hold by default ({@link S3Server.Config#bodiesPerClient}). */
    static final int BODIES_PER_CLIENT = 16;

    private final S3Auth auth;
    private final S3Namespace index;
    private final String domain;
    private final Clock clock;
    private final S3Buckets buckets;
    private final S3Objects objects;
    private final BodyPlaces bodies;

    /** @param bodiesPerClient body places one client address may hold at once (1 to {@link #MAX_BODIES}) */
    S3Gateway(S3Auth auth, S3Namespace index, S3Pieces pieces, String domain, Clock clock, int bodiesPerClient) {
        this.bodies = new BodyPlaces(MAX_BODIES, bodiesPerClient);
        this.auth = auth;
        this.index = index;
        this.domain = domain.toLowerCase(Locale.ROOT);
        this.clock = clock;
        this.buckets = new S3Buckets(index, auth.region(), clock);
        this.objects = new S3Objects(index, pieces, clock);
    }

    /** A request as the operations see it: its target, query and headers, and who sent it. */
    record Call(HttpMethod method, String bucket, String key, Map<String, String> query, HttpHeaders headers, S3Auth.Caller caller,
                InputStream body, S3Exchange exchange) {
        boolean has(String param) {
            return query.containsKey(param);
        }

        String param(String name) {
            return query.get(name);
        }

        String header(String name) {
            return headers.get(name);
        }

        /** The body read whole, at most {@code max} bytes. */
        byte[] smallBody(int max) throws IOException {
            byte[] b = body.readNBytes(max + 1);
            if (b.length > max) {
                throw new S3Exception(S3Error.InvalidRequest, "the request body is over " + max + " bytes");
            }
            return b;
        }
    }

    /** The body places: how many bodies stream in now, in all and per client. */
    BodyPlaces bodies() {
        return bodies;
    }

    /**
     * Answers {@code req}, whose body streams in as {@code body}, from {@code client} (null: unknown).
     * A request with a body holds one of the body places until it is answered or fails.
     */
    void handle(HttpRequest req, InputStream body, S3Exchange x, java.net.InetAddress client) {
        boolean hasBody = io.netty.handler.codec.http.HttpUtil.getContentLength(req, 0L) > 0
                || io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(req);
        BodyPlaces.Place place = null;
        if (hasBody) {
            try {
                place = bodies.take(client);
            } catch (S3Exception e) {
                x.closeAfter();
                x.error(e);
                return;
            }
        }
        try {
            dispatch(req, body, x);
        } catch (S3Exception e) {
            x.error(e);
        } catch (IOException e) { // the body never ended: the client is gone, stalled or broke the framing
            x.closeAfter();
            if (e instanceof io.oecloud.node.api.BodyStream.Aborted a) {
                if (a.status == null) {
                    return; // nobody to answer
                }
                x.error(a.status.code() == 408 ? new S3Exception(S3Error.RequestTimeout, "Your socket connection to the server was not"
                        + " read from or written to within the timeout period: " + S3Text.shorten(a.getMessage()))
                        : new S3Exception(S3Error.IncompleteBody, S3Text.shorten(a.getMessage())));
                return;
            }
            x.error(new S3Exception(S3Error.IncompleteBody, "the request body did not arrive whole: " + S3Text.shorten(e.getMessage())));
        } finally {
            if (place != null) {
                place.close();
            }
        }
    }

    private void dispatch(HttpRequest req, InputStream body, S3Exchange x) throws IOException {
        String uri = req.uri();
        int q = uri.indexOf('?');
        String rawPath = q < 0 ? uri : uri.substring(0, q);
        List<Map.Entry<String, String>> queryList = new ArrayList<>();
        Map<String, String> query = new LinkedHashMap<>();
        try {
            QueryStringDecoder d = new QueryStringDecoder(uri, StandardCharsets.UTF_8, true, 1024, true);
            d.parameters().forEach((k, vs) -> {
                for (String v : vs) {
                    queryList.add(Map.entry(k, v));
                }
                query.put(k, vs.isEmpty() ? "" : vs.get(0));
            });
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.InvalidArgument, "the query has malformed percent-encoding");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : req.headers()) {
            headers.merge(h.getKey().toLowerCase(Locale.ROOT), h.getValue(), (a, b) -> a + "," + b);
        }
        S3Auth.Caller caller = auth.verify(new S3Auth.Request(req.method().name(), rawPath, queryList, headers), clock.instant());

        String path;
        try {
            path = QueryStringDecoder.decodeComponent(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.InvalidArgument, "the path has malformed percent-encoding");
        }
        String bucket;
        String key;
        String hostBucket = hostBucket(req.headers().get(io.netty.handler.codec.http.HttpHeaderNames.HOST));
        String rest = path.startsWith("/") ? path.substring(1) : path;
        if (hostBucket != null) {
            bucket = hostBucket;
            key = rest;
        } else {
            int slash = rest.indexOf('/');
            bucket = slash < 0 ? rest : rest.substring(0, slash);
            key = slash < 0 ? "" : rest.substring(slash + 1);
        }
        S3Text.checkBucketChars(bucket);
        if (bucket.isEmpty() && !key.isEmpty()) { // "//key": no bucket to look the key up in
            throw new S3Exception(S3Error.InvalidBucketName, "The specified bucket is not valid: the path names a key but no bucket");
        }
        Call call = new Call(req.method(), bucket, key, query, req.headers(), caller, body, x);
        if (caller.anonymous() && !(publicRead(call))) {
            throw new S3Exception(S3Error.AccessDenied, "Access Denied (sign the request with an access key of this gateway; "
                    + "only objects of public buckets may be read without one)");
        }
        if (bucket.isEmpty()) {
            if (!req.method().equals(HttpMethod.GET)) {
                throw new S3Exception(S3Error.MethodNotAllowed, "The specified method is not allowed against this resource.");
            }
            buckets.listBuckets(call);
        } else if (key.isEmpty()) {
            buckets.handle(call, objects);
        } else {
            S3Text.checkKey(key);
            objects.handle(call);
        }
    }

    /** Anonymous GET or HEAD of an object in a public bucket. */
    private boolean publicRead(Call c) {
        if (!(c.method().equals(HttpMethod.GET) || c.method().equals(HttpMethod.HEAD)) || c.key().isEmpty() || !c.query().isEmpty()) {
            return false;
        }
        return index.bucket(c.bucket()).map(S3Model.Bucket::publicRead).orElse(false);
    }

    /** The bucket of a virtual-host-style Host ({@code bucket.DOMAIN[:port]}), or null for path style. */
    String hostBucket(String host) {
        if (host == null || domain.isEmpty()) {
            return null;
        }
        String h = host.toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        if (colon > 0 && h.indexOf(']') < colon) {
            h = h.substring(0, colon);
        }
        String suffix = "." + domain;
        if (h.endsWith(suffix) && h.length() > suffix.length()) {
            return h.substring(0, h.length() - suffix.length());
        }
        return null;
    }

    /** An opaque continuation token for a listing that goes on after {@code marker}. */
    static String token(String marker) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(marker.getBytes(StandardCharsets.UTF_8));
    }

    static String untoken(String token) throws S3Exception {
        try {
            return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.InvalidArgument, "The continuation token provided is incorrect");
        }
    }

    static void ok(S3Exchange x, byte[] xml) {
        x.xml(HttpResponseStatus.OK, xml, x.headers());
    }
}
