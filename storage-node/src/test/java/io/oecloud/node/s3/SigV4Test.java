package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SigV4 against the worked example of AWS's S3 documentation (GET /test.txt with a Range, 2013-05-24). */
class SigV4Test {
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final SigV4.Scope SCOPE = new SigV4.Scope("20130524", "us-east-1", "s3");

    private static SigV4.Request example(String range) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", "examplebucket.s3.amazonaws.com");
        h.put("Range", range);
        h.put("x-amz-content-sha256", EMPTY_SHA256);
        h.put("x-amz-date", "20130524T000000Z");
        return new SigV4.Request("GET", "/test.txt", List.of(), h, EMPTY_SHA256);
    }

    @Test
    void theDocumentationsGetObjectExample_givesItsSignature() {
        SigV4.Request r = example("bytes=0-9");
        assertEquals("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:" + EMPTY_SHA256
                + "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" + EMPTY_SHA256, SigV4.canonicalRequest(r));
        String sig = SigV4.signature(SECRET, SCOPE, SigV4.stringToSign("20130524T000000Z", SCOPE, SigV4.canonicalRequest(r)));
        assertEquals("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", sig);
        assertTrue(SigV4.matches("F0E8BDB87C964420E857BD35B5D6ED310BD44F0170ABA48DD91039C6036BDB41", SECRET, SCOPE, "20130524T000000Z", r));
    }

    @Test
    void anyChangeToWhatIsSigned_failsTheSignature() {
        String good = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
        assertFalse(SigV4.matches(good, SECRET, SCOPE, "20130524T000000Z", example("bytes=0-10")), "another range");
        assertFalse(SigV4.matches(good, SECRET + "x", SCOPE, "20130524T000000Z", example("bytes=0-9")), "another secret");
        assertFalse(SigV4.matches(good, SECRET, new SigV4.Scope("20130524", "eu-west-1", "s3"), "20130524T000000Z", example("bytes=0-9")));
        assertFalse(SigV4.matches(good, SECRET, SCOPE, "20130524T000001Z", example("bytes=0-9")), "another time");
    }

    @Test
    void queryParameters_areEncodedAndSortedAsSigV4Says() {
        SigV4.Request r = new SigV4.Request("GET", "/", List.of(Map.entry("prefix", "a b/é"), Map.entry("list-type", "2"),
                Map.entry("delimiter", "/")), Map.of("Host", "h"), SigV4.UNSIGNED_PAYLOAD);
        assertTrue(SigV4.canonicalRequest(r).startsWith("GET\n/\ndelimiter=%2F&list-type=2&prefix=a%20b%2F%C3%A9\nhost:h\n"),
                SigV4.canonicalRequest(r));
    }
}
