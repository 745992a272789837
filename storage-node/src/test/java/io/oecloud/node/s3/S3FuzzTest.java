package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.oecloud.node.object.MemoryObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The gateway's HTTP surface fuzzed on a real socket, with a fixed seed, bounded in cases and in
 * time. Each case starts from a valid request (signed with the test's key: reads, listings, PUTs
 * with plain and aws-chunked bodies, DeleteObjects, multipart, a presigned GET) or a hand-made
 * unsigned one, and mutates its request line, query, headers, body or raw bytes. Every case must
 * get a well-formed answer (a success, or 400 to 503 but never 500, an S3 XML error when it has a
 * body) or a clean close, within a deadline; a valid signed read succeeds after it; and at the end
 * no forged or unsigned request has changed the namespace and every body place is back.
 *
 * <p>Signed requests write only into {@code fuzz-rw} and never create or delete buckets, so the
 * bucket {@code fuzz} and the bucket list may change only through a forged request: the check.
 * A failure names the case's number and its request; the seed replays it.
 */
class S3FuzzTest {
    /** Fixed; {@code -Ds3fuzz.seed=N} explores another sequence (a failure names its case numbers under that seed). */
    private static final long SEED = Long.getLong("s3fuzz.seed", 0x5333_4675_7A7AL);
    private static final int MAX_CASES = 700;
    private static final Duration BUDGET = Duration.ofSeconds(15);
    /** No case may take longer: the gateway's own deadlines (head, body silence) are 1 s here. */
    private static final int CASE_DEADLINE_MILLIS = 4000;
    /** Cases left to stall for real (a body or head that never ends, the connection left open), each costing ~1 s. */
    private static final int REAL_STALLS = 3;
    private static final String REGION = "us-east-1";
    private static final byte[] OBJ = "hello fuzz".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private S3Server server;
    private S3Keys.Key key;
    private int port;
    private S3Client s3;
    private String uploadId; // in fuzz-rw, which signed requests may change
    private String heldUpload; // in fuzz, which only a forged request could end

    @BeforeEach
    void start() throws Exception {
        List<S3Keys.Key> printed = new ArrayList<>();
        server = S3Server.start(S3Server.Config.defaults(new InetSocketAddress("127.0.0.1", 0)).withBodySilence(Duration.ofSeconds(1)),
                dir, new MemoryObjectStore(), null, printed::add);
        key = printed.getFirst();
        port = server.address().getPort();
        s3 = S3Client.builder().endpointOverride(URI.create("http://127.0.0.1:" + port)).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secret())))
                .httpClient(UrlConnectionHttpClient.create()).build();
        s3.createBucket(b -> b.bucket("fuzz"));
        s3.createBucket(b -> b.bucket("fuzz-rw"));
        s3.putObject(b -> b.bucket("fuzz").key("obj"), RequestBody.fromBytes(OBJ));
        s3.putObject(b -> b.bucket("fuzz").key("dir/a b+c"), RequestBody.fromString("second"));
        uploadId = s3.createMultipartUpload(b -> b.bucket("fuzz-rw").key("mp")).uploadId();
        heldUpload = s3.createMultipartUpload(b -> b.bucket("fuzz").key("held")).uploadId();
    }

    @AfterEach
    void stop() {
        s3.close();
        server.close();
    }

    // ---- the requests ----

    /** A request about to be sent; mutations change any of it. */
    private static final class Draft {
        String method;
        final String signedMethod;
        String target;
        String version = "HTTP/1.1";
        final List<String[]> headers = new ArrayList<>();
        byte[] body = new byte[0];
        boolean forged; // unsigned, or its signature or scope broken: must not succeed
        boolean incomplete; // the gateway may wait for more: the client half-closes after sending
        final List<String> mutations = new ArrayList<>();

        Draft(String method, String target) {
            this.method = method;
            this.signedMethod = method;
            this.target = target;
        }

        String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name) && h[1] != null) {
                    return h[1];
                }
            }
            return null;
        }

        void set(String name, String value) {
            headers.removeIf(h -> h[0].equalsIgnoreCase(name));
            if (value != null) {
                headers.add(new String[] {name, value});
            }
        }

        byte[] render() {
            StringBuilder b = new StringBuilder(method).append(' ').append(target).append(' ').append(version).append("\r\n");
            for (String[] h : headers) { // a null value: a raw line
                b.append(h[0]).append(h[1] == null ? "" : ": " + h[1]).append("\r\n");
            }
            byte[] head = b.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
            byte[] all = java.util.Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            return all;
        }
    }

    private String host() {
        return "127.0.0.1:" + port;
    }

    /** {@code method path?query} signed in its Authorization header for {@code body} ({@code payload}: its hash, or another mode). */
    private Draft signed(String method, String pathAndQuery, byte[] body, String payload, Map<String, String> signedHeaders) {
        URI uri = URI.create("http://" + host() + pathAndQuery);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        S3Signer.sign(b, method, uri, signedHeaders, key, REGION, Instant.now(), payload);
        Draft d = new Draft(method, pathAndQuery);
        d.set("Host", host());
        b.method(method, HttpRequest.BodyPublishers.noBody()).build().headers().map().forEach((k, vs) -> d.set(k, vs.getFirst()));
        d.body = body;
        if (body.length > 0 || method.equals("PUT") || method.equals("POST")) {
            d.set("Content-Length", String.valueOf(body.length));
        }
        d.set("Connection", "close");
        return d;
    }

    private Draft signed(String method, String pathAndQuery, byte[] body) {
        return signed(method, pathAndQuery, body, SigV4.hex(SigV4.sha256(body)), Map.of());
    }

    /** A PUT whose body is aws-chunked, every chunk signed along the chain from the request's signature. */
    private Draft chunkedPut(String path, byte[] data, int chunk, Random r) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("content-encoding", "aws-chunked");
        h.put("x-amz-decoded-content-length", String.valueOf(data.length));
        Draft d = signed("PUT", path, new byte[0], S3Auth.STREAMING_SIGNED, h);
        String auth = d.header("Authorization");
        String seed = auth.substring(auth.indexOf("Signature=") + "Signature=".length());
        String amzDate = d.header("x-amz-date");
        ChunkSigner signer = new ChunkSigner(SigV4.signingKey(key.secret(), new SigV4.Scope(amzDate.substring(0, 8), REGION, "s3")),
                amzDate, new SigV4.Scope(amzDate.substring(0, 8), REGION, "s3"), seed);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int off = 0, n = -1; n != 0; off += n) { // the last chunk is empty
            n = Math.min(chunk, data.length - off);
            byte[] piece = java.util.Arrays.copyOfRange(data, off, off + n);
            out.writeBytes((Integer.toHexString(n) + ";chunk-signature=" + signer.signChunk(SigV4.sha256(piece)) + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(piece);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        d.body = out.toByteArray();
        d.set("Content-Length", String.valueOf(d.body.length));
        return d;
    }

    /** A GET of {@code path} presigned in its query (UNSIGNED-PAYLOAD, only host signed). */
    private Draft presigned(String path, String expires) {
        String amzDate = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC)
                .format(Instant.now());
        SigV4.Scope scope = new SigV4.Scope(amzDate.substring(0, 8), REGION, "s3");
        List<Map.Entry<String, String>> q = List.of(Map.entry("X-Amz-Algorithm", SigV4.ALGORITHM),
                Map.entry("X-Amz-Credential", key.accessKeyId() + "/" + scope), Map.entry("X-Amz-Date", amzDate),
                Map.entry("X-Amz-Expires", expires), Map.entry("X-Amz-SignedHeaders", "host"));
        String sig = SigV4.signature(key.secret(), scope, SigV4.stringToSign(amzDate, scope,
                SigV4.canonicalRequest(new SigV4.Request("GET", path, q, Map.of("host", host()), SigV4.UNSIGNED_PAYLOAD))));
        StringBuilder t = new StringBuilder(path).append('?');
        for (Map.Entry<String, String> e : q) {
            t.append(e.getKey()).append('=').append(SigV4.encode(e.getValue())).append('&');
        }
        Draft d = new Draft("GET", t.append("X-Amz-Signature=").append(sig).toString());
        d.set("Host", host());
        d.set("Connection", "close");
        return d;
    }

    private static String md5(byte[] b) {
        return Base64.getEncoder().encodeToString(Checksums.messageDigest("MD5").digest(b));
    }

    private static String deleteXml(List<String> keys) {
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        keys.forEach(k -> b.append("<Object><Key>").append(k).append("</Key></Object>"));
        return b.append("<Quiet>false</Quiet></Delete>").toString();
    }

    private static String completeXml(int parts) {
        StringBuilder b = new StringBuilder("<CompleteMultipartUpload>");
        for (int i = 1; i <= parts; i++) {
            b.append("<Part><PartNumber>").append(i).append("</PartNumber><ETag>\"0123456789abcdef0123456789abcdef\"</ETag></Part>");
        }
        return b.append("</CompleteMultipartUpload>").toString();
    }

    /** XML made wrong: what S3Xml must refuse with MalformedXML (or take, when it is still valid). */
    private static byte[] breakXml(String xml, Random r, Draft d) {
        int pick = r.nextInt(12);
        d.mutations.add("xml#" + pick);
        String s = switch (pick) {
            case 0 -> xml.substring(0, r.nextInt(xml.length())); // truncated
            case 1 -> xml.replaceFirst("</Key>", "").replaceFirst("</Object>", "</Key></Object>"); // wrong nesting
            case 2 -> "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + xml.replace("<Key>", "<Key>&x;");
            case 3 -> "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                    + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>" + xml.replace("<Key>", "<Key>&c;");
            case 4 -> "<Nope>" + xml + "</Nope>";
            case 5 -> "<Delete>" + "<Object>".repeat(20_000) + "</Delete>"; // deep and unclosed
            case 6 -> deleteXml(java.util.Collections.nCopies(1001, "k")); // over DeleteObjects' 1000 keys
            case 7 -> "<Delete>" + "<Object><Key>k</Key></Object>".repeat(80_000) + "</Delete>"; // over the 2 MiB cap
            case 8 -> xml.replace("<PartNumber>1<", "<PartNumber>99999999999999999999<").replace("<Key>", "<Key>\u0001");
            case 9 -> new String(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, StandardCharsets.ISO_8859_1) + xml.replace(">", "> ");
            case 10 -> xml.replace("<Key>", "<Key><![CDATA[").replace("</Key>", "]]></Key>").replace("<PartNumber>", "<PartNumber>-");
            default -> "";
        };
        return (pick == 9 ? s.getBytes(StandardCharsets.ISO_8859_1) : s.getBytes(StandardCharsets.UTF_8));
    }

    /** Values for a parameter the operation reads. */
    private static final String[] VALUES = {"", "%00", "0", "-1", "10001", "abc", "99999999999999999999", "1.0", "%ff", "a%00b", "+1",
        " 1", "%20", "x".repeat(3000)};
    private static final String[] RANGES = {"bytes=0-4", "bytes=-3", "bytes=5-", "bytes=9-1", "bytes=99-", "bytes=0-0,2-3", "bytes=-0",
        "bytes=" + "1-2,".repeat(500) + "3-4", "bytes=99999999999999999999-", "bytes=--1", "bytes=1-99999999999999999999", "bytes 0-1",
        "items=0-1", "bytes=", "bytes=\u00ff-"};

    /** An unsigned aws-chunked body ({@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}) of "hello" and a CRC32 trailer, often broken. */
    private static byte[] breakChunks(Random r, Draft d) {
        String good = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        int pick = r.nextInt(12);
        d.mutations.add("chunks#" + pick);
        String s = switch (pick) {
            case 0 -> good;
            case 1 -> good.replace("5\r\n", "zz\r\n");
            case 2 -> good.replace("5\r\n", "ffffffffffffffffffff\r\n");
            case 3 -> good.replace("5\r\n", "5;" + "e".repeat(5000) + "\r\n");
            case 4 -> good.replace("NhCmhg==", "!!!!");
            case 5 -> good.replace("x-amz-checksum-crc32:NhCmhg==\r\n", ("x-amz-t" + "x".repeat(20) + ":v\r\n").repeat(40));
            case 6 -> good.substring(0, r.nextInt(good.length()));
            case 7 -> good.replace("\r\n", "\n");
            case 8 -> good.replace("5\r\nhello", "3\r\nhello");
            case 9 -> good.replace("0\r\n", "-0\r\n");
            case 10 -> good + "GET / HTTP/1.1\r\n\r\n";
            default -> good.replace("x-amz-checksum-crc32:", "x-amz-checksum-crc32");
        };
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** One valid (or hand-made unsigned) request, the start of a case. */
    private Draft base(Random r, int n) {
        int pick = r.nextInt(16);
        Draft d = switch (pick) {
            case 0 -> signed("GET", "/fuzz/obj", new byte[0]);
            case 1 -> signed("HEAD", "/fuzz/dir/a%20b%2Bc", new byte[0]);
            case 2 -> signed("GET", "/fuzz?list-type=2&max-keys=1&prefix=d&delimiter=%2F", new byte[0]);
            case 3 -> signed("GET", "/", new byte[0]);
            case 4 -> {
                byte[] body = new byte[r.nextInt(3000)];
                r.nextBytes(body);
                yield signed("PUT", "/fuzz-rw/k" + n, body);
            }
            case 5 -> {
                byte[] body = new byte[1 + r.nextInt(5000)];
                r.nextBytes(body);
                yield chunkedPut("/fuzz-rw/c" + n, body, 1 + r.nextInt(2048), r);
            }
            case 6 -> {
                Draft x = new Draft("", "");
                byte[] xml = r.nextBoolean() ? deleteXml(List.of("k1", "k" + n)).getBytes(StandardCharsets.UTF_8)
                        : breakXml(deleteXml(List.of("k1", "a&amp;b")), r, x);
                Draft s = r.nextBoolean() ? signed("POST", "/fuzz-rw?delete", xml)
                        : signed("POST", "/fuzz-rw?delete", xml, SigV4.UNSIGNED_PAYLOAD, Map.of());
                s.set("Content-MD5", md5(xml));
                s.mutations.addAll(x.mutations);
                yield s;
            }
            case 7 -> signed("POST", "/fuzz-rw/mp" + n + "?uploads", new byte[0]);
            case 8 -> signed("PUT", "/fuzz-rw/mp?partNumber=" + (1 + r.nextInt(3)) + "&uploadId=" + uploadId, new byte[] {1, 2, 3});
            case 9 -> {
                Draft x = new Draft("", "");
                byte[] xml = r.nextBoolean() ? completeXml(1 + r.nextInt(3)).getBytes(StandardCharsets.UTF_8)
                        : breakXml(r.nextInt(8) == 0 ? completeXml(10_001) : completeXml(2), r, x);
                Draft s = signed("POST", "/fuzz-rw/mp?uploadId=" + uploadId, xml);
                s.mutations.addAll(x.mutations);
                yield s;
            }
            case 10 -> signed("GET", "/fuzz-rw/mp?uploadId=" + uploadId + "&max-parts=2", new byte[0]);
            case 11 -> signed("GET", "/fuzz?uploads", new byte[0]);
            case 12 -> presigned("/fuzz/obj", "60");
            default -> { // hand-made, unsigned: everything here must be refused
                String[][] unsigned = {{"GET", "/fuzz/obj"}, {"PUT", "/fuzz/evil"}, {"DELETE", "/fuzz/obj"}, {"PUT", "/evilbucket"},
                        {"DELETE", "/fuzz"}, {"POST", "/fuzz?delete"}, {"POST", "/fuzz/obj?uploads"}, {"GET", "/"},
                    {"DELETE", "/fuzz/held?uploadId=" + heldUpload}, {"POST", "/fuzz/held?uploadId=" + heldUpload}};
                String[] u = unsigned[r.nextInt(unsigned.length)];
                Draft x = new Draft(u[0], u[1]);
                x.set("Host", host());
                x.set("Connection", "close");
                x.body = u[0].equals("GET") || u[0].equals("DELETE") ? new byte[0] : deleteXml(List.of("obj")).getBytes(StandardCharsets.UTF_8);
                if (x.body.length > 0) {
                    x.set("Content-Length", String.valueOf(x.body.length));
                }
                x.forged = true;
                yield x;
            }
        };
        d.mutations.addFirst("base#" + pick);
        return d;
    }

    /**
     * A request made wrong first and signed after, so the signature holds and the garbage reaches the
     * operations. Only in {@code fuzz-rw}: a key-level request, or a bucket-level one whose method stays.
     */
    private Draft signedGarbage(Random r, int n) {
        String[][] starts = {{"PUT", "/fuzz-rw/g" + n, ""}, {"GET", "/fuzz-rw/mp", "uploadId=" + uploadId}, {"GET", "/fuzz-rw", "list-type=2"},
            {"PUT", "/fuzz-rw/mp", "partNumber=2&uploadId=" + uploadId}, {"POST", "/fuzz-rw/mp", "uploadId=" + uploadId},
            {"POST", "/fuzz-rw", "delete"}, {"POST", "/fuzz-rw/u" + n, "uploads"}, {"GET", "/fuzz-rw", "uploads"},
            {"DELETE", "/fuzz-rw/g" + n, ""}, {"HEAD", "/fuzz-rw/g" + r.nextInt(n + 1), ""}, {"PUT", "/fuzz-rw/cp" + n, ""},
            {"GET", "/fuzz/obj", ""}, {"PUT", "/fuzz-rw/t" + n, ""}};
        String[] st = starts[r.nextInt(starts.length)];
        boolean keyLevel = st[1].indexOf('/', 1) > 0;
        Draft d = new Draft(st[0], st[1] + (st[2].isEmpty() ? "" : "?" + st[2]));
        d.mutations.add("signed-garbage:" + st[0] + " " + d.target);
        d.set("Host", host());
        d.set("Connection", "close");
        if (st[1].startsWith("/fuzz-rw/cp")) {
            d.set("x-amz-copy-source", r.nextBoolean() ? "fuzz/obj" : "/fuzz/dir/a%20b%2Bc");
        }
        if (st[0].equals("POST") && st[2].startsWith("uploadId")) {
            d.body = breakXml(completeXml(1 + r.nextInt(3)), r, d);
        } else if (st[2].equals("delete")) {
            d.body = breakXml(deleteXml(List.of("k1", "g" + r.nextInt(n + 1))), r, d);
            d.set("Content-MD5", md5(d.body));
        } else if (st[1].startsWith("/fuzz-rw/t")) { // an unsigned aws-chunked body with a checksum trailer, made wrong
            d.body = breakChunks(r, d);
            d.set("Content-Encoding", "aws-chunked");
            d.set("x-amz-trailer", r.nextBoolean() ? "x-amz-checksum-crc32" : pick(r, new String[] {"x-amz-checksum-sha1", "", "x-amz-nope"}));
            d.set("x-amz-decoded-content-length", r.nextInt(4) == 0 ? pick(r, LENGTHS) : "5");
        } else if (st[0].equals("GET")) {
            d.set("Range", pick(r, RANGES));
        } else if (st[0].equals("PUT")) {
            d.body = new byte[r.nextInt(2000)];
            r.nextBytes(d.body);
        }
        if (d.body.length > 0 || st[0].equals("PUT") || st[0].equals("POST")) {
            d.set("Content-Length", String.valueOf(d.body.length));
        }
        for (int i = r.nextInt(3); i >= 0; i--) {
            int m = r.nextInt(keyLevel ? 10 : 9);
            d.mutations.add("g#" + m);
            switch (m) {
                case 0 -> d.target += (d.target.contains("?") ? "&" : "?") + pick(r, PARAMS);
                case 1 -> { String[] h = ODD_HEADERS[r.nextInt(ODD_HEADERS.length)]; if (!h[0].equals("Host")) { d.set(h[0], h[1]); } }
                case 2 -> { String[] h = ODD_HEADERS[r.nextInt(ODD_HEADERS.length)]; if (!h[0].equals("Host")) { d.headers.add(new String[] {h[0], h[1]}); } }
                case 3 -> d.set("Content-Length", String.valueOf(Math.max(0, d.body.length + r.nextInt(3) - 1)));
                case 4 -> d.set("x-amz-meta-" + "m".repeat(1 + r.nextInt(40)), "v".repeat(r.nextInt(2500)));
                case 5 -> d.version = r.nextBoolean() ? "HTTP/1.0" : "HTTP/1.1";
                case 6 -> d.target += (d.target.contains("?") ? "&" : "?") + "max-keys=" + pick(r, LENGTHS) + "&continuation-token=" + pick(r, PATH_BITS);
                case 7 -> d.target = d.target.replaceFirst("(uploadId|partNumber)=[^&]*", "$1=" + pick(r, VALUES));
                case 8 -> { // in the bucket's name, for a read only (a write may not reach the bucket fuzz)
                    if (d.method.equals("GET") || d.method.equals("HEAD")) {
                        d.target = "/fu" + pick(r, PATH_BITS) + d.target.substring(3);
                    }
                }
                default -> { // in the key only: the bucket stays as it was
                    int q = d.target.indexOf('?');
                    int from = d.target.indexOf('/', 1) + 1;
                    int room = (q < 0 ? d.target.length() : q) - from + 1;
                    if (from > 0 && room > 0) {
                        int at = from + r.nextInt(room);
                        d.target = d.target.substring(0, at) + pick(r, PATH_BITS) + d.target.substring(at);
                    }
                }
            }
        }
        String payload = st[1].startsWith("/fuzz-rw/t") ? S3Auth.STREAMING_UNSIGNED_TRAILER
                : r.nextInt(4) == 0 ? SigV4.UNSIGNED_PAYLOAD : SigV4.hex(SigV4.sha256(d.body));
        if (d.header("Content-Length") != null && !d.header("Content-Length").equals(String.valueOf(d.body.length))) {
            d.incomplete = true;
        }
        signAsSent(d, payload);
        return d;
    }

    /** Signs {@code d} as the gateway will see it: the path as sent, the query as Netty decodes it, host and the x-amz headers. */
    private void signAsSent(Draft d, String payload) {
        String amzDate = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC)
                .format(Instant.now());
        d.set("x-amz-date", amzDate);
        d.set("x-amz-content-sha256", payload);
        int q = d.target.indexOf('?');
        List<Map.Entry<String, String>> query = new ArrayList<>();
        try {
            new io.netty.handler.codec.http.QueryStringDecoder(d.target, StandardCharsets.UTF_8, true, 1024, true).parameters()
                    .forEach((k, vs) -> vs.forEach(v -> query.add(Map.entry(k, v))));
        } catch (IllegalArgumentException e) {
            // the gateway refuses such a query before it looks at the signature
        }
        Map<String, String> signed = new TreeMap<>();
        signed.put("host", d.header("Host"));
        signed.put("x-amz-date", amzDate);
        signed.put("x-amz-content-sha256", payload);
        SigV4.Scope scope = new SigV4.Scope(amzDate.substring(0, 8), REGION, "s3");
        String canonical = SigV4.canonicalRequest(new SigV4.Request(d.method, q < 0 ? d.target : d.target.substring(0, q), query, signed, payload));
        d.set("Authorization", SigV4.ALGORITHM + " Credential=" + key.accessKeyId() + "/" + scope
                + ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + SigV4.signature(key.secret(), scope,
                SigV4.stringToSign(amzDate, scope, canonical)));
    }

    // ---- the mutations ----

    private static final String[] METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "FOO",
        "get", "PROPFIND", "G ET", ""};
    private static final String[] VERSIONS = {"HTTP/1.0", "HTTP/2.0", "HTTP/1.1x", "HTTX/1.1", "", "HTTP/9.9", "http/1.1"};
    private static final String[] PATH_BITS = {"%zz", "%", "%2", "%c0%af", "%00", "/..", "//", "/../fuzz", "\u00e9", "%ff%fe", "%0a",
        "%7f", " ", "?", "#frag", ";x=1", "+", "%2F", "\\"};
    private static final String[] PARAMS = {"uploadId=", "uploadId=%zz", "uploadId=" + "u".repeat(5000), "uploadId=../../x",
        "partNumber=0", "partNumber=-1", "partNumber=10001", "partNumber=abc", "partNumber=99999999999999999999", "partNumber=1.5",
        "max-keys=-1", "max-keys=abc", "max-keys=99999999999999999999", "max-keys=", "max-keys=0", "max-parts=-5", "max-uploads=x",
        "part-number-marker=abc", "list-type=3", "list-type=", "continuation-token=%25%25%25", "continuation-token=!!!",
        "continuation-token=" + "A".repeat(6000), "start-after=" + "s".repeat(3000), "delimiter=" + "d".repeat(3000),
        "encoding-type=foo", "uploads", "delete", "acl", "tagging", "versionId=1", "prefix=%ff", "marker=%00", "a=1&a=2",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Expires=99999999999999999999", "X-Amz-Signature=00", "AWSAccessKeyId=x",
        "=", "&&&", "%", "key%zz=1", "upload-id-marker=%00&key-marker=a", "upload-id-marker=&key-marker=a", "key-marker=%00", "uploadId=" + "%41".repeat(2000), "x-id=PutObject", "location", "policy", "cors"};

    private static final String[] AUTHS = {"AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256 Credential=", "AWS AKIAX:c2ln",
        "Bearer abc", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=00",
        "AWS4-HMAC-SHA256 Credential=K/20261207/us-east-1/s3/aws4_request, SignedHeaders=, Signature=",
        "AWS4-HMAC-SHA256 ====,,,,", "\u00ff\u00fe", "AWS4-HMAC-SHA256 Credential=" + "x/".repeat(3000)};
    private static final String[] PAYLOADS = {"", "UNSIGNED-PAYLOAD", "STREAMING-FOO", "g".repeat(64), "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", S3Auth.STREAMING_UNSIGNED_TRAILER, S3Auth.STREAMING_SIGNED_TRAILER,
        "STREAMING-AWS4-HMAC-SHA256-EVENTS", "0".repeat(8000)};
    private static final String[] DATES = {"", "garbage", "20261340T999999Z", "19700101T000000Z", "99991231T235959Z", "20261207T1200Z",
        "20261207t120000z", "2".repeat(5000)};
    private static final String[] LENGTHS = {"-1", "abc", "1e3", "99999999999999999999", "+5", " 3", "0x10", "", "1,2"};
    private static final String[][] ODD_HEADERS = {
        {"Range", "bytes=-"}, {"Range", "bytes=5-1"}, {"Range", "bytes=" + "0-0,".repeat(800) + "1-1"}, {"Range", "bytes=99999999999999999999-"},
        {"Range", "lines=1-2"}, {"If-Match", "\"" + "x".repeat(500)}, {"If-None-Match", "*"}, {"If-Modified-Since", "yesterday"},
        {"If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"x-amz-copy-source", "/"}, {"x-amz-copy-source", "%zz"}, {"x-amz-copy-source", "fuzz"}, {"x-amz-copy-source", "fuzz/obj?versionId=x"},
        {"x-amz-copy-source", "fuzz/" + "o".repeat(5000)}, {"x-amz-copy-source", "/fuzz/obj"}, {"x-amz-copy-source", "fu%00zz/obj"}, {"x-amz-copy-source", "fuzz/ob%00j"},
        {"x-amz-copy-source", "%2Ffuzz%2Fobj"}, {"x-amz-copy-source", "fuzz/obj?partNumber=abc"}, {"x-amz-copy-source-range", "bytes=9-1"},
        {"x-amz-checksum-crc32", "!!!"}, {"x-amz-checksum-sha256", "AAAA"}, {"x-amz-sdk-checksum-algorithm", "FOO"},
        {"x-amz-checksum-algorithm", "MD4"}, {"x-amz-trailer", "x-amz-checksum-crc32,,x-amz-foo"}, {"Content-MD5", "not base64"},
        {"Content-MD5", "AAAA"}, {"x-amz-meta-big", "m".repeat(3000)}, {"Content-Type", "\u0001/\u0002"}, {"x-amz-acl", "public-read-write"},
        {"x-amz-metadata-directive", "SOMETIMES"}, {"Content-Encoding", "aws-chunked"}, {"x-amz-decoded-content-length", "-7"},
        {"x-amz-decoded-content-length", "zz"}, {"Expect", "100-continue"}, {"Expect", "200-ok"}, {"Transfer-Encoding", "gzip"},
        {"Transfer-Encoding", "identity"}, {"Host", "fuzz.localhost"}, {"Host", "[::1"}, {"Host", "127.0.0.1:notaport"},
        {"Host", "h".repeat(9000)}, {"x-amz-date", "20261207T120000Z"}, {"Date", "Mon, 07 Dec 2026 12:00:00 GMT"},
        {"x-amz-security-token", "tok"}, {"x-amz-expected-bucket-owner", "someone"}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};

    private static String pick(Random r, String[] a) {
        return a[r.nextInt(a.length)];
    }

    /** Marks a mutation that broke what the signature covers: the request may no longer succeed. */
    private static void forge(Draft d) {
        d.forged = true;
    }

    /** {@link #forge} when the signature is in the Authorization header (a presigned URL does not sign headers but host). */
    private static void forgeIfHeaderSigned(Draft d, boolean headerSigned) {
        if (headerSigned) {
            forge(d);
        }
    }

    /** One random mutation of {@code d}. */
    private void mutate(Draft d, Random r) {
        int m = r.nextInt(24);
        d.mutations.add("m#" + m);
        boolean headerSigned = d.header("Authorization") != null;
        switch (m) {
            case 0 -> d.method = pick(r, METHODS); // forged when it is no longer the signed one (see judge)
            case 1 -> d.version = pick(r, VERSIONS);
            case 2 -> { // a bit in the path
                int q = d.target.indexOf('?');
                int end = q < 0 ? d.target.length() : q;
                int at = 1 + r.nextInt(Math.max(1, end)); // after the first '/': a space before it is only more whitespace
                d.target = d.target.substring(0, Math.min(at, d.target.length())) + pick(r, PATH_BITS) + d.target.substring(Math.min(at, d.target.length()));
                forge(d);
            }
            case 3 -> { d.target = "/fuzz/" + "k".repeat(r.nextBoolean() ? 1100 : 9000); forge(d); }
            case 4 -> { // a query parameter more (an empty name may be dropped, and the signature still hold)
                String p = pick(r, PARAMS);
                d.target += (d.target.contains("?") ? "&" : "?") + p;
                if (Character.isLetter(p.charAt(0))) {
                    forge(d);
                }
            }
            case 5 -> { // many parameters
                d.target += (d.target.contains("?") ? "&" : "?") + "p=1&".repeat(200 + r.nextInt(1500));
                forge(d);
            }
            case 6 -> { d.target = pick(r, new String[] {"*", "http://" + host() + "/fuzz/obj", "fuzz/obj", "", "/%"}); forge(d); }
            case 7 -> { d.set("Authorization", null); forgeIfHeaderSigned(d, headerSigned); }
            case 8 -> { // a flipped character in the signature (the last Signature= counts)
                String a = d.header("Authorization");
                int sig = a == null ? -1 : a.lastIndexOf("Signature=") + "Signature=".length();
                if (sig >= "Signature=".length() && sig < a.length()) {
                    int at = sig + r.nextInt(a.length() - sig);
                    char c = a.charAt(at);
                    d.set("Authorization", a.substring(0, at) + (c == '0' ? '1' : '0') + a.substring(at + 1));
                    forge(d);
                } else if (a == null && d.target.contains("X-Amz-Signature=")) {
                    d.target = d.target.replace("X-Amz-Signature=", "X-Amz-Signature=0");
                    forge(d);
                }
            }
            case 9 -> { d.set("Authorization", pick(r, AUTHS)); forge(d); }
            case 10 -> { // the credential's scope
                String a = d.header("Authorization");
                if (a != null) {
                    String[] swaps = {"us-east-1/s3", "eu-west-9/s3", "eu-west-9/s3/aws4_request", "us-east-1/ec2/aws4_request", "/s3/", "AKIA"};
                    String s = pick(r, swaps);
                    d.set("Authorization", a.replace(key.accessKeyId() + "/", s.equals("AKIA") ? "AKIANOSUCHKEY/" : key.accessKeyId() + "/")
                            .replace("us-east-1/s3/aws4_request", s.equals("AKIA") ? "us-east-1/s3/aws4_request" : s));
                    forge(d);
                }
            }
            case 11 -> { // the signed header list
                String a = d.header("Authorization");
                if (a != null) {
                    String[] lists = {"SignedHeaders=x-amz-date", "SignedHeaders=host;x-nope", "SignedHeaders=", "SignedHeaders=;;;"};
                    d.set("Authorization", a.replaceFirst("SignedHeaders=[^,]*", pick(r, lists)));
                    forge(d);
                }
            }
            case 12 -> { d.set("x-amz-date", r.nextInt(4) == 0 ? null : pick(r, DATES)); forgeIfHeaderSigned(d, headerSigned); }
            case 13 -> { d.set("x-amz-content-sha256", r.nextInt(5) == 0 ? null : pick(r, PAYLOADS)); forgeIfHeaderSigned(d, headerSigned); }
            case 14 -> { // the body longer than declared: the rest would be a pipelined request
                if (d.body.length > 0) {
                    d.set("Content-Length", String.valueOf(r.nextInt(d.body.length)));
                } else {
                    d.body = "GET /fuzz/obj HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                }
            }
            case 15 -> { // the body shorter than declared
                d.set("Content-Length", String.valueOf(d.body.length + 1 + r.nextInt(100_000)));
                d.incomplete = true;
            }
            case 16 -> {
                d.set("Content-Length", pick(r, LENGTHS));
                if (r.nextBoolean()) {
                    d.headers.add(new String[] {"Content-Length", String.valueOf(d.body.length + 1)});
                }
                d.incomplete = true;
            }
            case 17 -> { // chunked framing, often broken
                d.set("Transfer-Encoding", r.nextBoolean() ? "chunked" : "chunked, gzip");
                if (r.nextBoolean()) {
                    d.set("Content-Length", null);
                }
                String[] frames = {"5\r\nhello\r\n0\r\n\r\n", "zz\r\nhello\r\n0\r\n\r\n", "5\r\nhel", "ffffffffffffffffff\r\nx\r\n",
                    "-1\r\n\r\n", "5;" + "e".repeat(9000) + "\r\nhello\r\n0\r\n\r\n", "0\r\nX-Trailer: " + "t".repeat(20000) + "\r\n\r\n", "\r\n\r\n"};
                d.body = pick(r, frames).getBytes(StandardCharsets.US_ASCII);
                d.incomplete = true;
            }
            case 18 -> { // aws-chunked framing broken
                String body = new String(d.body, StandardCharsets.ISO_8859_1);
                String[][] swaps = {{";chunk-signature=", ";chunk-signature=0"}, {";chunk-signature=", ";"}, {"\r\n", "\n"},
                    {";chunk-signature=", "zz;chunk-signature="}, {"0;chunk-signature=", "fffffffffff;chunk-signature="},
                    {";chunk-signature=", ";" + "x".repeat(5000) + "="}};
                String[] s = swaps[r.nextInt(swaps.length)];
                if (body.contains(s[0])) {
                    d.body = body.replaceFirst(java.util.regex.Pattern.quote(s[0]), java.util.regex.Matcher.quoteReplacement(s[1]))
                            .getBytes(StandardCharsets.ISO_8859_1);
                    d.set("Content-Length", String.valueOf(d.body.length));
                } else if (d.body.length > 1) {
                    d.body = java.util.Arrays.copyOf(d.body, d.body.length - 1 - r.nextInt(d.body.length - 1)); // the end cut off
                    d.set("Content-Length", String.valueOf(d.body.length));
                }
                if (r.nextBoolean()) {
                    d.set("x-amz-decoded-content-length", String.valueOf(r.nextInt(10_000)));
                }
                d.incomplete = true;
            }
            case 19 -> { String[] h = ODD_HEADERS[r.nextInt(ODD_HEADERS.length)]; d.set(h[0], h[1]); }
            case 20 -> { String[] h = ODD_HEADERS[r.nextInt(ODD_HEADERS.length)]; d.headers.add(new String[] {h[0], h[1]}); }
            case 21 -> d.headers.add(new String[] {"X-Big", "v".repeat(17_000 + r.nextInt(5000))});
            case 22 -> { // a broken header line
                String[] lines = {"NoColonHere", " folded: continuation", "Bad Name: x", "X-Nul: a\u0000b", ": empty-name", "X-Ctl: \u0007"};
                d.headers.add(r.nextInt(d.headers.size() + 1), new String[] {pick(r, lines), null});
            }
            default -> d.set("Authorization", d.header("Authorization") == null ? null : d.header("Authorization") + ", Signature=00"); // duplicated part
        }
    }

    /** Damage to the raw bytes: a flipped byte in the head, the head cut short, a bare CR or LF, a NUL. */
    private static byte[] damage(byte[] raw, Random r, Draft d) {
        int head = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        int end = head < 0 ? raw.length : head;
        int pick = r.nextInt(4);
        d.mutations.add("raw#" + pick);
        byte[] out = raw.clone();
        int at = end == 0 ? 0 : r.nextInt(end);
        switch (pick) {
            case 0 -> out[at] = (byte) r.nextInt(256);
            case 1 -> { out = java.util.Arrays.copyOf(raw, at); d.incomplete = true; }
            case 2 -> out[at] = (byte) (r.nextBoolean() ? '\r' : '\n');
            default -> out[at] = 0;
        }
        if (pick != 1 && end == raw.length) {
            d.incomplete = true;
        }
        return out;
    }

    private static int indexOf(byte[] a, byte[] b) {
        outer:
        for (int i = 0; i + b.length <= a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                if (a[i + j] != b[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ---- the answers ----

    /** What came back: a status (0: the connection closed before any answer), its head and body. */
    private record Answer(int status, String statusLine, Map<String, String> headers, byte[] body, String problem) {}

    /** Reads one answer (after any 100 Continue); a close before any byte is a clean close. */
    private static Answer read(InputStream in, boolean headRequest) throws IOException {
        while (true) {
            String line = line(in);
            if (line == null) {
                return new Answer(0, "", Map.of(), new byte[0], null);
            }
            if (!line.matches("HTTP/1\\.1 [1-5][0-9][0-9] .*")) {
                return new Answer(-1, line, Map.of(), new byte[0], "not an HTTP/1.1 status line: " + S3Text.shorten(line));
            }
            int status = Integer.parseInt(line.substring(9, 12));
            Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
                int c = l.indexOf(':');
                if (c <= 0) {
                    return new Answer(-1, line, h, new byte[0], "a header line without a name: " + S3Text.shorten(l));
                }
                h.put(l.substring(0, c).strip(), l.substring(c + 1).strip());
            }
            if (status == 100) {
                continue;
            }
            String length = h.get("Content-Length");
            if (length == null && (status == 204 || status == 304)) { // Netty drops Content-Length from them, as RFC 9110 says
                return new Answer(status, line, h, new byte[0], null);
            }
            if (length == null) {
                return new Answer(status, line, h, new byte[0], "no Content-Length");
            }
            int n = headRequest || status == 304 ? 0 : Integer.parseInt(length);
            byte[] body = in.readNBytes(n);
            return new Answer(status, line, h, body, body.length == n ? null : "body cut at " + body.length + " of " + n);
        }
    }

    private static String line(InputStream in) throws IOException {
        return io.oecloud.testkit.RawHttp.readLine(in);
    }

    /** Sends {@code raw} on a new connection and reads the answer, within the case deadline. */
    private Answer exchange(byte[] raw, boolean headRequest, boolean halfClose) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(CASE_DEADLINE_MILLIS);
            try {
                s.getOutputStream().write(raw);
                s.getOutputStream().flush();
                if (halfClose) {
                    s.shutdownOutput();
                }
            } catch (IOException e) { // the gateway answered and closed while we were still sending
            }
            try {
                return read(new java.io.BufferedInputStream(s.getInputStream()), headRequest);
            } catch (SocketTimeoutException e) {
                return new Answer(-1, "", Map.of(), new byte[0], "no answer within " + CASE_DEADLINE_MILLIS + " ms (a hang)");
            } catch (java.net.SocketException e) { // reset: the gateway closed with our bytes unread
                return new Answer(0, "", Map.of(), new byte[0], null);
            }
        }
    }

    /** What is wrong with {@code a} as an answer to {@code d}, or null. */
    private static String judge(Draft d, Answer a, boolean headRequest) {
        if (a.problem() != null) {
            return a.problem();
        }
        if (a.status() == 0) {
            return null; // closed cleanly without an answer
        }
        int st = a.status();
        boolean success = st == 200 || st == 204 || st == 206 || st == 304;
        if (!success && (st < 400 || st > 503 || st == 500)) {
            return "status " + st;
        }
        if (success && (d.forged || !d.method.equals(d.signedMethod))) {
            return "a forged or unsigned request succeeded: " + a.statusLine();
        }
        String body = new String(a.body(), StandardCharsets.UTF_8);
        if (body.contains("Exception") || body.contains("\tat ") || body.contains("io.oecloud.") || body.contains("java.")) {
            return "internals in the answer: " + S3Text.shorten(body);
        }
        if (!success && !headRequest) {
            if (!"application/xml".equals(a.headers().get("Content-Type"))) {
                return "an error without an XML body: Content-Type " + a.headers().get("Content-Type");
            }
            String code = errorCode(a.body());
            if (code == null) {
                return "an error body that is not an S3 <Error> with a <Code>: " + S3Text.shorten(body);
            }
            if (st == 503 && !code.equals("SlowDown") && !code.equals("ServiceUnavailable")) {
                return "503 with code " + code;
            }
        }
        return null;
    }

    /** The Code of an S3 error document, or null when it is not one. */
    private static String errorCode(byte[] xml) {
        try {
            var f = javax.xml.parsers.DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            var parser = f.newDocumentBuilder();
            parser.setErrorHandler(null); // a bad document is an answer to report, not a line on stderr
            var doc = parser.parse(new java.io.ByteArrayInputStream(xml));
            if (!doc.getDocumentElement().getTagName().equals("Error")) {
                return null;
            }
            var codes = doc.getElementsByTagName("Code");
            var ids = doc.getElementsByTagName("RequestId");
            return codes.getLength() == 1 && ids.getLength() == 1 ? codes.item(0).getTextContent() : null;
        } catch (Exception e) {
            return null;
        }
    }

    // ---- the namespace ----

    /** The bucket list, and every key of {@code fuzz} with its ETag and size, and its uploads. */
    private String namespace() {
        StringBuilder b = new StringBuilder();
        s3.listBuckets().buckets().forEach(x -> b.append("bucket ").append(x.name()).append('\n'));
        s3.listObjectsV2Paginator(x -> x.bucket("fuzz")).contents()
                .forEach(o -> b.append(o.key()).append(' ').append(o.eTag()).append(' ').append(o.size()).append('\n'));
        s3.listMultipartUploads(x -> x.bucket("fuzz")).uploads().forEach(u -> b.append("upload ").append(u.key()).append('\n'));
        return b.toString();
    }

    /** A valid signed read of fuzz/obj, on its own connection: the gateway still serves. */
    private void stillServes(int n, Draft d) throws IOException {
        Answer a = exchange(signed("GET", "/fuzz/obj", new byte[0]).render(), false, false);
        if (a.status() != 200 || !java.util.Arrays.equals(OBJ, a.body())) {
            fail("after case " + n + " " + d.mutations + " a valid GET got " + a.statusLine() + " " + a.problem());
        }
    }

    @Test
    void mutatedRequests_getWellFormedS3Answers_inTime_andNeverChangeTheNamespaceUnsigned() throws Exception {
        String before = namespace();
        Random r = new Random(SEED);
        long end = System.nanoTime() + BUDGET.toNanos();
        int stalls = REAL_STALLS;
        int cases = 0;
        int answered = 0;
        Map<String, Integer> statuses = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (; cases < MAX_CASES && System.nanoTime() < end; cases++) {
            Draft d;
            if (r.nextInt(5) < 2) {
                d = signedGarbage(r, cases);
            } else {
                d = base(r, cases);
                for (int i = r.nextInt(3); i >= 0; i--) {
                    mutate(d, r);
                }
            }
            byte[] raw = d.render();
            if (r.nextInt(12) == 0) {
                raw = damage(raw, r, d);
            }
            boolean headRequest = d.method.equals("HEAD");
            boolean halfClose = d.incomplete && (stalls == 0 || r.nextInt(4) != 0);
            if (d.incomplete && !halfClose) {
                stalls--;
            }
            long t0 = System.nanoTime();
            Answer a = exchange(raw, headRequest, halfClose);
            long took = (System.nanoTime() - t0) / 1_000_000;
            // A client that declared more body than it sent and closed its side broke the request: the gateway
            // drops the connection when the body ends short, even in the middle of an answer it had begun (a GET
            // answers before its body is read). The client then sees a body shorter than its Content-Length,
            // never a wrong one; the namespace check below shows such a request stored nothing.
            boolean mayCut = halfClose && d.incomplete && a.problem() != null && a.problem().startsWith("body cut");
            String wrong = took > CASE_DEADLINE_MILLIS ? "took " + took + " ms" : mayCut ? null : judge(d, a, headRequest);
            if (wrong != null) {
                failures.add("case " + cases + " " + d.mutations + ": " + wrong + "\n  request: "
                        + S3Text.shorten(new String(raw, 0, Math.min(raw.length, 600), StandardCharsets.ISO_8859_1)));
            }
            answered += a.status() > 0 ? 1 : 0;
            statuses.merge(a.status() + (a.status() >= 400 && !headRequest ? " " + errorCode(a.body()) : ""), 1, Integer::sum);
            stillServes(cases, d);
        }
        System.out.println("S3FuzzTest: " + cases + " cases, " + answered + " answered, statuses " + statuses);
        assertTrue(failures.isEmpty(), failures.size() + " of " + cases + " cases went wrong:\n" + String.join("\n", failures));
        assertTrue(cases >= 200, "only " + cases + " cases ran in " + BUDGET);
        assertTrue(answered > cases / 2, "most cases get an answer, not a close: " + answered + " of " + cases);
        assertEquals(before, namespace(), "no forged or unsigned request changed the bucket fuzz or the bucket list");
        for (long wait = System.nanoTime() + 5_000_000_000L; server.bodiesInFlight() > 0; Thread.sleep(5)) {
            assertTrue(System.nanoTime() < wait, server.bodiesInFlight() + " body places still held after every case ended");
        }
        s3.putObject(b -> b.bucket("fuzz-rw").key("after"), RequestBody.fromString("still fine"));
        assertEquals("still fine", s3.getObjectAsBytes(b -> b.bucket("fuzz-rw").key("after")).asUtf8String());
    }

    // ---- what the fuzzer found, each kept as a regression ----

    /** A request made by hand and signed as sent (path and query as they are). */
    private Draft signedAsSent(String method, String target, String... headers) {
        Draft d = new Draft(method, target);
        d.set("Host", host());
        d.set("Connection", "close");
        for (int i = 0; i < headers.length; i += 2) {
            d.set(headers[i], headers[i + 1]);
        }
        if (method.equals("PUT") || method.equals("POST")) {
            d.set("Content-Length", "0");
        }
        signAsSent(d, SigV4.hex(SigV4.sha256(new byte[0])));
        return d;
    }

    /** Sends {@code d}; its answer must be a well-formed S3 error of {@code status}; returns its Code. */
    private String errorCode(Draft d, int status) throws IOException {
        Answer a = exchange(d.render(), false, false);
        assertEquals(null, judge(d, a, false), "a well-formed answer");
        assertEquals(status, a.status(), a.statusLine() + " " + new String(a.body(), StandardCharsets.UTF_8));
        return errorCode(a.body());
    }

    @Test
    void aCopySourceKeyOverS3sLength_isKeyTooLong_notAnInternalError() throws Exception {
        assertEquals("KeyTooLongError", errorCode(signedAsSent("PUT", "/fuzz-rw/copy", "x-amz-copy-source", "fuzz/" + "o".repeat(5000)), 400));
    }

    @Test
    void anEmptyUploadIdOrOneWithNul_isNoSuchUpload_notAnInternalError() throws Exception {
        assertEquals("NoSuchUpload", errorCode(signedAsSent("DELETE", "/fuzz-rw/mp?uploadId="), 404));
        assertEquals("NoSuchUpload", errorCode(signedAsSent("GET", "/fuzz-rw/mp?uploadId=a%00b"), 404));
        assertEquals("NoSuchUpload", errorCode(signedAsSent("POST", "/fuzz-rw/mp?uploadId="), 404));
    }

    @Test
    void aBucketNameWithNul_isInvalidBucketName_notAnInternalError() throws Exception {
        assertEquals("InvalidBucketName", errorCode(signedAsSent("GET", "/fu%00zz/obj"), 400));
        assertEquals("InvalidBucketName", errorCode(signedAsSent("PUT", "/fuzz-rw/c", "x-amz-copy-source", "fu%00zz/obj"), 400));
    }

    @Test
    void aKeyWithoutABucket_isInvalidBucketName_signedOrNot() throws Exception {
        Draft anonymous = new Draft("GET", "///");
        anonymous.set("Host", host());
        anonymous.set("Connection", "close");
        assertEquals("InvalidBucketName", errorCode(anonymous, 400));
        assertEquals("InvalidBucketName", errorCode(signedAsSent("GET", "//obj"), 400));
    }

    @Test
    void anUploadIdMarkerWithNul_isInvalidArgument_notAnInternalError() throws Exception {
        assertEquals("InvalidArgument", errorCode(signedAsSent("GET", "/fuzz?uploads&key-marker=a&upload-id-marker=%00"), 400));
    }

    @Test
    void anErrorAboutAKeyWithControlCharacters_isStillWellFormedXml() throws Exception {
        // NoSuchKey names the copy source's key, NUL and all; XML 1.0 cannot carry U+0000 even as a reference
        assertEquals("NoSuchKey", errorCode(signedAsSent("PUT", "/fuzz-rw/c", "x-amz-copy-source", "fuzz/ob%00j%01"), 404));
    }

    @Test
    void aHeadNotWholeInTime_getsAnS3XmlRequestTimeout_notTheHttpBasesJson() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(CASE_DEADLINE_MILLIS);
            s.getOutputStream().write("GET /fuzz/obj HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII)); // no blank line
            Answer a = read(s.getInputStream(), false);
            assertEquals(400, a.status(), a.statusLine());
            assertEquals("application/xml", a.headers().get("Content-Type"));
            assertEquals("RequestTimeout", errorCode(a.body()));
        }
    }

    @Test
    void aConnectionOverTheCap_getsAnS3XmlSlowDown_notTheHttpBasesJson() throws Exception {
        S3Server.Config d = S3Server.Config.defaults(new InetSocketAddress("127.0.0.1", 0));
        Path other = dir.resolve("capped");
        java.nio.file.Files.createDirectories(other);
        try (S3Server capped = S3Server.start(new S3Server.Config(d.bind(), d.domain(), d.region(), d.bodySilence(), 1, d.bodiesPerClient()),
                other, new MemoryObjectStore(), null, k -> { });
             Socket first = new Socket("127.0.0.1", capped.address().getPort());
             Socket second = new Socket("127.0.0.1", capped.address().getPort())) {
            second.setSoTimeout(CASE_DEADLINE_MILLIS);
            Answer a = read(second.getInputStream(), false);
            assertEquals(503, a.status(), a.statusLine());
            assertEquals("SlowDown", errorCode(a.body()));
        }
    }
}
