package io.oecloud.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which declared types are kept, and which are shown inline. */
class MediaTypesTest {
    @Test
    void servedType_wellFormedKept_elseOctetStream() {
        assertEquals("application/octet-stream", MediaTypes.servedType("text/html\r\nSet-Cookie: x=1"));
        assertEquals("text/plain; charset=utf-8", MediaTypes.servedType("text/plain; charset=utf-8"));
        assertEquals("application/octet-stream", MediaTypes.servedType("nonsense"));
        assertEquals("application/octet-stream", MediaTypes.servedType(null));
    }

    @Test
    void inert_imagesTextMediaFonts_notHtmlOrScript() {
        assertTrue(MediaTypes.inert("image/png"));
        assertTrue(MediaTypes.inert("Text/Plain; charset=utf-8"));
        assertTrue(MediaTypes.inert("video/mp4"));
        assertTrue(MediaTypes.inert("font/woff2"));
        assertFalse(MediaTypes.inert("text/html"));
        assertFalse(MediaTypes.inert("image/svg+xml"), "SVG runs script");
        assertFalse(MediaTypes.inert("application/javascript"));
    }
}
