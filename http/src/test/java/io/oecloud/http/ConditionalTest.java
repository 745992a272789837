package io.oecloud.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class ConditionalTest {
    @Test
    void notModified_matchingTag_weakOrListedOrStar() {
        assertTrue(Conditional.notModified("\"bafy\"", "\"bafy\""));
        assertTrue(Conditional.notModified("W/\"bafy\"", "\"bafy\""), "If-None-Match compares weakly");
        assertTrue(Conditional.notModified("\"a\", \"bafy\"", "\"bafy\""));
        assertTrue(Conditional.notModified("*", "\"bafy\""));
    }

    @Test
    void notModified_otherOrAbsent_isFalse() {
        assertFalse(Conditional.notModified(null, "\"bafy\""));
        assertFalse(Conditional.notModified("\"other\"", "\"bafy\""));
        assertFalse(Conditional.notModified("bafy", "\"bafy\""), "an unquoted tag is not the tag");
        assertFalse(Conditional.notModified("", "\"bafy\""));
        assertFalse(Conditional.notModified("\"bafy\"", null));
    }

    @Test
    void immutable_setsTagAndYearLongCaching() {
        HttpHeaders h = CacheHeaders.immutable(new DefaultHttpHeaders(), "bafyx");
        assertEquals("\"bafyx\"", h.get("ETag"));
        assertEquals("public, max-age=31536000, immutable", h.get("Cache-Control"));
    }
}
