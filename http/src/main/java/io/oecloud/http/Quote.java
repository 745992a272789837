package io.oecloud.http;

/** A client's text quoted back in an error: short, and printable whatever was sent. */
public final class Quote {
    private Quote() {}

    /** At most 100 printable ASCII characters of {@code s} ("..." after a cut; others as '?'); "" for null. */
    public static String shorten(String s) {
        if (s == null) {
            return "";
        }
        String t = s.length() > 100 ? s.substring(0, 100) + "..." : s;
        StringBuilder b = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            b.append(c < 0x20 || c > 0x7e ? '?' : c);
        }
        return b.toString();
    }
}
