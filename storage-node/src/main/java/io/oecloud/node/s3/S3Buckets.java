package io.oecloud.node.s3;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.time.Clock;

/**
 * Bucket operations: ListBuckets, CreateBucket (the canned ACL public-read makes a public
 * bucket), DeleteBucket, HeadBucket, GetBucketLocation, GetBucketVersioning (never enabled),
 * ListObjects and ListObjectsV2, ListMultipartUploads, and PUT ?acl with a canned ACL (private or
 * public-read) to turn a bucket's public reads off or on.
 */
final class S3Buckets {
    static final int MAX_KEYS = 1000;

    private final S3Namespace index;
    private final String region;
    private final Clock clock;

    S3Buckets(S3Namespace index, String region, Clock clock) {
        this.index = index;
        this.region = region;
        this.clock = clock;
    }

    void listBuckets(S3Gateway.Call c) {
        S3Gateway.ok(c.exchange(), S3Xml.listBuckets(index.buckets(), c.caller().accessKeyId()));
    }

    void handle(S3Gateway.Call c, S3Objects objects) throws IOException {
        HttpMethod m = c.method();
        String b = c.bucket();
        if (m.equals(HttpMethod.PUT) && c.query().isEmpty()) {
            create(c);
            return;
        }
        if (m.equals(HttpMethod.PUT) && c.has("acl")) {
            acl(c);
            return;
        }
        S3Model.Bucket bucket = index.bucket(b).orElseThrow(() -> noSuchBucket(b));
        if (m.equals(HttpMethod.HEAD)) {
            HttpHeaders h = c.exchange().headers().set("x-amz-bucket-region", region);
            c.exchange().headOnly(HttpResponseStatus.OK, h, 0);
        } else if (m.equals(HttpMethod.DELETE) && c.query().isEmpty()) {
            switch (index.deleteBucket(b)) {
                case DELETED -> c.exchange().empty(HttpResponseStatus.NO_CONTENT, c.exchange().headers());
                case NOT_FOUND -> throw noSuchBucket(b);
                case NOT_EMPTY -> throw new S3Exception(S3Error.BucketNotEmpty, "The bucket you tried to delete is not empty").withResource("/" + b);
            }
        } else if (m.equals(HttpMethod.GET) && c.has("location")) {
            S3Gateway.ok(c.exchange(), S3Xml.location(region));
        } else if (m.equals(HttpMethod.GET) && c.has("versioning")) {
            S3Gateway.ok(c.exchange(), S3Xml.versioning());
        } else if (m.equals(HttpMethod.GET) && c.has("uploads")) {
            objects.listUploads(c);
        } else if (m.equals(HttpMethod.POST) && c.has("delete")) {
            objects.deleteObjects(c);
        } else if (m.equals(HttpMethod.GET) && (c.query().isEmpty() || c.has("list-type") || c.has("prefix") || c.has("delimiter")
                || c.has("marker") || c.has("max-keys") || c.has("encoding-type") || c.has("start-after") || c.has("continuation-token"))) {
            list(c, bucket);
        } else if (m.equals(HttpMethod.GET) || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE)) {
            throw new S3Exception(S3Error.NotImplemented, "this bucket subresource is not implemented by the gateway");
        } else {
            throw new S3Exception(S3Error.MethodNotAllowed, "The specified method is not allowed against this resource.");
        }
    }

    private void create(S3Gateway.Call c) throws IOException {
        S3Text.checkBucketName(c.bucket());
        c.smallBody(64 << 10); // a CreateBucketConfiguration (its location is this gateway's in any case)
        boolean publicRead = cannedPublic(c.header("x-amz-acl"));
        if (!index.createBucket(c.bucket(), clock.millis(), publicRead)) {
            throw new S3Exception(S3Error.BucketAlreadyOwnedByYou,
                    "Your previous request to create the named bucket succeeded and you already own it.").withResource("/" + c.bucket());
        }
        c.exchange().empty(HttpResponseStatus.OK, c.exchange().headers().set("Location", "/" + c.bucket()));
    }

    private void acl(S3Gateway.Call c) throws IOException {
        c.smallBody(64 << 10);
        String canned = c.header("x-amz-acl");
        if (canned == null) {
            throw new S3Exception(S3Error.NotImplemented, "only canned ACLs (x-amz-acl: private or public-read) are supported");
        }
        if (!index.setPublic(c.bucket(), cannedPublic(canned))) {
            throw noSuchBucket(c.bucket());
        }
        c.exchange().empty(HttpResponseStatus.OK, c.exchange().headers());
    }

    private static boolean cannedPublic(String acl) throws S3Exception {
        if (acl == null || acl.equals("private")) {
            return false;
        }
        if (acl.equals("public-read")) {
            return true;
        }
        throw new S3Exception(S3Error.InvalidArgument, "the canned ACL '" + S3Text.shorten(acl) + "' is not supported (private, public-read)");
    }

    private void list(S3Gateway.Call c, S3Model.Bucket bucket) throws S3Exception {
        boolean v2 = "2".equals(c.param("list-type"));
        String prefix = c.param("prefix") == null ? "" : c.param("prefix");
        String delimiter = c.param("delimiter") == null || c.param("delimiter").isEmpty() ? null : c.param("delimiter");
        int maxKeys = maxKeys(c.param("max-keys"));
        String encoding = c.param("encoding-type");
        if (encoding != null && !encoding.equals("url")) {
            throw new S3Exception(S3Error.InvalidArgument, "Invalid Encoding Method specified in Request");
        }
        boolean url = encoding != null;
        if (v2) {
            String token = c.param("continuation-token");
            String startAfter = c.param("start-after");
            String after = token != null ? S3Gateway.untoken(token) : startAfter;
            S3Model.Listing page = index.list(bucket.name(), prefix, delimiter, after, maxKeys);
            String next = page.truncated() && page.nextMarker() != null ? S3Gateway.token(page.nextMarker()) : null;
            S3Gateway.ok(c.exchange(), S3Xml.listObjectsV2(bucket.name(), prefix, startAfter, token, next, delimiter, maxKeys, url,
                    "true".equals(c.param("fetch-owner")), page));
        } else {
            String marker = c.param("marker");
            S3Model.Listing page = index.list(bucket.name(), prefix, delimiter, marker, maxKeys);
            S3Gateway.ok(c.exchange(), S3Xml.listObjectsV1(bucket.name(), prefix, marker, delimiter, maxKeys, url, page));
        }
    }

    static int maxKeys(String v) throws S3Exception {
        if (v == null) {
            return MAX_KEYS;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Math.min(n, MAX_KEYS);
        } catch (NumberFormatException e) {
            throw new S3Exception(S3Error.InvalidArgument, "Provided max-keys not an integer or within integer range");
        }
    }

    static S3Exception noSuchBucket(String b) {
        return new S3Exception(S3Error.NoSuchBucket, "The specified bucket does not exist").withResource("/" + b);
    }
}
