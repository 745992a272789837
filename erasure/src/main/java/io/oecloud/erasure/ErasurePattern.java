package io.oecloud.erasure;

/** Which of up to 256 shards are present: the key of the decode-plan cache. */
record ErasurePattern(long w0, long w1, long w2, long w3) {
    static ErasurePattern of(boolean[] present) {
        long[] w = new long[4];
        for (int i = 0; i < present.length; i++) {
            if (present[i]) {
                w[i >>> 6] |= 1L << i;
            }
        }
        return new ErasurePattern(w[0], w[1], w[2], w[3]);
    }

    boolean isPresent(int i) {
        long w = switch (i >>> 6) {
            case 0 -> w0;
            case 1 -> w1;
            case 2 -> w2;
            default -> w3;
        };
        return (w & (1L << i)) != 0;
    }

    int presentCount() {
        return Long.bitCount(w0) + Long.bitCount(w1) + Long.bitCount(w2) + Long.bitCount(w3);
    }
}
