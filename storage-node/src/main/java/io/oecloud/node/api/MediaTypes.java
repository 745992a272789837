package io.oecloud.node.api;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which media types the API records and serves, and which it lets a browser show. An object's
 * type is what its uploader declared, so it is checked twice: kept only when well-formed (a
 * header's worth of text never reaches a response header), and served inline only when inert.
 */
final class MediaTypes {
    /** A media type with parameters, as RFC 9110 spells it; anything else is served as octet-stream. */
    private static final Pattern MEDIA_TYPE = Pattern.compile(
            "[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,128}(\\s*;\\s*[A-Za-z0-9!#$&^_.+-]{1,64}=(\"[^\"\\\\\\x00-\\x1f\\x7f]{0,128}\"|[A-Za-z0-9!#$&^_.+-]{1,128})){0,8}");
    private static final Set<String> INERT_TYPES = Set.of("image/png", "image/jpeg", "image/gif",
            "image/webp", "image/avif", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon", "text/plain", "text/csv",
            "text/css", "application/json", "application/pdf");


    private MediaTypes() {}

    /** The type to record or answer with: {@code declared} when it is a well-formed media type, else octet-stream. */
    static String servedType(String declared) {
        return declared == null || !MEDIA_TYPE.matcher(declared).matches() ? "application/octet-stream" : declared;
    }

    /** Whether a browser shows this type without running anything in it (else it is served as an attachment). */
    static boolean inert(String type) {
        int semi = type.indexOf(';');
        String base = (semi < 0 ? type : type.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
        return INERT_TYPES.contains(base) || base.startsWith("audio/") || base.startsWith("video/") || base.startsWith("font/");
    }
}
