package io.oecloud.edge.http;

import java.util.Locale;
import java.util.Map;

/**
 * The Content-Type an edge sends: the type stored with the object when it is a specific one, else
 * the file extension's (a site uploaded with {@code oe put -r} from a tool that stored none),
 * else {@code application/octet-stream}. Types are sent with {@code X-Content-Type-Options:
 * nosniff}, so a browser never guesses a script out of an image.
 */
final class ContentTypes {
    static final String OCTET_STREAM = "application/octet-stream";

    private static final Map<String, String> BY_EXTENSION = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"), Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"), Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"), Map.entry("json", "application/json"),
            Map.entry("map", "application/json"), Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("md", "text/markdown; charset=utf-8"), Map.entry("xml", "application/xml"),
            Map.entry("svg", "image/svg+xml"), Map.entry("png", "image/png"), Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"), Map.entry("gif", "image/gif"), Map.entry("webp", "image/webp"),
            Map.entry("avif", "image/avif"), Map.entry("ico", "image/x-icon"), Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"), Map.entry("ttf", "font/ttf"), Map.entry("otf", "font/otf"),
            Map.entry("wasm", "application/wasm"), Map.entry("pdf", "application/pdf"), Map.entry("mp4", "video/mp4"),
            Map.entry("webm", "video/webm"), Map.entry("mp3", "audio/mpeg"), Map.entry("ogg", "audio/ogg"),
            Map.entry("wav", "audio/wav"), Map.entry("zip", "application/zip"), Map.entry("gz", "application/gzip"),
            Map.entry("csv", "text/csv; charset=utf-8"), Map.entry("webmanifest", "application/manifest+json"));

    private ContentTypes() {}

    /** The type for a file {@code name} stored with {@code stored} (empty when none). */
    static String of(String stored, String name) {
        if (stored != null && !stored.isBlank() && !stored.equalsIgnoreCase(OCTET_STREAM)) {
            return stored;
        }
        int dot = name == null ? -1 : name.lastIndexOf('.');
        String byName = dot < 0 ? null : BY_EXTENSION.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
        return byName != null ? byName : OCTET_STREAM;
    }

    /** Whether compressing the type pays (text, scripts, JSON, XML, SVG); images and video are compressed already. */
    static boolean compressible(String type) {
        String t = type.toLowerCase(Locale.ROOT);
        return t.startsWith("text/") || t.startsWith("application/json") || t.startsWith("application/javascript")
                || t.startsWith("application/xml") || t.startsWith("image/svg+xml") || t.startsWith("application/manifest+json")
                || t.startsWith("application/wasm");
    }
}
