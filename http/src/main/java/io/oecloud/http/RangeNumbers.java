package io.oecloud.http;

/**
 * The numbers of a Range header, as {@link ByteRange} and {@link RangeSet} read them: runs of
 * decimal digits of any length, where more than 18 digits (leading zeros aside) mean "beyond any
 * object", so no header can overflow a long.
 */
final class RangeNumbers {
    private RangeNumbers() {}

    /** Whether {@code s} is digits only (or empty). */
    static boolean digits(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** A run of digits as a long; longer than {@link ByteRange#MAX_DIGITS} digits (leading zeros aside): Long.MAX_VALUE. */
    static long number(String digits) {
        int start = 0;
        while (start < digits.length() - 1 && digits.charAt(start) == '0') {
            start++;
        }
        String d = digits.substring(start);
        return d.length() > ByteRange.MAX_DIGITS ? Long.MAX_VALUE : Long.parseLong(d);
    }
}
