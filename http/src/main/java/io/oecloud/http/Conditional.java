package io.oecloud.http;

/**
 * Conditional requests on an entity tag (RFC 9110, 13.1.2): whether {@code If-None-Match}
 * lets a GET or HEAD be answered 304 Not Modified. Comparison is weak, as the RFC requires for
 * If-None-Match ({@code W/"x"} matches {@code "x"}); {@code *} matches any current
 * representation. Content addressed by CID never changes, so an edge or S3 front that sends a
 * CID as its ETag answers a revalidation with 304 and no body.
 */
public final class Conditional {
    private Conditional() {}

    /**
     * Whether {@code ifNoneMatch} (the header's value, null when absent) names {@code etag}
     * (quoted, as sent in the {@code ETag} header).
     */
    public static boolean notModified(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null || etag == null) {
            return false;
        }
        String tag = opaque(etag.strip());
        for (String candidate : ifNoneMatch.split(",")) {
            String c = candidate.strip();
            if (c.equals("*") || !c.isEmpty() && opaque(c).equals(tag)) {
                return true;
            }
        }
        return false;
    }

    /** The tag without its weakness prefix: weak comparison. */
    private static String opaque(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }
}
