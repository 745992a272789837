package io.oecloud.wire;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Base32Test {
    private static void rejects(WireException.Kind kind, String s, int from, String fragment) {
        WireException e = assertThrows(WireException.class, () -> Base32.decode(s, from));
        assertEquals(kind, e.kind());
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should mention '" + fragment + "'");
    }

    /** RFC 4648 section 10, lower case and without the padding. */
    @ParameterizedTest
    @CsvSource({"'',''", "f,my", "fo,mzxq", "foo,mzxw6", "foob,mzxw6yq", "fooba,mzxw6ytb", "foobar,mzxw6ytboi"})
    void rfc4648Vectors_encodeAndDecodeInEitherCase(String text, String base32) {
        byte[] data = text.getBytes(US_ASCII);
        assertEquals(base32, Base32.encode(data));
        assertArrayEquals(data, Base32.decode(base32, 0));
        assertArrayEquals(data, Base32.decode(base32.toUpperCase(Locale.ROOT), 0));
        assertArrayEquals(data, Base32.decode("b" + base32, 1), "decoding starts at the given index");
    }

    @Test
    void decode_characterOutsideTheAlphabet_namesItAndItsPosition() {
        rejects(WireException.Kind.BASE32_CHARACTER, "bmzx!6ytboi", 1, "'!' at position 4");
        rejects(WireException.Kind.BASE32_CHARACTER, "mzxw1", 0, "'1' at position 4");
        rejects(WireException.Kind.BASE32_CHARACTER, "mzxq====", 0, "'='");
        rejects(WireException.Kind.BASE32_CHARACTER, "mzé6ytb", 0, "'é'");
    }

    @Test
    void decode_lengthNoByteCountHas_isRefused() {
        for (String s : new String[] {"m", "mzx", "mzxw6y"}) {
            rejects(WireException.Kind.BASE32_LENGTH, s, 0, "length " + s.length());
        }
    }

    @Test
    void decode_nonZeroPaddingBits_isRefused_soEachByteStringHasOneSpelling() {
        rejects(WireException.Kind.BASE32_PADDING, "mz", 0, "padding bits"); // "my" is 'f'
        rejects(WireException.Kind.BASE32_PADDING, "mzxw6ytboj", 0, "padding bits");
    }

    @Test
    void randomBytes_roundTrip() {
        Random rnd = new Random(32);
        for (int i = 0; i < 2000; i++) {
            byte[] b = new byte[rnd.nextInt(80)];
            rnd.nextBytes(b);
            assertArrayEquals(b, Base32.decode(Base32.encode(b), 0));
        }
    }
}
