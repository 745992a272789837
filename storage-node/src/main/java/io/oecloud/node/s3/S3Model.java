package io.oecloud.node.s3;

import java.util.List;
import java.util.Map;

/**
 * The S3 gateway's namespace as values: buckets, the objects under their keys, multipart uploads
 * and their parts. An S3 object is one or more OE objects (CIDs) in order: one for a PutObject,
 * the parts' own objects for a completed multipart upload, so completing one joins the parts
 * without moving their bytes again.
 */
public final class S3Model {
    private S3Model() {}

    /** A bucket; {@code publicRead}: its objects are stored unencrypted and anyone may read them. */
    public record Bucket(String name, long createdMillis, boolean publicRead) {}

    /** One OE object holding {@code size} bytes of an S3 object, in order. */
    public record Piece(String cid, long size) {}

    /**
     * An object under a key.
     *
     * @param pieces the OE objects holding its bytes, in order (one for a single PUT)
     * @param etag quoted: {@code "md5hex"} for a single PUT, {@code "md5-of-md5s-N"} for multipart
     * @param headers Content-Type, Content-Encoding, Content-Disposition, Content-Language,
     *     Cache-Control, Expires as stored (lower-case names)
     * @param userMetadata x-amz-meta-* without the prefix (lower-case names)
     * @param checksums algorithm name (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) -> base64 value
     * @param encrypted whether the pieces are encrypted (a private bucket)
     */
    public record ObjectEntry(String key, List<Piece> pieces, long size, String etag, long lastModifiedMillis,
                              Map<String, String> headers, Map<String, String> userMetadata, Map<String, String> checksums,
                              boolean encrypted) {
        public ObjectEntry {
            pieces = List.copyOf(pieces);
            headers = Map.copyOf(headers);
            userMetadata = Map.copyOf(userMetadata);
            checksums = Map.copyOf(checksums);
        }

        public String contentType() {
            return headers.getOrDefault("content-type", "binary/octet-stream");
        }
    }

    /** A multipart upload in progress: what CompleteMultipartUpload will store under the key. */
    public record Upload(String uploadId, String bucket, String key, long initiatedMillis, Map<String, String> headers,
                         Map<String, String> userMetadata, String checksumAlgorithm) {
        public Upload {
            headers = Map.copyOf(headers);
            userMetadata = Map.copyOf(userMetadata);
        }
    }

    /** An uploaded part; {@code etag} quoted MD5 of its bytes. */
    public record Part(int number, Piece piece, String etag, long lastModifiedMillis, Map<String, String> checksums) {
        public Part {
            checksums = Map.copyOf(checksums);
        }
    }

    /** A page of a listing: objects, then the prefixes rolled up at the delimiter. */
    public record Listing(List<ObjectEntry> contents, List<String> commonPrefixes, boolean truncated, String nextMarker) {
        public Listing {
            contents = List.copyOf(contents);
            commonPrefixes = List.copyOf(commonPrefixes);
        }
    }
}
