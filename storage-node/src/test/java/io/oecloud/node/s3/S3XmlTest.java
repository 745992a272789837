package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** Each answer parsed back with a DOM parser; the two request parsers on good, namespaced and hostile input. */
class S3XmlTest {
    private static final long T = 1_700_000_000_123L; // 2023-11-14T22:13:20.123Z
    private static final String NASTY = "a&b<c>d\"e'f é/g";

    private static Document dom(byte[] xml) throws Exception {
        String s = new String(xml, StandardCharsets.UTF_8);
        assertTrue(s.startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), s);
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    }

    private static List<String> texts(Node n, String tag) {
        NodeList l = n instanceof Document d ? d.getElementsByTagNameNS("*", tag) : ((Element) n).getElementsByTagNameNS("*", tag);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.getLength(); i++) {
            out.add(l.item(i).getTextContent());
        }
        return out;
    }

    private static String text(Node n, String tag) {
        List<String> t = texts(n, tag);
        assertEquals(1, t.size(), tag + " " + t);
        return t.getFirst();
    }

    private static S3Model.ObjectEntry entry(String key, long size) {
        return new S3Model.ObjectEntry(key, List.of(new S3Model.Piece("cid", size)), size, "\"0123abcd\"", T, Map.of(), Map.of(), Map.of(), false);
    }

    @Test
    void error_hasCodeMessageResourceRequestIdAndExtras_noNamespace() throws Exception {
        S3Exception e = new S3Exception(S3Error.RequestTimeTooSkewed, null).withResource("/b/" + NASTY).withExtra("ServerTime", "now");
        Document d = dom(S3Xml.error(e, "req-1"));
        assertEquals("Error", d.getDocumentElement().getLocalName());
        assertEquals(null, d.getDocumentElement().getNamespaceURI());
        assertEquals("RequestTimeTooSkewed", text(d, "Code"));
        assertEquals(S3Error.RequestTimeTooSkewed.defaultMessage(), text(d, "Message"));
        assertEquals("/b/" + NASTY, text(d, "Resource"));
        assertEquals("req-1", text(d, "RequestId"));
        assertEquals("now", text(d, "ServerTime"));
        assertEquals(403, e.error().status());
    }

    @Test
    void tooManyParts_answersWithS3sInvalidArgument() {
        assertEquals("InvalidArgument", S3Error.TooManyParts.code());
        assertEquals("NoSuchKey", S3Error.NoSuchKey.code());
        assertEquals(416, S3Error.InvalidRange.status());
    }

    @Test
    void listBuckets_givesOwnerAndBucketsWithIsoMillisDates() throws Exception {
        Document d = dom(S3Xml.listBuckets(List.of(new S3Model.Bucket("one", T, false), new S3Model.Bucket("two", 0, true)), "me&you"));
        assertEquals(S3Xml.NAMESPACE, d.getDocumentElement().getNamespaceURI());
        assertEquals("me&you", text(d, "ID"));
        assertEquals(List.of("one", "two"), texts(d, "Name"));
        assertEquals(List.of("2023-11-14T22:13:20.123Z", "1970-01-01T00:00:00.000Z"), texts(d, "CreationDate"));
    }

    @Test
    void location_isEmptyForUsEast1_versioningHasNoStatus() throws Exception {
        assertEquals("", dom(S3Xml.location("us-east-1")).getDocumentElement().getTextContent());
        assertEquals("eu-west-1", dom(S3Xml.location("eu-west-1")).getDocumentElement().getTextContent());
        Document v = dom(S3Xml.versioning());
        assertEquals("VersioningConfiguration", v.getDocumentElement().getLocalName());
        assertEquals(0, v.getDocumentElement().getChildNodes().getLength());
    }

    @Test
    void listObjectsV1_escapesKeys_andGivesNextMarkerOnlyWithADelimiter() throws Exception {
        S3Model.Listing page = new S3Model.Listing(List.of(entry(NASTY, 5), entry("z", 7)), List.of("dir/"), true, null);
        Document d = dom(S3Xml.listObjectsV1("bkt", "", "m", "/", 2, false, page));
        assertEquals("bkt", text(d, "Name"));
        assertEquals("m", text(d, "Marker"));
        assertEquals("2", text(d, "MaxKeys"));
        assertEquals("/", text(d, "Delimiter"));
        assertEquals("true", text(d, "IsTruncated"));
        assertEquals("z", text(d, "NextMarker"));
        assertEquals(List.of(NASTY, "z"), texts(d, "Key"));
        assertEquals(List.of("\"0123abcd\"", "\"0123abcd\""), texts(d, "ETag"));
        assertEquals(List.of("5", "7"), texts(d, "Size"));
        assertEquals(List.of("STANDARD", "STANDARD"), texts(d, "StorageClass"));
        assertEquals("2023-11-14T22:13:20.123Z", texts(d, "LastModified").getFirst());
        assertEquals(2, texts(d, "Owner").size());
        Element cp = (Element) d.getElementsByTagNameNS("*", "CommonPrefixes").item(0);
        assertEquals("dir/", text(cp, "Prefix"));
        assertTrue(texts(d, "EncodingType").isEmpty());

        Document noDelimiter = dom(S3Xml.listObjectsV1("bkt", "", "", null, 2, false, page));
        assertTrue(texts(noDelimiter, "NextMarker").isEmpty());
        assertTrue(texts(noDelimiter, "Delimiter").isEmpty());
    }

    @Test
    void listObjectsV1_urlEncoded_encodesKeysPrefixMarkerAndDelimiter_keepingSlash() throws Exception {
        String key = "dir/a b+c&\u0001é";
        S3Model.Listing page = new S3Model.Listing(List.of(entry(key, 1)), List.of("p q/"), true, "dir/a b");
        Document d = dom(S3Xml.listObjectsV1("bkt", "dir/ ", "dir/a", " ", 1, true, page));
        assertEquals("url", text(d, "EncodingType"));
        assertEquals("dir/a%20b%2Bc%26%01%C3%A9", texts(d, "Key").getFirst());
        assertEquals("dir/%20", texts(d, "Prefix").getFirst());
        assertEquals("dir/a", text(d, "Marker"));
        assertEquals("%20", text(d, "Delimiter"));
        assertEquals("dir/a%20b", text(d, "NextMarker"));
        assertEquals("p%20q/", texts(d, "Prefix").get(1));
    }

    @Test
    void controlCharactersInKeys_becomeCharacterReferences() throws Exception {
        S3Model.Listing page = new S3Model.Listing(List.of(entry("tab\tnl\ncr\r", 1)), List.of(), false, null);
        Document d = dom(S3Xml.listObjectsV1("b", "", "", null, 1, false, page));
        assertEquals("tab\tnl\ncr\r", text(d, "Key"));
        String raw = new String(S3Xml.listObjectsV1("b", "", "", null, 1, false,
                new S3Model.Listing(List.of(entry("x\u0001y\u001f", 1)), List.of(), false, null)), StandardCharsets.UTF_8);
        assertTrue(raw.contains("<Key>x&#x1;y&#x1F;</Key>"), raw);
        assertEquals("&amp;&lt;&gt;&quot;&apos;", S3Xml.escape("&<>\"'"));
        assertEquals("&#xFFFD;", S3Xml.escape("\ud800"));
        assertEquals("\ud83d\ude00", S3Xml.escape("\ud83d\ude00"));
    }

    @Test
    void listObjectsV2_countsKeysAndPrefixes_andGivesTokens() throws Exception {
        S3Model.Listing page = new S3Model.Listing(List.of(entry("a b", 1), entry("c", 2)), List.of("d/"), true, null);
        Document d = dom(S3Xml.listObjectsV2("bkt", "", "a", "tok1", "tok2", "/", 3, true, false, page));
        assertEquals("3", text(d, "KeyCount"));
        assertEquals("tok1", text(d, "ContinuationToken"));
        assertEquals("tok2", text(d, "NextContinuationToken"));
        assertEquals("a", text(d, "StartAfter"));
        assertEquals("true", text(d, "IsTruncated"));
        assertEquals(List.of("a%20b", "c"), texts(d, "Key"));
        assertTrue(texts(d, "Owner").isEmpty(), "no owner unless fetch-owner");
        assertEquals(2, texts(dom(S3Xml.listObjectsV2("bkt", "", null, null, null, null, 3, false, true, page)), "Owner").size());

        Document last = dom(S3Xml.listObjectsV2("bkt", "", null, null, "ignored", null, 3, false, false,
                new S3Model.Listing(List.of(), List.of(), false, null)));
        assertEquals("0", text(last, "KeyCount"));
        assertTrue(texts(last, "NextContinuationToken").isEmpty());
        assertTrue(texts(last, "ContinuationToken").isEmpty());
    }

    @Test
    void multipartAnswers_carryTheirFields() throws Exception {
        Document i = dom(S3Xml.initiateMultipart("b", NASTY, "up1"));
        assertEquals(List.of("b", NASTY, "up1"), List.of(text(i, "Bucket"), text(i, "Key"), text(i, "UploadId")));
        Document c = dom(S3Xml.completeMultipart("http://h/b/k", "b", "k", "\"abc-2\"", Map.of("CRC32", "AAAAAA==")));
        assertEquals("http://h/b/k", text(c, "Location"));
        assertEquals("\"abc-2\"", text(c, "ETag"));
        assertEquals("AAAAAA==", text(c, "ChecksumCRC32"));
        Document co = dom(S3Xml.copyObjectResult("\"e\"", T));
        assertEquals("CopyObjectResult", co.getDocumentElement().getLocalName());
        assertEquals("2023-11-14T22:13:20.123Z", text(co, "LastModified"));
        assertEquals("CopyPartResult", dom(S3Xml.copyPartResult("\"e\"", T)).getDocumentElement().getLocalName());
    }

    @Test
    void listParts_andListMultipartUploads_carryMarkersAndEntries() throws Exception {
        S3Model.Upload u = new S3Model.Upload("up1", "b", "k", T, Map.of(), Map.of(), "CRC32C");
        S3Model.Part p = new S3Model.Part(3, new S3Model.Piece("cid", 5 << 20), "\"pe\"", T, Map.of("CRC32C", "q83vEg=="));
        Document d = dom(S3Xml.listParts(u, List.of(p), 2, 3, 1, true));
        assertEquals("up1", text(d, "UploadId"));
        assertEquals("2", text(d, "PartNumberMarker"));
        assertEquals("3", text(d, "NextPartNumberMarker"));
        assertEquals("1", text(d, "MaxParts"));
        assertEquals("true", text(d, "IsTruncated"));
        assertEquals("3", text(d, "PartNumber"));
        assertEquals(Integer.toString(5 << 20), text(d, "Size"));
        assertEquals("q83vEg==", text(d, "ChecksumCRC32C"));

        Document l = dom(S3Xml.listMultipartUploads("b", null, "k0", null, "k", "up1", 1, true, List.of(u)));
        assertEquals("k0", text(l, "KeyMarker"));
        assertEquals("k", text(l, "NextKeyMarker"));
        assertEquals("up1", text(l, "NextUploadIdMarker"));
        assertEquals("", text(l, "Prefix"));
        assertEquals("2023-11-14T22:13:20.123Z", text(l, "Initiated"));
        assertEquals(List.of("up1"), texts(l, "UploadId"));
        assertEquals("STANDARD", text(l, "StorageClass"));
    }

    @Test
    void deleteResult_listsDeletedUnlessQuiet_andAlwaysErrors() throws Exception {
        List<S3Xml.DeleteError> errs = List.of(new S3Xml.DeleteError("bad<", "AccessDenied", "no"));
        Document d = dom(S3Xml.deleteResult(List.of("a", "b"), errs, false));
        assertEquals(List.of("a", "b", "bad<"), texts(d, "Key"));
        assertEquals("AccessDenied", text(d, "Code"));
        Document q = dom(S3Xml.deleteResult(List.of("a", "b"), errs, true));
        assertEquals(List.of("bad<"), texts(q, "Key"));
    }

    // ---- parsers ----

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static S3Exception malformed(String xml, boolean delete) {
        S3Exception e = assertThrows(S3Exception.class, () -> {
            if (delete) {
                S3Xml.parseDelete(b(xml));
            } else {
                S3Xml.parseCompleteMultipart(b(xml));
            }
        }, xml);
        assertEquals(S3Error.MalformedXML, e.error(), e.getMessage());
        return e;
    }

    @Test
    void parseCompleteMultipart_withOrWithoutNamespace_givesPartsInOrder() throws Exception {
        String body = "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>"
                + "<Part><ETag>&quot;e2&quot;</ETag><PartNumber> 2 </PartNumber></Part>";
        for (String root : new String[] {"<CompleteMultipartUpload>", "<CompleteMultipartUpload xmlns=\"" + S3Xml.NAMESPACE + "\">"}) {
            List<S3Xml.CompletedPart> parts = S3Xml.parseCompleteMultipart(b("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + root + body
                    + "</CompleteMultipartUpload>"));
            assertEquals(List.of(new S3Xml.CompletedPart(1, "\"e1\"", Map.of("CRC32", "AAAAAA==")), new S3Xml.CompletedPart(2, "\"e2\"", Map.of())), parts);
        }
    }

    @Test
    void parseCompleteMultipart_refusesEachKindOfBadInput() {
        malformed("", false);
        malformed("<CompleteMultipartUpload>", false);
        malformed("<CompleteMultipartUpload></CompleteMultipartUpload>", false);
        malformed("<Delete><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Delete>", false);
        malformed("<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>", false);
        malformed("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>", false);
        S3Exception e = malformed("<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>", false);
        assertTrue(e.getMessage().contains("'one'"), e.getMessage());
        malformed("<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>", false);
        malformed("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>", false);
        malformed("<CompleteMultipartUpload><Part>&foo;</Part></CompleteMultipartUpload>", false);
        malformed("not xml at all", false);
        malformed("<" + "a>".repeat(11) + "</a>".repeat(11), false);
    }

    @Test
    void parseDelete_readsQuietAndKeys_ignoringVersionIds() throws Exception {
        S3Xml.DeleteRequest r = S3Xml.parseDelete(b("<Delete xmlns=\"" + S3Xml.NAMESPACE + "\"><Quiet>true</Quiet><Object><Key>a&amp;b</Key>"
                + "<VersionId>v</VersionId></Object><Object><Key>c/d é</Key></Object></Delete>"));
        assertEquals(new S3Xml.DeleteRequest(true, List.of("a&b", "c/d é")), r);
        assertFalse(S3Xml.parseDelete(b("<Delete><Object><Key>x</Key></Object></Delete>")).quiet());
    }

    @Test
    void parseDelete_refusesEachKindOfBadInput() {
        malformed("<Delete></Delete>", true);
        malformed("<Delete><Object></Object></Delete>", true);
        malformed("<Delete><Quiet>maybe</Quiet><Object><Key>x</Key></Object></Delete>", true);
        malformed("<CompleteMultipartUpload><Object><Key>x</Key></Object></CompleteMultipartUpload>", true);
        malformed("<Delete>" + "<Object><Key>k</Key></Object>".repeat(1001) + "</Delete>", true);
        malformed("<Delete>" + "<Object/>".repeat(S3Xml.MAX_DELETE_ELEMENTS) + "</Delete>", true);
    }

    @Test
    void aBillionLaughsDtd_isMalformedXml_withoutExpansion() {
        StringBuilder dtd = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE Delete [<!ENTITY lol \"lol\">");
        dtd.append("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">");
        for (int i = 2; i <= 9; i++) {
            dtd.append("<!ENTITY lol").append(i).append(" \"").append(("&lol" + (i - 1) + ";").repeat(10)).append("\">");
        }
        dtd.append("]><Delete><Object><Key>&lol9;</Key></Object></Delete>");
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> malformed(dtd.toString(), true));
        String external = "<?xml version=\"1.0\"?><!DOCTYPE Delete [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                + "<Delete><Object><Key>&xxe;</Key></Object></Delete>";
        S3Exception e = malformed(external, true);
        assertFalse(e.getMessage().contains("root:"), e.getMessage());
    }
}
