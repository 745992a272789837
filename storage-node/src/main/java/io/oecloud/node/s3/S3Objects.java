package io.oecloud.node.s3;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.oecloud.http.ByteRange;
import io.oecloud.node.api.ChannelOutput;
import io.oecloud.node.object.ObjectException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Object operations: PutObject, GetObject (Range, If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since, the response-* overrides), HeadObject, DeleteObject, DeleteObjects,
 * CopyObject (COPY or REPLACE metadata; the copy shares the source's pieces, no byte moves), and
 * multipart uploads (create, UploadPart, UploadPartCopy, complete: the parts' pieces become the
 * object's, no byte moves; abort, ListParts, ListMultipartUploads).
 *
 * <p>A write is visible only once its bytes are stored and checked (length, Content-MD5,
 * x-amz-content-sha256, chunk signatures, x-amz-checksum-*) and its index record is durable; a
 * failed write stores no record and lets its piece go. Pieces a write replaces are let go once no
 * key and no part refers to them.
 */
final class S3Objects {
    static final long MAX_PUT = 5L << 30;
    static final long MIN_PART = 5L << 20;
    static final int MAX_PARTS = 10_000;
    static final int MAX_META = 2048;
    private static final List<String> STORED_HEADERS = List.of("content-type", "content-encoding", "content-disposition",
            "content-language", "cache-control", "expires");

    private final S3Namespace index;
    private final S3Pieces pieces;
    private final Clock clock;

    S3Objects(S3Namespace index, S3Pieces pieces, Clock clock) {
        this.index = index;
        this.pieces = pieces;
        this.clock = clock;
    }

    void handle(S3Gateway.Call c) throws IOException {
        HttpMethod m = c.method();
        S3Model.Bucket bucket = index.bucket(c.bucket()).orElseThrow(() -> S3Buckets.noSuchBucket(c.bucket()));
        if (m.equals(HttpMethod.PUT) && c.has("partNumber") && c.has("uploadId")) {
            uploadPart(c, bucket);
        } else if (m.equals(HttpMethod.PUT) && c.header("x-amz-copy-source") != null) {
            copy(c, bucket);
        } else if (m.equals(HttpMethod.PUT) && !c.has("acl") && !c.has("tagging")) {
            put(c, bucket);
        } else if (m.equals(HttpMethod.GET) && c.has("uploadId")) {
            listParts(c);
        } else if (m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD)) {
            if (c.has("acl") || c.has("tagging") || c.has("attributes")) {
                throw new S3Exception(S3Error.NotImplemented, "this object subresource is not implemented by the gateway");
            }
            get(c);
        } else if (m.equals(HttpMethod.DELETE) && c.has("uploadId")) {
            abort(c);
        } else if (m.equals(HttpMethod.DELETE)) {
            delete(c);
        } else if (m.equals(HttpMethod.POST) && c.has("uploads")) {
            createUpload(c);
        } else if (m.equals(HttpMethod.POST) && c.has("uploadId")) {
            complete(c, bucket);
        } else if (m.equals(HttpMethod.PUT)) {
            throw new S3Exception(S3Error.NotImplemented, "this object subresource is not implemented by the gateway");
        } else {
            throw new S3Exception(S3Error.MethodNotAllowed, "The specified method is not allowed against this resource.");
        }
    }

    // ---- writes ----

    /** The checked body of a PUT or part: de-chunked, digested, bounded by {@code max}. */
    private record Body(DigestingStream stream, long length, AwsChunkedStream chunked, Checksums.Algorithm algorithm) {}

    private Body body(S3Gateway.Call c, long max) throws S3Exception {
        String payload = c.caller().payloadHash();
        String encoding = c.header("content-encoding");
        boolean chunked = payload.startsWith("STREAMING-") || encoding != null && encoding.toLowerCase(Locale.ROOT).contains("aws-chunked");
        long declared = length(c.header("content-length"));
        long length = chunked ? length(c.header("x-amz-decoded-content-length")) : declared;
        if (length < 0) {
            throw new S3Exception(S3Error.MissingContentLength, "You must provide the Content-Length HTTP header"
                    + (chunked ? " and x-amz-decoded-content-length" : ""));
        }
        if (length > max) {
            throw new S3Exception(S3Error.EntityTooLarge, "Your proposed upload exceeds the maximum allowed size of " + max + " bytes");
        }
        InputStream in = c.body();
        AwsChunkedStream aws = null;
        if (chunked) {
            java.util.Set<String> trailers = new java.util.HashSet<>();
            String t = c.header("x-amz-trailer");
            if (t != null) {
                for (String name : t.split(",")) {
                    trailers.add(name.strip().toLowerCase(Locale.ROOT));
                }
            }
            aws = new AwsChunkedStream(in, c.caller().chunks(), length, trailers);
            in = aws;
        }
        Checksums.Algorithm algorithm = null;
        String expected = null;
        for (Checksums.Algorithm a : Checksums.Algorithm.values()) {
            String v = c.header(a.headerName());
            if (v != null) {
                algorithm = a;
                expected = v;
            }
        }
        String trailerName = null;
        if (algorithm == null && c.header("x-amz-trailer") != null) {
            for (String name : c.header("x-amz-trailer").split(",")) {
                Optional<Checksums.Algorithm> a = Checksums.Algorithm.fromHeader(name.strip().toLowerCase(Locale.ROOT));
                if (a.isPresent()) {
                    algorithm = a.get();
                    trailerName = a.get().headerName();
                }
            }
        }
        if (algorithm == null && c.header("x-amz-sdk-checksum-algorithm") != null) {
            algorithm = Checksums.Algorithm.fromName(c.header("x-amz-sdk-checksum-algorithm"));
        }
        String fixed = expected;
        String trailer = trailerName;
        AwsChunkedStream decoded = aws;
        java.util.function.Supplier<String> want = () -> fixed != null ? fixed
                : trailer != null && decoded != null ? decoded.trailers().get(trailer) : null;
        String sha = payload.matches("[0-9a-f]{64}") ? payload : null;
        DigestingStream d = new DigestingStream(in, length, c.header("content-md5"), sha, algorithm, want);
        return new Body(d, length, aws, algorithm);
    }

    private static long length(String v) throws S3Exception {
        if (v == null) {
            return -1;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new S3Exception(S3Error.InvalidArgument, "a length header is not a number of bytes: '" + S3Text.shorten(v) + "'");
        }
    }

    private void put(S3Gateway.Call c, S3Model.Bucket bucket) throws IOException {
        Map<String, String> headers = storedHeaders(c.headers());
        Map<String, String> meta = userMetadata(c.headers());
        Body b = body(c, MAX_PUT);
        S3Model.Piece piece = store(b, headers.get("content-type"), !bucket.publicRead());
        Map<String, String> sums = b.algorithm() == null ? Map.of() : Map.of(b.algorithm().name(), b.stream().checksumBase64());
        S3Model.ObjectEntry e = new S3Model.ObjectEntry(c.key(), List.of(piece), b.length(), quote(b.stream().md5Hex()), clock.millis(),
                headers, meta, sums, !bucket.publicRead());
        commit(c.bucket(), e, List.of(piece));
        HttpHeaders h = c.exchange().headers().set(HttpHeaderNames.ETAG, e.etag());
        sums.forEach((alg, v) -> h.set(Checksums.Algorithm.valueOf(alg).headerName(), v));
        c.exchange().empty(HttpResponseStatus.OK, h);
    }

    /** Stores a checked body as one piece; nothing is kept when the body fails its checks. */
    private S3Model.Piece store(Body b, String contentType, boolean encrypt) throws IOException {
        try {
            return pieces.store(b.stream(), b.length(), contentType, encrypt);
        } catch (ObjectException e) {
            throw storeFailed(e);
        }
    }

    static S3Exception storeFailed(ObjectException e) {
        return switch (e.code()) {
            case BUSY -> new S3Exception(S3Error.SlowDown, "Please reduce your request rate: " + e.getMessage());
            case BAD_INPUT -> new S3Exception(S3Error.InvalidArgument, e.getMessage());
            case PAYMENT_REQUIRED -> new S3Exception(S3Error.AccessDenied, "the gateway's account cannot pay for this object's storage: " + e.getMessage());
            default -> new S3Exception(S3Error.ServiceUnavailable, "the network could not store the object now: " + e.getMessage());
        };
    }

    /** Makes {@code e} visible under its key; pieces nobody refers to any more are let go. */
    private void commit(String bucket, S3Model.ObjectEntry e, List<S3Model.Piece> added) throws S3Exception {
        List<S3Model.Piece> free;
        try {
            free = index.putObject(bucket, e);
        } catch (S3Namespace.NoBucketException x) { // deleted while the bytes streamed in
            added.forEach(pieces::release);
            throw S3Buckets.noSuchBucket(bucket);
        }
        free.forEach(pieces::release);
    }

    private void copy(S3Gateway.Call c, S3Model.Bucket bucket) throws IOException {
        Source src = source(c.header("x-amz-copy-source"));
        S3Model.ObjectEntry from = index.get(src.bucket(), src.key()).orElseThrow(() -> noSuchKey(src.key()));
        checkCopyConditions(c, from);
        String directive = c.header("x-amz-metadata-directive");
        boolean replace = "REPLACE".equals(directive);
        if (directive != null && !replace && !"COPY".equals(directive)) {
            throw new S3Exception(S3Error.InvalidArgument, "Unknown metadata directive.");
        }
        if (!replace && src.bucket().equals(c.bucket()) && src.key().equals(c.key())) {
            throw new S3Exception(S3Error.InvalidRequest, "This copy request is illegal because it is trying to copy an object to itself"
                    + " without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        }
        c.smallBody(0);
        List<S3Model.Piece> ps = from.pieces();
        boolean encrypted = from.encrypted();
        if (from.encrypted() == bucket.publicRead()) { // public <-> private: the bytes must change form
            ps = List.of(recopy(from, !bucket.publicRead()));
            encrypted = !bucket.publicRead();
        }
        S3Model.ObjectEntry e = new S3Model.ObjectEntry(c.key(), ps, from.size(), from.etag(), clock.millis(),
                replace ? storedHeaders(c.headers()) : from.headers(), replace ? userMetadata(c.headers()) : from.userMetadata(),
                from.checksums(), encrypted);
        commit(c.bucket(), e, ps == from.pieces() ? List.of() : ps);
        S3Gateway.ok(c.exchange(), S3Xml.copyObjectResult(e.etag(), e.lastModifiedMillis()));
    }

    /** The bytes of {@code from} stored again as one piece, encrypted or not. */
    private S3Model.Piece recopy(S3Model.ObjectEntry from, boolean encrypt) throws IOException {
        java.io.PipedInputStream in = new java.io.PipedInputStream(1 << 20);
        java.io.PipedOutputStream out = new java.io.PipedOutputStream(in);
        var reader = Thread.ofVirtual().start(() -> {
            try (out) {
                pieces.read(from.pieces(), 0, from.size(), out);
            } catch (IOException | ObjectException e) {
                // the reader side sees a short stream and fails the store
            }
        });
        try {
            S3Model.Piece p = pieces.store(in, from.size(), from.headers().get("content-type"), encrypt);
            return p;
        } catch (ObjectException e) {
            throw storeFailed(e);
        } finally {
            reader.interrupt();
        }
    }

    private record Source(String bucket, String key, String range) {}

    private static Source source(String header) throws S3Exception {
        String v = header.strip();
        int q = v.indexOf('?');
        if (q >= 0) {
            v = v.substring(0, q); // ?versionId: versions are never kept
        }
        try {
            v = java.net.URLDecoder.decode(v.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.InvalidArgument, "x-amz-copy-source has malformed percent-encoding");
        }
        if (v.startsWith("/")) {
            v = v.substring(1);
        }
        int slash = v.indexOf('/');
        if (slash <= 0 || slash == v.length() - 1) {
            throw new S3Exception(S3Error.InvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        }
        Source src = new Source(v.substring(0, slash), v.substring(slash + 1), null);
        S3Text.checkBucketChars(src.bucket());
        S3Text.checkKey(src.key());
        return src;
    }

    private static void checkCopyConditions(S3Gateway.Call c, S3Model.ObjectEntry from) throws S3Exception {
        String ifMatch = c.header("x-amz-copy-source-if-match");
        String ifNone = c.header("x-amz-copy-source-if-none-match");
        long unmodified = date(c.header("x-amz-copy-source-if-unmodified-since"));
        long modified = date(c.header("x-amz-copy-source-if-modified-since"));
        if (ifMatch != null && !etagMatches(ifMatch, from.etag())
                || ifNone != null && etagMatches(ifNone, from.etag())
                || unmodified >= 0 && from.lastModifiedMillis() / 1000 > unmodified / 1000
                || modified >= 0 && ifNone == null && from.lastModifiedMillis() / 1000 <= modified / 1000) {
            throw new S3Exception(S3Error.PreconditionFailed, "At least one of the pre-conditions you specified did not hold");
        }
    }

    // ---- reads ----

    private void get(S3Gateway.Call c) throws IOException {
        S3Model.ObjectEntry e = index.get(c.bucket(), c.key()).orElseThrow(() -> noSuchKey(c.key()));
        HttpHeaders h = c.exchange().headers();
        h.set(HttpHeaderNames.ETAG, e.etag()).set(HttpHeaderNames.LAST_MODIFIED, S3Text.httpDate(e.lastModifiedMillis()))
                .set(HttpHeaderNames.ACCEPT_RANGES, "bytes").set(HttpHeaderNames.CONTENT_TYPE, e.contentType());
        e.headers().forEach((k, v) -> h.set(k, v));
        e.userMetadata().forEach((k, v) -> h.set("x-amz-meta-" + k, v));
        if (e.pieces().size() > 1) {
            h.set("x-amz-mp-parts-count", e.pieces().size());
        }
        // conditions, in S3's order (RFC 9110 §13.2.2)
        String ifMatch = c.header("if-match");
        String ifNone = c.header("if-none-match");
        long unmodified = date(c.header("if-unmodified-since"));
        long modified = date(c.header("if-modified-since"));
        long lastSecond = e.lastModifiedMillis() / 1000;
        if (ifMatch != null ? !etagMatches(ifMatch, e.etag()) : unmodified >= 0 && lastSecond > unmodified / 1000) {
            throw new S3Exception(S3Error.PreconditionFailed, "At least one of the pre-conditions you specified did not hold");
        }
        if (ifNone != null ? etagMatches(ifNone, e.etag()) : modified >= 0 && lastSecond <= modified / 1000) {
            c.exchange().headOnly(HttpResponseStatus.NOT_MODIFIED, h, 0);
            return;
        }
        overrides(c, h);
        if ("ENABLED".equalsIgnoreCase(c.header("x-amz-checksum-mode"))) {
            e.checksums().forEach((alg, v) -> h.set(Checksums.Algorithm.valueOf(alg).headerName(), v));
        }
        long from = 0;
        long to = e.size();
        HttpResponseStatus status = HttpResponseStatus.OK;
        String partNumber = c.param("partNumber");
        if (partNumber != null) {
            int n = partNumber(partNumber);
            if (n > e.pieces().size()) {
                throw new S3Exception(S3Error.InvalidRange, "The requested partnumber is not satisfiable");
            }
            for (int i = 0; i < n - 1; i++) {
                from += e.pieces().get(i).size();
            }
            to = from + e.pieces().get(n - 1).size();
            if (e.pieces().size() > 1 || e.size() > 0) {
                status = HttpResponseStatus.PARTIAL_CONTENT;
                h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + from + "-" + (to - 1) + "/" + e.size());
            }
        } else {
            switch (ByteRange.parse(c.header("range"), e.size())) {
                case ByteRange.Slice s -> {
                    from = s.from();
                    to = s.to();
                    status = HttpResponseStatus.PARTIAL_CONTENT;
                    h.set(HttpHeaderNames.CONTENT_RANGE, s.contentRange(e.size()));
                }
                case ByteRange.Unsatisfiable u -> throw new S3Exception(S3Error.InvalidRange, "The requested range is not satisfiable")
                        .withResource("/" + c.bucket() + "/" + c.key());
                case ByteRange.Whole w -> { }
            }
        }
        if (c.method().equals(HttpMethod.HEAD)) {
            c.exchange().headOnly(status, h, to - from);
            return;
        }
        ChannelOutput out = c.exchange().stream(status, h, to - from);
        try {
            pieces.read(e.pieces(), from, to, out);
        } catch (ObjectException | IOException x) {
            if (!out.started()) {
                throw x instanceof ObjectException oe ? readFailed(oe) : (IOException) x;
            }
            c.exchange().abort(); // mid-body: the client sees a short body, never a whole-looking one
            return;
        }
        c.exchange().finish(out);
    }

    private static S3Exception readFailed(ObjectException e) {
        return switch (e.code()) {
            case NOT_FOUND -> new S3Exception(S3Error.InternalError, "the object's bytes were not found in the network: " + e.getMessage());
            case BUSY -> new S3Exception(S3Error.SlowDown, "Please reduce your request rate: " + e.getMessage());
            default -> new S3Exception(S3Error.ServiceUnavailable, "the network could not serve the object now: " + e.getMessage());
        };
    }

    /** response-content-type and the others: what the client asked the answer to say. */
    private static void overrides(S3Gateway.Call c, HttpHeaders h) {
        String[][] map = {{"response-content-type", "content-type"}, {"response-content-language", "content-language"},
            {"response-expires", "expires"}, {"response-cache-control", "cache-control"},
            {"response-content-disposition", "content-disposition"}, {"response-content-encoding", "content-encoding"}};
        for (String[] m : map) {
            String v = c.param(m[0]);
            if (v != null) {
                h.set(m[1], v);
            }
        }
    }

    // ---- deletes ----

    private void delete(S3Gateway.Call c) throws IOException {
        c.smallBody(0);
        index.deleteObject(c.bucket(), c.key()).forEach(pieces::release);
        c.exchange().empty(HttpResponseStatus.NO_CONTENT, c.exchange().headers());
    }

    void deleteObjects(S3Gateway.Call c) throws IOException {
        byte[] xml = c.smallBody(S3Gateway.MAX_XML);
        S3Xml.DeleteRequest req = S3Xml.parseDelete(xml);
        if (req.keys().size() > 1000) {
            throw new S3Exception(S3Error.MalformedXML, "a DeleteObjects request names at most 1000 keys, this one " + req.keys().size());
        }
        List<String> deleted = new ArrayList<>();
        List<S3Xml.DeleteError> errors = new ArrayList<>();
        for (String key : req.keys()) {
            try {
                S3Text.checkKey(key);
                index.deleteObject(c.bucket(), key).forEach(pieces::release);
                deleted.add(key);
            } catch (S3Exception e) {
                errors.add(new S3Xml.DeleteError(key, e.error().code(), e.getMessage()));
            }
        }
        S3Gateway.ok(c.exchange(), S3Xml.deleteResult(deleted, errors, req.quiet()));
    }

    // ---- multipart ----

    private void createUpload(S3Gateway.Call c) throws IOException {
        c.smallBody(0);
        String algorithm = c.header("x-amz-checksum-algorithm");
        String alg = algorithm == null ? null : Checksums.Algorithm.fromName(algorithm).name();
        byte[] id = new byte[24];
        new java.security.SecureRandom().nextBytes(id);
        String uploadId = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(id);
        index.createUpload(new S3Model.Upload(uploadId, c.bucket(), c.key(), clock.millis(), storedHeaders(c.headers()),
                userMetadata(c.headers()), alg));
        HttpHeaders h = c.exchange().headers();
        if (alg != null) {
            h.set("x-amz-checksum-algorithm", alg);
        }
        c.exchange().xml(HttpResponseStatus.OK, S3Xml.initiateMultipart(c.bucket(), c.key(), uploadId), h);
    }

    private S3Model.Upload upload(S3Gateway.Call c) throws S3Exception {
        String id = c.param("uploadId");
        boolean possible = !id.isEmpty() && id.indexOf('\0') < 0; // ids the namespace cannot hold name no upload
        S3Model.Upload u = possible ? index.upload(id).orElse(null) : null;
        if (u == null || !u.bucket().equals(c.bucket()) || !u.key().equals(c.key())) {
            throw new S3Exception(S3Error.NoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.");
        }
        return u;
    }

    private static int partNumber(String v) throws S3Exception {
        try {
            int n = Integer.parseInt(v);
            if (n >= 1 && n <= MAX_PARTS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new S3Exception(S3Error.InvalidArgument, "Part number must be an integer between 1 and " + MAX_PARTS + ", inclusive");
    }

    private void uploadPart(S3Gateway.Call c, S3Model.Bucket bucket) throws IOException {
        int n = partNumber(c.param("partNumber"));
        S3Model.Upload u = upload(c);
        S3Model.Piece piece;
        String etag;
        Map<String, String> sums = Map.of();
        if (c.header("x-amz-copy-source") != null) {
            c.smallBody(0);
            Source src = source(c.header("x-amz-copy-source"));
            S3Model.ObjectEntry from = index.get(src.bucket(), src.key()).orElseThrow(() -> noSuchKey(src.key()));
            checkCopyConditions(c, from);
            long a = 0;
            long b = from.size();
            String range = c.header("x-amz-copy-source-range");
            if (range != null) {
                if (!(ByteRange.parse(range, from.size()) instanceof ByteRange.Slice s) || range.contains(",")) {
                    throw new S3Exception(S3Error.InvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last"
                            + " where first and last are the zero-based offsets of the first and last bytes to copy");
                }
                a = s.from();
                b = s.to();
            }
            if (b - a > MAX_PUT) {
                throw new S3Exception(S3Error.EntityTooLarge, "a part holds at most " + MAX_PUT + " bytes");
            }
            byte[] md5 = new byte[0];
            java.security.MessageDigest d = md5();
            piece = copyRange(from, a, b, !bucket.publicRead(), d);
            md5 = d.digest();
            etag = quote(HexFormat.of().formatHex(md5));
        } else {
            Body body = body(c, MAX_PUT);
            piece = store(body, null, !bucket.publicRead());
            etag = quote(body.stream().md5Hex());
            if (body.algorithm() != null) {
                sums = Map.of(body.algorithm().name(), body.stream().checksumBase64());
            }
        }
        S3Model.Part part = new S3Model.Part(n, piece, etag, clock.millis(), sums);
        List<S3Model.Piece> free;
        try {
            free = index.putPart(u.uploadId(), part);
        } catch (S3Namespace.NoUploadException x) { // aborted or completed while the part streamed in
            pieces.release(piece);
            throw new S3Exception(S3Error.NoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.");
        }
        free.forEach(pieces::release);
        HttpHeaders h = c.exchange().headers().set(HttpHeaderNames.ETAG, etag);
        sums.forEach((alg, v) -> h.set(Checksums.Algorithm.valueOf(alg).headerName(), v));
        if (c.header("x-amz-copy-source") != null) {
            S3Gateway.ok(c.exchange(), S3Xml.copyPartResult(etag, part.lastModifiedMillis()));
        } else {
            c.exchange().empty(HttpResponseStatus.OK, h);
        }
    }

    /** Bytes {@code a..b} of {@code from} stored as a new piece, their MD5 into {@code md5}. */
    private S3Model.Piece copyRange(S3Model.ObjectEntry from, long a, long b, boolean encrypt, java.security.MessageDigest md5) throws IOException {
        java.io.PipedInputStream in = new java.io.PipedInputStream(1 << 20);
        java.io.PipedOutputStream out = new java.io.PipedOutputStream(in);
        var reader = Thread.ofVirtual().start(() -> {
            try (out) {
                pieces.read(from.pieces(), a, b, out);
            } catch (IOException | ObjectException e) {
                // a short stream fails the store below
            }
        });
        try {
            InputStream counted = new java.security.DigestInputStream(in, md5);
            DigestingStream checked = new DigestingStream(counted, b - a, null, null, null, () -> null);
            return pieces.store(checked, b - a, null, encrypt);
        } catch (ObjectException e) {
            throw storeFailed(e);
        } finally {
            reader.interrupt();
        }
    }

    private void complete(S3Gateway.Call c, S3Model.Bucket bucket) throws IOException {
        S3Model.Upload u = upload(c);
        List<S3Xml.CompletedPart> asked = S3Xml.parseCompleteMultipart(c.smallBody(S3Gateway.MAX_XML));
        if (asked.isEmpty()) {
            throw new S3Exception(S3Error.MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema: no parts");
        }
        Map<Integer, S3Model.Part> have = new LinkedHashMap<>();
        for (S3Model.Part p : index.allParts(u.uploadId())) {
            have.put(p.number(), p);
        }
        List<S3Model.Piece> ps = new ArrayList<>();
        java.io.ByteArrayOutputStream md5s = new java.io.ByteArrayOutputStream();
        List<String> sums = new ArrayList<>();
        long size = 0;
        int last = 0;
        for (int i = 0; i < asked.size(); i++) {
            S3Xml.CompletedPart a = asked.get(i);
            if (a.number() <= last) {
                throw new S3Exception(S3Error.InvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number.");
            }
            last = a.number();
            S3Model.Part p = have.get(a.number());
            if (p == null || !etagMatches(a.etag(), p.etag())) {
                throw new S3Exception(S3Error.InvalidPart, "One or more of the specified parts could not be found. The part may not have been"
                        + " uploaded, or the specified entity tag may not match the part's entity tag (part " + a.number() + ")");
            }
            if (i < asked.size() - 1 && p.piece().size() < MIN_PART) {
                throw new S3Exception(S3Error.EntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size: part "
                        + p.number() + " has " + p.piece().size() + " bytes, every part but the last needs " + MIN_PART);
            }
            ps.add(p.piece());
            size += p.piece().size();
            md5s.writeBytes(HexFormat.of().parseHex(unquote(p.etag())));
            if (u.checksumAlgorithm() != null && p.checksums().containsKey(u.checksumAlgorithm())) {
                sums.add(p.checksums().get(u.checksumAlgorithm()));
            }
        }
        if (size > MAX_PUT * 1024) {
            throw new S3Exception(S3Error.EntityTooLarge, "an object holds at most 5 TiB");
        }
        String etag = quote(HexFormat.of().formatHex(md5().digest(md5s.toByteArray())) + "-" + ps.size());
        Map<String, String> checksums = Map.of();
        if (u.checksumAlgorithm() != null && sums.size() == ps.size()) { // S3's checksum of the parts' checksums
            Checksums.Algorithm alg = Checksums.Algorithm.valueOf(u.checksumAlgorithm());
            checksums = Map.of(alg.name(), Checksums.composite(alg, sums));
        }
        S3Model.ObjectEntry e = new S3Model.ObjectEntry(u.key(), ps, size, etag, clock.millis(), u.headers(), u.userMetadata(),
                checksums, !bucket.publicRead());
        List<S3Model.Piece> free;
        try {
            free = index.completeUpload(u.uploadId(), e);
        } catch (S3Namespace.NoUploadException x) {
            throw new S3Exception(S3Error.NoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.");
        }
        free.forEach(pieces::release);
        HttpHeaders h = c.exchange().headers();
        c.exchange().xml(HttpResponseStatus.OK, S3Xml.completeMultipart("/" + c.bucket() + "/" + c.key(), c.bucket(), c.key(), etag, checksums), h);
    }

    private void abort(S3Gateway.Call c) throws IOException {
        c.smallBody(0);
        S3Model.Upload u = upload(c);
        index.abortUpload(u.uploadId()).forEach(pieces::release);
        c.exchange().empty(HttpResponseStatus.NO_CONTENT, c.exchange().headers());
    }

    private void listParts(S3Gateway.Call c) throws S3Exception {
        S3Model.Upload u = upload(c);
        int after = c.param("part-number-marker") == null ? 0 : intParam(c.param("part-number-marker"), "part-number-marker");
        int max = c.param("max-parts") == null ? 1000 : Math.min(1000, intParam(c.param("max-parts"), "max-parts"));
        List<S3Model.Part> page = index.parts(u.uploadId(), after, max + 1);
        boolean truncated = page.size() > max;
        if (truncated) {
            page = page.subList(0, max);
        }
        int next = page.isEmpty() ? after : page.get(page.size() - 1).number();
        S3Gateway.ok(c.exchange(), S3Xml.listParts(u, page, after, next, max, truncated));
    }

    void listUploads(S3Gateway.Call c) throws S3Exception {
        String prefix = c.param("prefix") == null ? "" : c.param("prefix");
        String keyMarker = c.param("key-marker");
        String idMarker = c.param("upload-id-marker");
        if (idMarker != null && idMarker.indexOf('\0') >= 0) {
            throw new S3Exception(S3Error.InvalidArgument, "upload-id-marker must not hold U+0000");
        }
        int max = c.param("max-uploads") == null ? 1000 : Math.min(1000, intParam(c.param("max-uploads"), "max-uploads"));
        List<S3Model.Upload> page = index.uploads(c.bucket(), prefix, keyMarker, idMarker, max + 1);
        boolean truncated = page.size() > max;
        if (truncated) {
            page = page.subList(0, max);
        }
        S3Model.Upload lastOne = page.isEmpty() ? null : page.get(page.size() - 1);
        S3Gateway.ok(c.exchange(), S3Xml.listMultipartUploads(c.bucket(), prefix, keyMarker, idMarker,
                truncated ? lastOne.key() : null, truncated ? lastOne.uploadId() : null, max, truncated, page));
    }

    private static int intParam(String v, String name) throws S3Exception {
        try {
            int n = Integer.parseInt(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new S3Exception(S3Error.InvalidArgument, name + " must be a non-negative integer");
    }

    // ---- helpers ----

    private static Map<String, String> storedHeaders(HttpHeaders h) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : STORED_HEADERS) {
            String v = h.get(name);
            if (v != null) {
                if (name.equals("content-encoding")) { // aws-chunked is the transfer's, never the object's
                    v = java.util.Arrays.stream(v.split(",")).map(String::strip).filter(s -> !s.equalsIgnoreCase("aws-chunked"))
                            .collect(java.util.stream.Collectors.joining(","));
                    if (v.isEmpty()) {
                        continue;
                    }
                }
                out.put(name, v);
            }
        }
        return out;
    }

    private static Map<String, String> userMetadata(HttpHeaders h) throws S3Exception {
        Map<String, String> out = new LinkedHashMap<>();
        int bytes = 0;
        for (Map.Entry<String, String> e : h) {
            String n = e.getKey().toLowerCase(Locale.ROOT);
            if (n.startsWith("x-amz-meta-")) {
                String k = n.substring("x-amz-meta-".length());
                out.merge(k, e.getValue(), (a, b) -> a + "," + b);
                bytes += k.length() + e.getValue().length();
            }
        }
        if (bytes > MAX_META) {
            throw new S3Exception(S3Error.MetadataTooLarge, "Your metadata headers exceed the maximum allowed metadata size (" + MAX_META + " bytes)");
        }
        return out;
    }

    private static long date(String v) {
        return v == null ? -1 : S3Text.parseHttpDate(v);
    }

    static boolean etagMatches(String header, String etag) {
        for (String t : header.split(",")) {
            String s = t.strip();
            if (s.equals("*") || unquote(s).equals(unquote(etag))) {
                return true;
            }
        }
        return false;
    }

    static String quote(String s) {
        return "\"" + s + "\"";
    }

    static String unquote(String s) {
        String t = s.startsWith("W/") ? s.substring(2) : s;
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.substring(1, t.length() - 1) : t;
    }

    private static java.security.MessageDigest md5() {
        try {
            return java.security.MessageDigest.getInstance("MD5");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is part of every JDK", e);
        }
    }

    static S3Exception noSuchKey(String key) {
        return new S3Exception(S3Error.NoSuchKey, "The specified key does not exist.").withResource(key);
    }
}
