package io.oecloud.node.s3;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * The XML of S3's answers, and the two request bodies the gateway parses (CompleteMultipartUpload
 * and Delete). Written from the S3 API reference.
 *
 * <p>Writing: every value is escaped ({@code & < > " '} and control characters as character
 * references, as S3 does). XML 1.0 cannot carry most C0 control characters even as references, so a
 * strict parser refuses a key holding one; S3 has the same limit and its answer is the same: list
 * with {@code encoding-type=url}. With it, keys and the other names S3 lists are percent-encoded
 * like SigV4 encodes (UTF-8, unreserved characters as they are, %XX upper case) except that '/'
 * stays as it is, as in S3's own answers; %20 for a space decodes right with both {@code unquote}
 * and {@code unquote_plus}, which clients use.
 *
 * <p>Parsing is hardened: no DTD (a document with one is refused, so no entity is ever expanded),
 * no external entities, at most 10 levels and a bounded number of elements. The size of the body is
 * the caller's limit. The namespace is ignored: clients send the root with and without it.
 */
public final class S3Xml {
    public static final String NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
    /** The owner shown in object listings (the gateway has one account per bucket namespace). */
    public static final String OWNER = "oecloud";
    static final int MAX_DEPTH = 10;
    /** CompleteMultipartUpload: 10000 parts of PartNumber, ETag and up to five checksums each. */
    static final int MAX_COMPLETE_ELEMENTS = 1 + 10_000 * 8;
    /** Delete: S3 takes at most 1000 objects of Key and VersionId each. */
    static final int MAX_DELETE_KEYS = 1000;
    static final int MAX_DELETE_ELEMENTS = 2 + MAX_DELETE_KEYS * 4;
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private S3Xml() {}

    /** One failure of a multi-object delete. */
    public record DeleteError(String key, String code, String message) {}

    /** A part named in CompleteMultipartUpload; {@code checksums} by algorithm name (CRC32, ..., SHA256), base64. */
    public record CompletedPart(int number, String etag, Map<String, String> checksums) {
        public CompletedPart {
            checksums = Map.copyOf(checksums);
        }
    }

    /** A multi-object delete: the keys in the order sent. */
    public record DeleteRequest(boolean quiet, List<String> keys) {
        public DeleteRequest {
            keys = List.copyOf(keys);
        }
    }

    // ---- writing ----

    /**
     * {@code <Error>}: Code, Message, Resource (if any), RequestId, then the exception's extra elements. No namespace, as S3.
     * Unlike a listing, an error must always parse (a client that cannot read it cannot say what went wrong), so the
     * characters XML 1.0 cannot carry, which a client's key or header may hold, become U+FFFD here.
     */
    public static byte[] error(S3Exception e, String requestId) {
        Xml x = new Xml("Error", null);
        x.el("Code", e.error().code()).el("Message", xml10(e.getMessage()));
        if (e.resource() != null) {
            x.el("Resource", xml10(e.resource()));
        }
        x.el("RequestId", requestId);
        e.extra().forEach((k, v) -> x.el(k, xml10(v)));
        return x.end();
    }

    /** {@code s} with every character XML 1.0 cannot carry, even as a reference (C0 controls but tab, LF and CR), as U+FFFD. */
    static String xml10(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xfffe || c == 0xffff) {
                if (b == null) {
                    b = new StringBuilder(s);
                }
                b.setCharAt(i, '\ufffd');
            }
        }
        return b == null ? s : b.toString();
    }

    /** ListAllMyBucketsResult. */
    public static byte[] listBuckets(List<S3Model.Bucket> buckets, String ownerId) {
        Xml x = new Xml("ListAllMyBucketsResult", NAMESPACE);
        x.open("Owner").el("ID", ownerId).el("DisplayName", ownerId).close("Owner");
        x.open("Buckets");
        for (S3Model.Bucket b : buckets) {
            x.open("Bucket").el("Name", b.name()).el("CreationDate", time(b.createdMillis())).close("Bucket");
        }
        return x.close("Buckets").end();
    }

    /** LocationConstraint: empty for us-east-1, as S3 answers. */
    public static byte[] location(String region) {
        Xml x = new Xml("LocationConstraint", NAMESPACE);
        if (region != null && !region.equals("us-east-1")) {
            x.text(region);
        }
        return x.end();
    }

    /** VersioningConfiguration without a Status: versioning was never enabled. */
    public static byte[] versioning() {
        return new Xml("VersioningConfiguration", NAMESPACE).end();
    }

    /** ListBucketResult of ListObjects (v1). NextMarker only with a delimiter and a truncated page, as S3. */
    public static byte[] listObjectsV1(String bucket, String prefix, String marker, String delimiter, int maxKeys, boolean urlEncode,
                                       S3Model.Listing page) {
        Xml x = new Xml("ListBucketResult", NAMESPACE);
        x.el("Name", bucket).el("Prefix", enc(prefix, urlEncode)).el("Marker", enc(marker, urlEncode)).el("MaxKeys", Integer.toString(maxKeys));
        if (delimiter != null && !delimiter.isEmpty()) {
            x.el("Delimiter", enc(delimiter, urlEncode));
        }
        x.el("IsTruncated", Boolean.toString(page.truncated()));
        if (page.truncated() && delimiter != null && !delimiter.isEmpty()) {
            x.opt("NextMarker", enc(nextMarker(page), urlEncode));
        }
        if (urlEncode) {
            x.el("EncodingType", "url");
        }
        contents(x, page, urlEncode, true);
        return x.end();
    }

    /** ListBucketResult of ListObjectsV2; KeyCount counts objects and common prefixes. */
    public static byte[] listObjectsV2(String bucket, String prefix, String startAfter, String continuationToken, String nextContinuationToken,
                                       String delimiter, int maxKeys, boolean urlEncode, boolean fetchOwner, S3Model.Listing page) {
        Xml x = new Xml("ListBucketResult", NAMESPACE);
        x.el("Name", bucket).el("Prefix", enc(prefix, urlEncode));
        if (delimiter != null && !delimiter.isEmpty()) {
            x.el("Delimiter", enc(delimiter, urlEncode));
        }
        x.el("MaxKeys", Integer.toString(maxKeys));
        if (urlEncode) {
            x.el("EncodingType", "url");
        }
        x.el("KeyCount", Integer.toString(page.contents().size() + page.commonPrefixes().size()));
        x.el("IsTruncated", Boolean.toString(page.truncated()));
        if (continuationToken != null) {
            x.el("ContinuationToken", continuationToken);
        }
        if (page.truncated()) {
            x.opt("NextContinuationToken", nextContinuationToken);
        }
        if (startAfter != null && !startAfter.isEmpty()) {
            x.el("StartAfter", enc(startAfter, urlEncode));
        }
        contents(x, page, urlEncode, fetchOwner);
        return x.end();
    }

    private static void contents(Xml x, S3Model.Listing page, boolean urlEncode, boolean owner) {
        for (S3Model.ObjectEntry o : page.contents()) {
            x.open("Contents").el("Key", enc(o.key(), urlEncode)).el("LastModified", time(o.lastModifiedMillis())).el("ETag", o.etag())
                    .el("Size", Long.toString(o.size())).el("StorageClass", "STANDARD");
            if (owner) {
                x.open("Owner").el("ID", OWNER).el("DisplayName", OWNER).close("Owner");
            }
            x.close("Contents");
        }
        for (String p : page.commonPrefixes()) {
            x.open("CommonPrefixes").el("Prefix", enc(p, urlEncode)).close("CommonPrefixes");
        }
    }

    /** The page's own next marker, else the greater of its last key and last common prefix. */
    private static String nextMarker(S3Model.Listing page) {
        if (page.nextMarker() != null) {
            return page.nextMarker();
        }
        String key = page.contents().isEmpty() ? null : page.contents().getLast().key();
        String prefix = page.commonPrefixes().isEmpty() ? null : page.commonPrefixes().getLast();
        if (key == null) {
            return prefix;
        }
        return prefix == null || key.compareTo(prefix) > 0 ? key : prefix;
    }

    /** InitiateMultipartUploadResult. */
    public static byte[] initiateMultipart(String bucket, String key, String uploadId) {
        return new Xml("InitiateMultipartUploadResult", NAMESPACE).el("Bucket", bucket).el("Key", key).el("UploadId", uploadId).end();
    }

    /** CompleteMultipartUploadResult; {@code checksums} by algorithm name (CRC32, ...), base64. */
    public static byte[] completeMultipart(String location, String bucket, String key, String etag, Map<String, String> checksums) {
        Xml x = new Xml("CompleteMultipartUploadResult", NAMESPACE).el("Location", location).el("Bucket", bucket).el("Key", key).el("ETag", etag);
        checksums(x, checksums);
        return x.end();
    }

    /** CopyObjectResult. */
    public static byte[] copyObjectResult(String etag, long lastModifiedMillis) {
        return new Xml("CopyObjectResult", NAMESPACE).el("LastModified", time(lastModifiedMillis)).el("ETag", etag).end();
    }

    /** CopyPartResult. */
    public static byte[] copyPartResult(String etag, long lastModifiedMillis) {
        return new Xml("CopyPartResult", NAMESPACE).el("LastModified", time(lastModifiedMillis)).el("ETag", etag).end();
    }

    /** ListPartsResult. */
    public static byte[] listParts(S3Model.Upload u, List<S3Model.Part> parts, int partNumberMarker, int nextPartNumberMarker, int maxParts,
                                   boolean truncated) {
        Xml x = new Xml("ListPartsResult", NAMESPACE).el("Bucket", u.bucket()).el("Key", u.key()).el("UploadId", u.uploadId());
        x.open("Initiator").el("ID", OWNER).el("DisplayName", OWNER).close("Initiator");
        x.open("Owner").el("ID", OWNER).el("DisplayName", OWNER).close("Owner");
        x.el("StorageClass", "STANDARD").el("PartNumberMarker", Integer.toString(partNumberMarker))
                .el("NextPartNumberMarker", Integer.toString(nextPartNumberMarker)).el("MaxParts", Integer.toString(maxParts))
                .el("IsTruncated", Boolean.toString(truncated));
        if (u.checksumAlgorithm() != null) {
            x.el("ChecksumAlgorithm", u.checksumAlgorithm());
        }
        for (S3Model.Part p : parts) {
            x.open("Part").el("PartNumber", Integer.toString(p.number())).el("LastModified", time(p.lastModifiedMillis())).el("ETag", p.etag())
                    .el("Size", Long.toString(p.piece().size()));
            checksums(x, p.checksums());
            x.close("Part");
        }
        return x.end();
    }

    /** ListMultipartUploadsResult. */
    public static byte[] listMultipartUploads(String bucket, String prefix, String keyMarker, String uploadIdMarker, String nextKeyMarker,
                                              String nextUploadIdMarker, int maxUploads, boolean truncated, List<S3Model.Upload> uploads) {
        Xml x = new Xml("ListMultipartUploadsResult", NAMESPACE).el("Bucket", bucket).el("KeyMarker", nz(keyMarker))
                .el("UploadIdMarker", nz(uploadIdMarker)).el("NextKeyMarker", nz(nextKeyMarker)).el("NextUploadIdMarker", nz(nextUploadIdMarker))
                .el("Prefix", nz(prefix)).el("MaxUploads", Integer.toString(maxUploads)).el("IsTruncated", Boolean.toString(truncated));
        for (S3Model.Upload u : uploads) {
            x.open("Upload").el("Key", u.key()).el("UploadId", u.uploadId());
            x.open("Initiator").el("ID", OWNER).el("DisplayName", OWNER).close("Initiator");
            x.open("Owner").el("ID", OWNER).el("DisplayName", OWNER).close("Owner");
            x.el("StorageClass", "STANDARD").el("Initiated", time(u.initiatedMillis()));
            if (u.checksumAlgorithm() != null) {
                x.el("ChecksumAlgorithm", u.checksumAlgorithm());
            }
            x.close("Upload");
        }
        return x.end();
    }

    /** DeleteResult: Deleted keys (none when quiet, as S3), then the errors. */
    public static byte[] deleteResult(List<String> deletedKeys, List<DeleteError> errors, boolean quiet) {
        Xml x = new Xml("DeleteResult", NAMESPACE);
        if (!quiet) {
            for (String k : deletedKeys) {
                x.open("Deleted").el("Key", k).close("Deleted");
            }
        }
        for (DeleteError e : errors) {
            x.open("Error").el("Key", e.key()).el("Code", e.code()).el("Message", e.message()).close("Error");
        }
        return x.end();
    }

    private static void checksums(Xml x, Map<String, String> checksums) {
        for (Checksums.Algorithm a : Checksums.Algorithm.values()) {
            String v = checksums.get(a.name());
            if (v != null) {
                x.el(a.xmlName(), v);
            }
        }
    }

    static String time(long millis) {
        return ISO.format(Instant.ofEpochMilli(millis));
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static String enc(String s, boolean urlEncode) {
        if (s == null) {
            return "";
        }
        return urlEncode ? SigV4.encode(s).replace("%2F", "/") : s;
    }

    /** Escapes text for element content: the five XML specials and every character XML would not keep as it is. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                        b.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        b.append("&#xFFFD;"); // a lone surrogate has no UTF-8 form
                    } else if (c < 0x20 || c == 0x7f || c == 0xfffe || c == 0xffff) {
                        // \t \n \r as references survive parsers' whitespace normalisation; the others are as S3 writes them
                        b.append("&#x").append(Integer.toHexString(c).toUpperCase(Locale.ROOT)).append(';');
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /** A small writer: elements in order, every text escaped. */
    private static final class Xml {
        private final StringBuilder b = new StringBuilder(256).append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        private final String root;

        Xml(String root, String namespace) {
            this.root = root;
            b.append('<').append(root);
            if (namespace != null) {
                b.append(" xmlns=\"").append(namespace).append('"');
            }
            b.append('>');
        }

        Xml open(String name) {
            b.append('<').append(name).append('>');
            return this;
        }

        Xml close(String name) {
            b.append("</").append(name).append('>');
            return this;
        }

        Xml text(String s) {
            b.append(escape(s));
            return this;
        }

        Xml el(String name, String value) {
            return open(name).text(value == null ? "" : value).close(name);
        }

        /** The element only when {@code value} is not null. */
        Xml opt(String name, String value) {
            return value == null ? this : el(name, value);
        }

        byte[] end() {
            return close(root).b.toString().getBytes(StandardCharsets.UTF_8);
        }
    }

    // ---- parsing ----

    /** The parts of a CompleteMultipartUpload body, in the order sent (their order is the caller's to check). */
    public static List<CompletedPart> parseCompleteMultipart(byte[] xml) throws S3Exception {
        Node root = parse(xml, MAX_COMPLETE_ELEMENTS);
        requireRoot(root, "CompleteMultipartUpload");
        List<CompletedPart> parts = new ArrayList<>();
        for (Node p : root.children) {
            if (!p.name.equals("Part")) {
                continue;
            }
            String number = p.required("PartNumber", "a Part").strip();
            int n;
            try {
                n = Integer.parseInt(number);
            } catch (NumberFormatException e) {
                throw malformed("PartNumber '" + shorten(number) + "' is not a number.");
            }
            String etag = p.required("ETag", "Part " + n).strip();
            Map<String, String> checksums = new LinkedHashMap<>();
            for (Checksums.Algorithm a : Checksums.Algorithm.values()) {
                Node c = p.child(a.xmlName());
                if (c != null) {
                    checksums.put(a.name(), c.text.toString().strip());
                }
            }
            parts.add(new CompletedPart(n, etag, checksums));
        }
        if (parts.isEmpty()) {
            throw malformed("CompleteMultipartUpload names no Part.");
        }
        return parts;
    }

    /** The keys of a multi-object Delete body (VersionId is ignored: there are no versions). */
    public static DeleteRequest parseDelete(byte[] xml) throws S3Exception {
        Node root = parse(xml, MAX_DELETE_ELEMENTS);
        requireRoot(root, "Delete");
        boolean quiet = false;
        Node q = root.child("Quiet");
        if (q != null) {
            String v = q.text.toString().strip();
            if (v.equalsIgnoreCase("true")) {
                quiet = true;
            } else if (!v.equalsIgnoreCase("false")) {
                throw malformed("Quiet is '" + shorten(v) + "', not true or false.");
            }
        }
        List<String> keys = new ArrayList<>();
        for (Node o : root.children) {
            if (o.name.equals("Object")) {
                keys.add(o.required("Key", "an Object"));
            }
        }
        if (keys.isEmpty()) {
            throw malformed("Delete names no Object.");
        }
        if (keys.size() > MAX_DELETE_KEYS) {
            throw malformed("Delete names " + keys.size() + " objects; at most " + MAX_DELETE_KEYS + " per request.");
        }
        return new DeleteRequest(quiet, keys);
    }

    /** An element: its local name, its text (of its own, not its children's) and its children. */
    private record Node(String name, StringBuilder text, List<Node> children) {
        Node child(String n) {
            for (Node c : children) {
                if (c.name.equals(n)) {
                    return c;
                }
            }
            return null;
        }

        String required(String n, String in) throws S3Exception {
            Node c = child(n);
            if (c == null) {
                throw malformed(in + " has no " + n + ".");
            }
            return c.text.toString();
        }
    }

    private static void requireRoot(Node root, String name) throws S3Exception {
        if (!root.name.equals(name)) {
            throw malformed("The root element is " + shorten(root.name) + ", not " + name + ".");
        }
    }

    private static Node parse(byte[] xml, int maxElements) throws S3Exception {
        XMLInputFactory f = XMLInputFactory.newDefaultFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        XMLStreamReader r = null;
        try {
            r = f.createXMLStreamReader(new ByteArrayInputStream(xml));
            List<Node> stack = new ArrayList<>();
            Node root = null;
            int elements = 0;
            while (r.hasNext()) {
                int ev = r.next();
                switch (ev) {
                    case XMLStreamConstants.DTD -> throw malformed("A DOCTYPE is not allowed.");
                    case XMLStreamConstants.ENTITY_REFERENCE, XMLStreamConstants.ENTITY_DECLARATION, XMLStreamConstants.NOTATION_DECLARATION ->
                            throw malformed("Entities are not allowed.");
                    case XMLStreamConstants.START_ELEMENT -> {
                        if (++elements > maxElements) {
                            throw malformed("More than " + maxElements + " elements.");
                        }
                        if (stack.size() >= MAX_DEPTH) {
                            throw malformed("Elements nested deeper than " + MAX_DEPTH + " levels.");
                        }
                        Node n = new Node(r.getLocalName(), new StringBuilder(), new ArrayList<>());
                        if (stack.isEmpty()) {
                            root = n;
                        } else {
                            stack.getLast().children.add(n);
                        }
                        stack.add(n);
                    }
                    case XMLStreamConstants.END_ELEMENT -> stack.removeLast();
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA, XMLStreamConstants.SPACE -> {
                        if (!stack.isEmpty()) {
                            stack.getLast().text.append(r.getText());
                        }
                    }
                    default -> { }
                }
            }
            if (root == null) {
                throw malformed("The document has no root element.");
            }
            return root;
        } catch (XMLStreamException | RuntimeException e) {
            throw new S3Exception(S3Error.MalformedXML, "The XML you provided was not well-formed: " + shorten(String.valueOf(e.getMessage())), e);
        } finally {
            if (r != null) {
                try {
                    r.close();
                } catch (XMLStreamException ignored) {
                    // nothing held but the byte array
                }
            }
        }
    }

    private static S3Exception malformed(String what) {
        return new S3Exception(S3Error.MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema: " + what);
    }

    private static String shorten(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
