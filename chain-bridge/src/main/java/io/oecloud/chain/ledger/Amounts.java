package io.oecloud.chain.ledger;

import java.math.BigInteger;

/**
 * Amounts of passes: exact integers of base units (1 pass = 10^18), unsigned, below 2^128. No
 * floating point anywhere; a sum that would leave the range is an error, never a wrap.
 */
public final class Amounts {
    private Amounts() {}

    /** Base units in one pass. */
    public static final BigInteger PASS = BigInteger.TEN.pow(18);
    /** Amounts are below this. */
    public static final BigInteger LIMIT = BigInteger.ONE.shiftLeft(128);

    /** Thrown for an amount out of range or badly encoded. */
    public static final class AmountException extends Exception {
        private static final long serialVersionUID = 1L;

        AmountException(String message) {
            super(message);
        }
    }

    /** Unsigned big-endian with no leading zero byte (zero is the empty string): one encoding per value. */
    public static BigInteger decode(byte[] b, String what) throws AmountException {
        if (b.length > 16) {
            throw new AmountException(what + " of " + b.length + " bytes exceeds 128 bits");
        }
        if (b.length > 0 && b[0] == 0) {
            throw new AmountException(what + " has a leading zero byte (not canonical)");
        }
        return new BigInteger(1, b);
    }

    public static byte[] encode(BigInteger v) {
        check(v);
        if (v.signum() == 0) {
            return new byte[0];
        }
        byte[] b = v.toByteArray();
        return b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
    }

    /** a + b, or an error when it reaches 2^128. */
    public static BigInteger add(BigInteger a, BigInteger b) throws AmountException {
        BigInteger s = a.add(b);
        if (s.compareTo(LIMIT) >= 0) {
            throw new AmountException("amount overflow: " + a + " + " + b + " reaches 2^128");
        }
        return s;
    }

    private static void check(BigInteger v) {
        if (v.signum() < 0 || v.compareTo(LIMIT) >= 0) {
            throw new IllegalArgumentException("amount out of range: " + v);
        }
    }

    /** "1.5" passes or "1500000000000000000" base units, as the CLI prints and reads them. */
    public static BigInteger parsePasses(String s) {
        java.math.BigDecimal d = new java.math.BigDecimal(s.trim());
        BigInteger v = d.multiply(new java.math.BigDecimal(PASS)).toBigIntegerExact();
        check(v);
        return v;
    }
}
