package io.oecloud.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Caching headers for content addressed by its hash. Bytes named by a CID never change, so
 * they are cacheable by anyone for as long as caches keep things (a year: RFC 9111 gives no
 * longer meaning) and {@code immutable} spares browsers the revalidation on reload; the CID is
 * the entity tag.
 */
public final class CacheHeaders {
    /** Public, a year, immutable. */
    public static final String IMMUTABLE = "public, max-age=31536000, immutable";

    private CacheHeaders() {}

    /** {@code "name"}: a CID (or any tag without quotes) as an {@code ETag} value. */
    public static String etag(Object name) {
        return "\"" + name + "\"";
    }

    /** Sets {@code ETag} to {@code name} and the immutable {@code Cache-Control} on {@code headers}. */
    public static HttpHeaders immutable(HttpHeaders headers, Object name) {
        return headers.set(HttpHeaderNames.ETAG, etag(name)).set(HttpHeaderNames.CACHE_CONTROL, IMMUTABLE);
    }
}
