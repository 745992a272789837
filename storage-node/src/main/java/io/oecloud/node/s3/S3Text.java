package io.oecloud.node.s3;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Small text helpers of the gateway: quoting a client's text back, HTTP dates, bucket and key names. */
final class S3Text {
    private S3Text() {}

    /** A client's text quoted back in an error ({@link io.oecloud.http.Quote#shorten}). */
    static String shorten(String s) {
        return io.oecloud.http.Quote.shorten(s);
    }

    /** RFC 1123 date, as Last-Modified carries it. */
    static String httpDate(long millis) {
        return DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(millis).atOffset(ZoneOffset.UTC));
    }

    /** An HTTP date header's value, or -1 when it does not parse (then S3 ignores the condition). */
    static long parseHttpDate(String v) {
        try {
            return java.time.ZonedDateTime.parse(v.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * S3's rules for new bucket names: 3 to 63 characters of lower-case letters, digits, dots and
     * hyphens, beginning and ending with a letter or digit, no two dots in a row, not an IP address.
     */
    static void checkBucketName(String name) throws S3Exception {
        boolean ok = name.length() >= 3 && name.length() <= 63 && name.matches("[a-z0-9][a-z0-9.-]*[a-z0-9]")
                && !name.contains("..") && !name.matches("\\d+\\.\\d+\\.\\d+\\.\\d+") && !name.startsWith("xn--");
        if (!ok) {
            throw new S3Exception(S3Error.InvalidBucketName, "The specified bucket is not valid: '" + shorten(name)
                    + "' (3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)");
        }
    }

    /**
     * A bucket name the namespace can hold (no U+0000), for any request; names the rules for new
     * buckets refuse ({@link #checkBucketName}) may still be looked up, and are simply not found.
     */
    static void checkBucketChars(String name) throws S3Exception {
        if (name.indexOf('\0') >= 0) {
            throw new S3Exception(S3Error.InvalidBucketName, "The specified bucket is not valid: '" + shorten(name.replace("\0", "\\0"))
                    + "' (a bucket name has no U+0000)");
        }
    }

    /** Keys are 1 to 1024 bytes of UTF-8. */
    static void checkKey(String key) throws S3Exception {
        int n = key.getBytes(StandardCharsets.UTF_8).length;
        if (n == 0 || n > 1024) {
            throw new S3Exception(n == 0 ? S3Error.InvalidArgument : S3Error.KeyTooLongError,
                    n == 0 ? "an object key must not be empty" : "Your key is too long: " + n + " bytes, at most 1024");
        }
    }
}
