package io.oecloud.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.oecloud.node.s3.S3Keys;
import io.oecloud.node.s3.S3Signer;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.ObjectCannedACL;
import software.amazon.awssdk.services.s3.model.BucketCannedACL;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * The S3 gateway of a real devnet (node 0, {@code oe devnet}'s default) driven by the AWS SDK for
 * Java v2 as an application would: buckets, objects with the SDK's default checksums (aws-chunked
 * with a signed trailer over plain HTTP), ranges and conditions, copies, listings with delimiters
 * and pages, a multipart upload sent in parallel, presigned URLs used with a plain HTTP client,
 * public buckets read anonymously, and each kind of bad request answered with its S3 error.
 */
class DevnetS3Test {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ChainDevnet.stopAll(started);
    }

    private static S3Client client(URI endpoint, String id, String secret) {
        return S3Client.builder().endpointOverride(endpoint).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofMinutes(2)).build()).build();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static int status(Runnable r) {
        S3Exception e = assertThrows(S3Exception.class, r::run);
        return e.statusCode();
    }

    private static String code(Runnable r) {
        S3Exception e = assertThrows(S3Exception.class, r::run);
        return e.awsErrorDetails().errorCode();
    }

    @Test
    void theDevnetsGateway_servesTheAwsSdk_everyOperation_withS3sErrors() throws Exception {
        ChainDevnet.start(dir, started);
        JsonNode doc = ChainDevnet.JSON.readTree(dir.resolve("devnet/devnet.json").toFile());
        URI endpoint = URI.create(doc.path("s3").path("url").asText());
        S3Keys.Key key = S3Keys.in(Path.of(doc.path("nodes").get(0).path("dataDir").asText())).list().getFirst();
        String api0 = doc.path("nodes").get(0).path("api").asText();
        // contracts name their holders, and the chain takes only registered, active nodes as holders
        DevnetTest.awaitTrue(() -> {
            Map<String, JsonNode> r = ChainDevnet.records(http, api0);
            return r.size() == doc.path("nodes").size() && r.values().stream().allMatch(n -> n.path("active").asBoolean());
        }, 120, "every node registered and active");
        try (S3Client s3 = client(endpoint, key.accessKeyId(), key.secret());
             S3Presigner presigner = S3Presigner.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
                     .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder().pathStyleAccessEnabled(true).build())
                     .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(key.accessKeyId(), key.secret()))).build()) {
            // buckets
            s3.createBucket(b -> b.bucket("photos"));
            assertEquals("BucketAlreadyOwnedByYou", code(() -> s3.createBucket(b -> b.bucket("photos"))));
            URI badName = URI.create(endpoint + "/Bad_Name"); // the SDK refuses the name itself; a hand-signed request does not
            HttpRequest.Builder bad = HttpRequest.newBuilder(badName).PUT(HttpRequest.BodyPublishers.noBody());
            S3Signer.sign(bad, "PUT", badName, Map.of(), key, "us-east-1", Instant.now());
            HttpResponse<String> refused = http.send(bad.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, refused.statusCode());
            assertTrue(refused.body().contains("<Code>InvalidBucketName</Code>"), refused.body());
            s3.headBucket(b -> b.bucket("photos"));
            assertEquals(404, status(() -> s3.headBucket(b -> b.bucket("nothing-here"))));
            assertTrue(s3.listBuckets().buckets().stream().anyMatch(b -> b.name().equals("photos")));
            s3.getBucketLocation(b -> b.bucket("photos"));
            assertEquals(null, s3.getBucketVersioning(b -> b.bucket("photos")).status());
            assertEquals("NoSuchBucket", code(() -> s3.putObject(b -> b.bucket("nothing-here").key("a"), RequestBody.fromString("x"))));

            // a small and a multi-segment object, with the SDK's default checksum (a CRC32 trailer)
            byte[] small = "hello, gateway".getBytes(StandardCharsets.UTF_8);
            var put = s3.putObject(b -> b.bucket("photos").key("dir/hello.txt").contentType("text/plain").metadata(Map.of("owner", "ann")),
                    RequestBody.fromBytes(small));
            assertNotNull(put.eTag());
            byte[] big = random(20 << 20, 1);
            s3.putObject(b -> b.bucket("photos").key("dir/sub/big.bin"), RequestBody.fromBytes(big));
            ResponseBytes<GetObjectResponse> got = s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/sub/big.bin"));
            assertArrayEquals(big, got.asByteArray());
            ResponseBytes<GetObjectResponse> hello = s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/hello.txt"));
            assertArrayEquals(small, hello.asByteArray());
            assertEquals("text/plain", hello.response().contentType());
            assertEquals("ann", hello.response().metadata().get("owner"));
            assertEquals(put.eTag(), hello.response().eTag());
            // ranges, conditions, overrides, checksum mode
            byte[] part = s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/sub/big.bin").range("bytes=8388000-8389999")).asByteArray();
            assertArrayEquals(Arrays.copyOfRange(big, 8_388_000, 8_390_000), part);
            assertEquals("InvalidRange", code(() -> s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/hello.txt").range("bytes=999-"))));
            assertEquals(304, status(() -> s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/hello.txt").ifNoneMatch(put.eTag()))));
            assertEquals(412, status(() -> s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/hello.txt").ifMatch("\"0000\""))));
            assertEquals("attachment", s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/hello.txt")
                    .responseContentDisposition("attachment")).response().contentDisposition());
            HeadObjectResponse head = s3.headObject(b -> b.bucket("photos").key("dir/hello.txt").checksumMode(ChecksumMode.ENABLED));
            assertEquals(small.length, head.contentLength());
            assertNotNull(head.checksumCRC32(), "the checksum the SDK sent in its trailer is kept and returned");
            assertEquals("NoSuchKey", code(() -> s3.getObjectAsBytes(b -> b.bucket("photos").key("dir/none"))));
            assertEquals(404, status(() -> s3.headObject(b -> b.bucket("photos").key("dir/none"))));

            // copy: the same bytes under a new key, metadata copied or replaced
            s3.copyObject(b -> b.sourceBucket("photos").sourceKey("dir/hello.txt").destinationBucket("photos").destinationKey("copy.txt"));
            assertEquals("ann", s3.headObject(b -> b.bucket("photos").key("copy.txt")).metadata().get("owner"));
            s3.copyObject(b -> b.sourceBucket("photos").sourceKey("dir/hello.txt").destinationBucket("photos").destinationKey("copy2.txt")
                    .metadataDirective(MetadataDirective.REPLACE).metadata(Map.of("owner", "bob")).contentType("text/markdown"));
            HeadObjectResponse c2 = s3.headObject(b -> b.bucket("photos").key("copy2.txt"));
            assertEquals("bob", c2.metadata().get("owner"));
            assertEquals("text/markdown", c2.contentType());
            s3.deleteObject(b -> b.bucket("photos").key("dir/hello.txt"));
            assertArrayEquals(small, s3.getObjectAsBytes(b -> b.bucket("photos").key("copy.txt")).asByteArray(),
                    "deleting the source leaves the copy's shared bytes in place");

            // listings: 2,000 keys in 20 folders, delimiters and pages. 20 are PUTs (each buys its storage contract on the
            // chain, about 4 a second here); the other 1,980 are copies of them, which share their pieces (no bytes moved,
            // no contract bought) but are keys like any other in the namespace
            s3.createBucket(b -> b.bucket("many"));
            ExecutorService pool = Executors.newFixedThreadPool(16);
            Set<String> keys = new HashSet<>();
            List<Future<?>> puts = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String k = "f" + i + "/k" + i;
                keys.add(k);
                puts.add(pool.submit(() -> s3.putObject(b -> b.bucket("many").key(k), RequestBody.fromString(k))));
            }
            for (Future<?> f : puts) {
                f.get();
            }
            List<Future<?>> copies = new ArrayList<>();
            for (int i = 20; i < 2000; i++) {
                String source = "f" + (i % 20) + "/k" + (i % 20);
                String k = "f" + (i % 20) + "/k" + i;
                keys.add(k);
                copies.add(pool.submit(() -> s3.copyObject(b -> b.sourceBucket("many").sourceKey(source)
                        .destinationBucket("many").destinationKey(k))));
            }
            for (Future<?> f : copies) {
                f.get();
            }
            ListObjectsV2Response top = s3.listObjectsV2(b -> b.bucket("many").delimiter("/"));
            assertEquals(20, top.commonPrefixes().size());
            assertTrue(top.contents().isEmpty());
            Set<String> seen = new HashSet<>();
            String token = null;
            int pages = 0;
            do {
                String t = token;
                ListObjectsV2Response page = s3.listObjectsV2(b -> b.bucket("many").maxKeys(300).continuationToken(t));
                for (S3Object o : page.contents()) {
                    assertTrue(seen.add(o.key()), "listed twice: " + o.key());
                }
                token = page.nextContinuationToken();
                pages++;
            } while (token != null);
            assertEquals(keys, seen);
            assertEquals(7, pages);
            assertEquals(2000, s3.listObjectsV2Paginator(b -> b.bucket("many")).contents().stream().count(), "the SDK's own paging");
            var paged = s3.listObjectsV2Paginator(b -> b.bucket("many").prefix("f3/").maxKeys(40));
            assertEquals(100, paged.contents().stream().count());
            assertEquals("f3/k3", s3.getObjectAsBytes(b -> b.bucket("many").key("f3/k1003")).asUtf8String(), "a copy reads its source's bytes");
            var v1 = s3.listObjects(b -> b.bucket("many").prefix("f1").delimiter("/"));
            assertEquals(List.of("f1/", "f10/", "f11/", "f12/", "f13/", "f14/", "f15/", "f16/", "f17/", "f18/", "f19/"),
                    v1.commonPrefixes().stream().map(CommonPrefix::prefix).toList());
            var deleted = s3.deleteObjects(b -> b.bucket("many").delete(d -> d.objects(
                    keys.stream().filter(k -> k.startsWith("f7/")).map(k -> ObjectIdentifier.builder().key(k).build()).toList())));
            assertEquals(100, deleted.deleted().size());
            assertTrue(s3.listObjectsV2(b -> b.bucket("many").prefix("f7/")).contents().isEmpty());
            assertEquals("BucketNotEmpty", code(() -> s3.deleteBucket(b -> b.bucket("many"))));

            // multipart: 100 MiB in 20 parts sent in parallel, completed without moving bytes again
            byte[] large = random(100 << 20, 2);
            String id = s3.createMultipartUpload(b -> b.bucket("photos").key("video.bin").contentType("video/mp4")).uploadId();
            List<Future<CompletedPart>> parts = new ArrayList<>();
            int partSize = 5 << 20;
            for (int n = 1; n <= 20; n++) {
                int number = n;
                byte[] bytes = Arrays.copyOfRange(large, (n - 1) * partSize, n * partSize);
                parts.add(pool.submit(() -> CompletedPart.builder().partNumber(number).eTag(s3.uploadPart(b -> b.bucket("photos")
                        .key("video.bin").uploadId(id).partNumber(number), RequestBody.fromBytes(bytes)).eTag()).build()));
            }
            List<CompletedPart> done = new ArrayList<>();
            for (Future<CompletedPart> f : parts) {
                done.add(f.get());
            }
            assertEquals(20, s3.listParts(b -> b.bucket("photos").key("video.bin").uploadId(id)).parts().size());
            assertTrue(s3.listMultipartUploads(b -> b.bucket("photos")).uploads().stream().anyMatch(u -> u.uploadId().equals(id)));
            List<CompletedPart> reversed = new ArrayList<>(done);
            java.util.Collections.reverse(reversed);
            assertEquals("InvalidPartOrder", code(() -> s3.completeMultipartUpload(b -> b.bucket("photos").key("video.bin").uploadId(id)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(reversed).build()))));
            var completed = s3.completeMultipartUpload(b -> b.bucket("photos").key("video.bin").uploadId(id)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(done).build()));
            assertTrue(completed.eTag().endsWith("-20\""), completed.eTag());
            assertArrayEquals(large, s3.getObjectAsBytes(b -> b.bucket("photos").key("video.bin")).asByteArray());
            byte[] across = s3.getObjectAsBytes(b -> b.bucket("photos").key("video.bin").range("bytes=5242000-5243999")).asByteArray();
            assertArrayEquals(Arrays.copyOfRange(large, 5_242_000, 5_244_000), across, "a range across two parts");
            assertEquals("NoSuchUpload", code(() -> s3.listParts(b -> b.bucket("photos").key("video.bin").uploadId(id))));
            String aborted = s3.createMultipartUpload(b -> b.bucket("photos").key("gone.bin")).uploadId();
            s3.uploadPart(b -> b.bucket("photos").key("gone.bin").uploadId(aborted).partNumber(1), RequestBody.fromBytes(random(1000, 3)));
            s3.abortMultipartUpload(b -> b.bucket("photos").key("gone.bin").uploadId(aborted));
            assertEquals(404, status(() -> s3.headObject(b -> b.bucket("photos").key("gone.bin"))), "an aborted upload leaves no object");
            assertTrue(s3.listMultipartUploads(b -> b.bucket("photos")).uploads().isEmpty());
            pool.shutdown();

            // presigned GET and PUT with a plain HTTP client
            var getUrl = presigner.presignGetObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .getObjectRequest(g -> g.bucket("photos").key("copy.txt"))).url();
            HttpResponse<byte[]> pg = http.send(HttpRequest.newBuilder(getUrl.toURI()).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, pg.statusCode());
            assertArrayEquals(small, pg.body());
            var putUrl = presigner.presignPutObject(b -> b.signatureDuration(Duration.ofMinutes(5))
                    .putObjectRequest(p -> p.bucket("photos").key("presigned.txt"))).url();
            HttpResponse<String> pp = http.send(HttpRequest.newBuilder(putUrl.toURI()).PUT(HttpRequest.BodyPublishers.ofString("via url")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, pp.statusCode(), pp.body());
            assertEquals("via url", s3.getObjectAsBytes(b -> b.bucket("photos").key("presigned.txt")).asUtf8String());
            var shortUrl = presigner.presignGetObject(b -> b.signatureDuration(Duration.ofSeconds(1))
                    .getObjectRequest(g -> g.bucket("photos").key("copy.txt"))).url();
            Thread.sleep(2100); // the URL's lifetime is what is under test
            HttpResponse<String> expired = http.send(HttpRequest.newBuilder(shortUrl.toURI()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, expired.statusCode());
            assertTrue(expired.body().contains("<Code>AccessDenied</Code>") && expired.body().contains("expired"), expired.body());
            String tampered = getUrl.toString().replace("copy.txt", "presigned.txt");
            HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create(tampered)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, other.statusCode(), "a URL signed for one key reads no other");
            assertTrue(other.body().contains("SignatureDoesNotMatch"), other.body());

            // anonymous reads: public buckets only
            s3.createBucket(b -> b.bucket("site").acl(BucketCannedACL.PUBLIC_READ));
            s3.putObject(b -> b.bucket("site").key("index.html").contentType("text/html"), RequestBody.fromString("<h1>hi</h1>"));
            HttpResponse<String> anon = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/site/index.html")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, anon.statusCode());
            assertEquals("<h1>hi</h1>", anon.body());
            HttpResponse<String> privateAnon = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/photos/copy.txt")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, privateAnon.statusCode());
            assertTrue(privateAnon.body().contains("<Code>AccessDenied</Code>"), privateAnon.body());
            HttpResponse<String> anonPut = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/site/x.html"))
                    .PUT(HttpRequest.BodyPublishers.ofString("defaced")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, anonPut.statusCode(), "anonymous callers never write, public bucket or not");
            assertFalse(s3.listObjectsV2(b -> b.bucket("site")).contents().stream().anyMatch(o -> o.key().equals("x.html")));

            // bad credentials and clocks
            try (S3Client wrong = client(endpoint, key.accessKeyId(), "not-the-secret-not-the-secret-000000000")) {
                assertEquals("SignatureDoesNotMatch", code(() -> wrong.listBuckets()));
            }
            try (S3Client unknown = client(endpoint, "OEAAAAAAAAAAAAAAAAAA", key.secret())) {
                assertEquals("InvalidAccessKeyId", code(() -> unknown.listBuckets()));
            }
            URI list = URI.create(endpoint + "/photos?list-type=2");
            HttpRequest.Builder skewed = HttpRequest.newBuilder(list).GET();
            S3Signer.sign(skewed, "GET", list, Map.of(), key, "us-east-1", Instant.now().minus(Duration.ofMinutes(20)));
            HttpResponse<String> sk = http.send(skewed.build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(403, sk.statusCode());
            assertTrue(sk.body().contains("RequestTimeTooSkewed"), sk.body());
            HttpRequest.Builder fresh = HttpRequest.newBuilder(list).GET();
            S3Signer.sign(fresh, "GET", list, Map.of(), key, "us-east-1", Instant.now());
            assertEquals(200, http.send(fresh.build(), HttpResponse.BodyHandlers.ofString()).statusCode(), "the same request signed now passes");
        }
        awsCliAndRclone(endpoint, key);
        Restarted node0 = killedMidPut(doc, key);
        namespaceMovedToAnotherNode(doc, key, node0);
    }

    /** Node 0 as restarted by the test: its process, its log, its gateway's URL. */
    private record Restarted(Process process, Path log, URI s3) {}

    /** Starts node 0 again with its devnet command line; waits for it and reads its gateway's URL from its log. */
    private Restarted startNode0(JsonNode doc, String logName) throws Exception {
        return startNode(doc, 0, logName);
    }

    /** Starts node {@code i} again with its devnet command line and {@code extra} flags; waits for it and reads its gateway's URL. */
    private Restarted startNode(JsonNode doc, int i, String logName, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>();
        doc.at("/nodes/" + i).get("cmd").forEach(c -> cmd.add(c.asText()));
        cmd.addAll(List.of(extra));
        Path log = dir.resolve(logName);
        Process again = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(again);
        DevnetTest.awaitTrue(() -> java.nio.file.Files.readString(log).contains("; ready") || !again.isAlive(), 120, "node " + i + " restart");
        String line = java.nio.file.Files.readString(log).lines().filter(l -> l.startsWith("S3 gateway on http://")).findFirst().orElseThrow();
        return new Restarted(again, log, URI.create(line.substring("S3 gateway on ".length()).split(" ")[0]));
    }

    /**
     * The gateway's node is lost for good: {@code oe s3 restore} with a copy of the namespace key
     * rebuilds the namespace on another node (node 4: a storage node, not a super-node, so the chain
     * keeps its quorum) from the snapshot its name points to on the chain; started with the gateway
     * on, that node lists and serves what the namespace held at that snapshot, private buckets' objects
     * included (they are the namespace key's, not the lost node's), and deletes them.
     */
    private void namespaceMovedToAnotherNode(JsonNode doc, S3Keys.Key key, Restarted node0) throws Exception {
        Path dataDir = Path.of(doc.at("/nodes/0").path("dataDir").asText());
        String api1 = doc.at("/nodes/1").path("api").asText();
        byte[] late = "written after the crash".getBytes(StandardCharsets.UTF_8);
        long wrote = System.currentTimeMillis();
        try (S3Client s3 = client(node0.s3(), key.accessKeyId(), key.secret())) {
            s3.putObject(b -> b.bucket("crash").key("after-crash.txt"), RequestBody.fromBytes(late));
        }
        String nameLine = java.nio.file.Files.readString(node0.log()).lines().filter(l -> l.startsWith("S3 namespace snapshots published as"))
                .findFirst().orElseThrow();
        String name = nameLine.split(" ")[7];
        Path state = dataDir.resolve("s3/snapshot.json");
        DevnetTest.awaitTrue(() -> { // a snapshot taken after that write, and the name pointing at it
            if (!java.nio.file.Files.exists(state)) {
                return false;
            }
            JsonNode st = ChainDevnet.JSON.readTree(state.toFile());
            if (Instant.parse(st.path("at").asText()).toEpochMilli() < wrote) {
                return false;
            }
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api1 + "/v1/chain/names/" + name)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && ChainDevnet.JSON.readTree(r.body()).findValue("root").asText().equals(st.path("cid").asText());
        }, 150, "a snapshot after the last write, published as " + name);
        Path savedKey = dir.resolve("namespace.key");
        java.nio.file.Files.copy(dataDir.resolve("s3/identity.key"), savedKey);
        ChainDevnet.signal("TERM", node0.process().pid()); // the gateway's node is gone, and stays gone
        DevnetTest.awaitTrue(() -> !node0.process().isAlive(), 60, "node 0 to stop");

        // node 4 takes the namespace over: stopped, restored with the key, started with the gateway (and the access keys copied)
        int taker = 4;
        JsonNode other = doc.at("/nodes/" + taker);
        Path otherDir = Path.of(other.path("dataDir").asText());
        ProcessHandle running = ProcessHandle.of(other.get("pid").asLong()).orElseThrow();
        ChainDevnet.signal("TERM", running.pid());
        running.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
        OeLauncherTest.Run restore = OeLauncherTest.oe(Map.of(), "s3", "restore", "--data-dir", otherDir.toString(),
                "--namespace-key", savedKey.toString(), "--api", api1.replaceFirst("^http://", ""));
        assertEquals(0, restore.code(), restore.out() + restore.err());
        assertTrue(restore.out().contains("restored the namespace " + name), restore.out());
        assertArrayEquals(java.nio.file.Files.readAllBytes(savedKey), java.nio.file.Files.readAllBytes(otherDir.resolve("s3/identity.key")),
                "the namespace key is installed on node " + taker);
        java.nio.file.Files.copy(dataDir.resolve(S3Keys.FILE), otherDir.resolve(S3Keys.FILE));
        // (its devnet command bootstraps from node 0, which is gone: node 1 as well)
        Restarted back = startNode(doc, taker, "node" + taker + "-gateway.log", "--s3", "127.0.0.1:0",
                "--bootstrap", doc.at("/nodes/1").path("p2p").asText());
        try (S3Client s3 = client(back.s3(), key.accessKeyId(), key.secret())) {
            assertEquals(List.of("after-crash.txt", "kept.bin"),
                    s3.listObjectsV2(b -> b.bucket("crash")).contents().stream().map(S3Object::key).toList());
            assertArrayEquals(late, s3.getObjectAsBytes(b -> b.bucket("crash").key("after-crash.txt")).asByteArray(),
                    "a private bucket's object, read on another node");
            assertArrayEquals(random(3 << 20, 11), s3.getObjectAsBytes(b -> b.bucket("crash").key("kept.bin")).asByteArray());
            assertTrue(s3.listBuckets().buckets().stream().map(b -> b.name()).toList().containsAll(List.of("photos", "crash", "site", "many")));
            assertEquals(1900, s3.listObjectsV2Paginator(b -> b.bucket("many")).contents().stream().count());
            s3.deleteObject(b -> b.bucket("crash").key("kept.bin"));
            assertEquals(List.of("after-crash.txt"), s3.listObjectsV2(b -> b.bucket("crash")).contents().stream().map(S3Object::key).toList());
            byte[] fresh = "written on the node that took over".getBytes(StandardCharsets.UTF_8);
            s3.putObject(b -> b.bucket("crash").key("fresh.txt"), RequestBody.fromBytes(fresh)); // paid by the namespace account
            assertArrayEquals(fresh, s3.getObjectAsBytes(b -> b.bucket("crash").key("fresh.txt")).asByteArray());
        }
        String log = java.nio.file.Files.readString(back.log());
        assertTrue(log.contains("S3 objects owned by the namespace key"), log);
    }

    /**
     * kill -9 of the gateway's node in the middle of a PUT: after its restart the half-sent object is
     * nowhere (no key, no listing entry), and everything acknowledged before is there, byte for byte.
     */
    private Restarted killedMidPut(JsonNode doc, S3Keys.Key key) throws Exception {
        URI endpoint = URI.create(doc.path("s3").path("url").asText());
        byte[] kept = random(3 << 20, 11);
        try (S3Client s3 = client(endpoint, key.accessKeyId(), key.secret())) {
            s3.createBucket(b -> b.bucket("crash"));
            s3.putObject(b -> b.bucket("crash").key("kept.bin"), RequestBody.fromBytes(kept));
        }
        java.util.concurrent.atomic.AtomicLong handed = new java.util.concurrent.atomic.AtomicLong();
        InputStream slow = new InputStream() { // 256 MiB at about 16 MiB/s: still sending when the node dies
            long left = 256L << 20;
            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }
            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(Math.min(len, 64 << 10), left);
                handed.addAndGet(n);
                java.util.Arrays.fill(b, off, off + n, (byte) 7);
                left -= n;
                java.util.concurrent.locks.LockSupport.parkNanos(4_000_000);
                return n;
            }
        };
        Thread put = Thread.ofVirtual().start(() -> {
            try (S3Client s3 = client(endpoint, key.accessKeyId(), key.secret())) {
                s3.putObject(b -> b.bucket("crash").key("half.bin"), RequestBody.fromInputStream(slow, 256L << 20));
            } catch (RuntimeException e) {
                // the node died under it: expected
            }
        });
        DevnetTest.awaitTrue(() -> handed.get() >= 32L << 20, 60, "32 MiB of the PUT sent"); // mid-body: the kill comes while bytes stream in
        JsonNode node0 = doc.at("/nodes/0");
        ProcessHandle victim = ProcessHandle.of(node0.get("pid").asLong()).orElseThrow();
        victim.destroyForcibly(); // SIGKILL
        victim.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        put.join(Duration.ofSeconds(60));
        Restarted again = startNode0(doc, "node0-again.log");
        try (S3Client s3 = client(again.s3(), key.accessKeyId(), key.secret())) {
            assertEquals(404, status(() -> s3.headObject(b -> b.bucket("crash").key("half.bin"))), "no half object after the crash");
            assertEquals(List.of("kept.bin"), s3.listObjectsV2(b -> b.bucket("crash")).contents().stream().map(S3Object::key).toList());
            assertArrayEquals(kept, s3.getObjectAsBytes(b -> b.bucket("crash").key("kept.bin")).asByteArray());
            assertTrue(s3.listBuckets().buckets().stream().anyMatch(b -> b.name().equals("photos")), "the namespace survived the kill");
        }
        return again;
    }

    /** Runs {@code cmd} with the gateway's credentials; its output when it exits 0 within 5 minutes, else a failure. */
    private String run(S3Keys.Key key, URI endpoint, List<String> cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(dir.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("RCLONE_")); // e.g. AWS_CA_BUNDLE, which rclone 1.60 cannot load
        env.put("HOME", dir.toString()); // no user's ~/.aws or rclone.conf
        env.put("AWS_ACCESS_KEY_ID", key.accessKeyId());
        env.put("AWS_SECRET_ACCESS_KEY", key.secret());
        env.put("AWS_DEFAULT_REGION", "us-east-1");
        env.put("AWS_PAGER", "");
        env.put("RCLONE_CONFIG_OE_TYPE", "s3");
        env.put("RCLONE_CONFIG_OE_PROVIDER", "Other");
        env.put("RCLONE_CONFIG_OE_ACCESS_KEY_ID", key.accessKeyId());
        env.put("RCLONE_CONFIG_OE_SECRET_ACCESS_KEY", key.secret());
        env.put("RCLONE_CONFIG_OE_ENDPOINT", endpoint.toString());
        env.put("RCLONE_CONFIG_OE_REGION", "us-east-1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }

    /** Debian's aws cli and rclone, unchanged, against the gateway (the test setup installs both). */
    private void awsCliAndRclone(URI endpoint, S3Keys.Key key) throws Exception {
        io.oecloud.testkit.DebianPackage.require(Path.of("/usr/bin/aws"), "awscli");
        Path rclone = io.oecloud.testkit.DebianPackage.require(Path.of("/usr/bin/rclone"), "rclone");
        String url = endpoint.toString();
        java.nio.file.Path local = dir.resolve("local");
        java.nio.file.Files.createDirectories(local.resolve("sub"));
        byte[] big = random(24 << 20, 7); // over the cli's 8 MiB multipart threshold: three parts
        java.nio.file.Files.write(local.resolve("big.bin"), big);
        for (int i = 0; i < 12; i++) {
            java.nio.file.Files.writeString(local.resolve("sub/file" + i + ".txt"), "file " + i + "\n".repeat(i + 1));
        }
        List<String> aws = List.of("/usr/bin/aws", "--endpoint-url", url);
        run(key, endpoint, concat(aws, "s3", "mb", "s3://cli"));
        run(key, endpoint, concat(aws, "s3", "cp", local.resolve("big.bin").toString(), "s3://cli/big.bin"));
        String head = run(key, endpoint, concat(aws, "s3api", "head-object", "--bucket", "cli", "--key", "big.bin"));
        assertTrue(head.contains("\"ContentLength\": " + big.length) && head.contains("-3"), "multipart ETag and size: " + head);
        run(key, endpoint, concat(aws, "s3", "sync", local.resolve("sub").toString(), "s3://cli/site/"));
        String ls = run(key, endpoint, concat(aws, "s3", "ls", "--recursive", "s3://cli/"));
        assertEquals(13, ls.lines().filter(l -> !l.isBlank()).count(), ls);
        String listed = run(key, endpoint, concat(aws, "s3api", "list-objects-v2", "--bucket", "cli", "--prefix", "site/", "--max-items", "5"));
        assertTrue(listed.contains("NextToken"), "paged by the cli: " + listed);
        run(key, endpoint, concat(aws, "s3", "cp", "s3://cli/big.bin", dir.resolve("back.bin").toString()));
        assertArrayEquals(big, java.nio.file.Files.readAllBytes(dir.resolve("back.bin")));
        String presigned = run(key, endpoint, concat(aws, "s3", "presign", "s3://cli/site/file3.txt", "--expires-in", "300")).strip();
        HttpResponse<String> viaUrl = http.send(HttpRequest.newBuilder(URI.create(presigned)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, viaUrl.statusCode(), viaUrl.body());
        assertEquals(java.nio.file.Files.readString(local.resolve("sub/file3.txt")), viaUrl.body());
        run(key, endpoint, concat(aws, "s3", "rm", "--recursive", "s3://cli/site"));
        assertEquals(1, run(key, endpoint, concat(aws, "s3", "ls", "--recursive", "s3://cli/")).lines().filter(l -> !l.isBlank()).count());

        run(key, endpoint, List.of(rclone.toString(), "mkdir", "oe:rcl"));
        run(key, endpoint, List.of(rclone.toString(), "copy", local.toString(), "oe:rcl/dir"));
        run(key, endpoint, List.of(rclone.toString(), "check", local.toString(), "oe:rcl/dir"));
        String lsf = run(key, endpoint, List.of(rclone.toString(), "lsf", "-R", "oe:rcl/dir"));
        assertTrue(lsf.lines().anyMatch(l -> l.equals("big.bin")) && lsf.lines().anyMatch(l -> l.equals("sub/file11.txt")), lsf);
    }

    private static List<String> concat(List<String> head, String... rest) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(rest));
        return all;
    }
}
