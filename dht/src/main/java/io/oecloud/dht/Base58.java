package io.oecloud.dht;

import java.math.BigInteger;

/** Bitcoin's base58 alphabet, as libp2p writes peer IDs. Inputs are short (peer IDs), so BigInteger is fine. */
final class Base58 {
    private static final String ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static final BigInteger BASE = BigInteger.valueOf(58);

    private Base58() {}

    static String encode(byte[] data) {
        StringBuilder sb = new StringBuilder();
        BigInteger n = new BigInteger(1, data);
        while (n.signum() > 0) {
            BigInteger[] qr = n.divideAndRemainder(BASE);
            sb.append(ALPHABET.charAt(qr[1].intValue()));
            n = qr[0];
        }
        for (int i = 0; i < data.length && data[i] == 0; i++) {
            sb.append('1');
        }
        return sb.reverse().toString();
    }

    static byte[] decode(String s) {
        BigInteger n = BigInteger.ZERO;
        for (int i = 0; i < s.length(); i++) {
            int d = ALPHABET.indexOf(s.charAt(i));
            if (d < 0) {
                throw new IllegalArgumentException("'" + s.charAt(i) + "' at position " + i + " is not a base58 character");
            }
            n = n.multiply(BASE).add(BigInteger.valueOf(d));
        }
        byte[] mag = n.signum() == 0 ? new byte[0] : n.toByteArray();
        int strip = mag.length > 0 && mag[0] == 0 ? 1 : 0;
        int zeros = 0;
        while (zeros < s.length() && s.charAt(zeros) == '1') {
            zeros++;
        }
        byte[] out = new byte[zeros + mag.length - strip];
        System.arraycopy(mag, strip, out, zeros, mag.length - strip);
        return out;
    }
}
