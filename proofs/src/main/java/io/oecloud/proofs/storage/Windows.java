package io.oecloud.proofs.storage;

/**
 * Proving periods and windows, counted in blocks: a period is {@code periodBlocks} blocks, cut
 * into {@code windows} equal windows; each node proves in one window of every period, the one its
 * ID hashes to, so the network's proofs spread over the period.
 *
 * <pre>
 * period(h)     = h / P                          heights from 0; block h is in period h / P
 * window(h)     = (h mod P) / (P / W)
 * blocks(p, w)  = [p·P + w·(P/W), p·P + (w+1)·(P/W))
 * nodeWindow(id)= u64be(BLAKE3("oe/node-window/v1" || id)[0..8)) mod W
 * </pre>
 *
 * <p>P must be a multiple of W so every window has the same length (no short last window). The
 * modulo's bias is at most W / 2^64 (under 2^-57 for 48 windows).
 *
 * @param periodBlocks P, blocks in a period, {@code >= windows}
 * @param windows W, windows in a period, {@code >= 1}, dividing P
 */
public record Windows(long periodBlocks, int windows) {
    public Windows {
        if (windows < 1) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "windows " + windows + " must be at least 1");
        }
        if (periodBlocks < windows) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "period of " + periodBlocks + " blocks is shorter than its " + windows + " windows");
        }
        if (periodBlocks % windows != 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "period of " + periodBlocks
                    + " blocks does not divide into " + windows + " equal windows");
        }
    }

    /** Blocks in a window, {@code P / W}. */
    public long windowBlocks() {
        return periodBlocks / windows;
    }

    /**
     * The period block {@code height} is in.
     *
     * @throws StorageProofException {@code ARGUMENT} for a negative height
     */
    public long period(long height) {
        checkHeight(height);
        return height / periodBlocks;
    }

    /** The window (within its period) block {@code height} is in, in {@code [0, windows)}. */
    public int window(long height) {
        checkHeight(height);
        return (int) (height % periodBlocks / windowBlocks());
    }

    /**
     * The window a node proves in, from its ID.
     *
     * @throws StorageProofException {@code ARGUMENT} for an ID that is not 1 to 255 bytes
     */
    public int nodeWindow(byte[] nodeId) {
        Challenges.checkNodeId(nodeId);
        long v = Domains.longAt(Domains.local().window(nodeId), 0);
        return (int) Long.remainderUnsigned(v, windows);
    }

    /**
     * The blocks of window {@code window} of period {@code period}.
     *
     * @throws StorageProofException {@code ARGUMENT} for a negative period, a window outside
     *     {@code [0, windows)} or a range past the largest height
     */
    public BlockRange blocks(long period, int window) {
        if (period < 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "period " + period + " is negative");
        }
        if (window < 0 || window >= windows) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "window " + window + " is outside [0, " + windows + ")");
        }
        long len = windowBlocks();
        try {
            long first = Math.addExact(Math.multiplyExact(period, periodBlocks), window * len);
            return new BlockRange(first, Math.addExact(first, len));
        } catch (ArithmeticException e) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                    "window " + window + " of period " + period + " lies beyond the largest block height", e);
        }
    }

    /** The blocks in which the node with {@code nodeId} proves during {@code period}. */
    public BlockRange nodeBlocks(byte[] nodeId, long period) {
        return blocks(period, nodeWindow(nodeId));
    }

    private static void checkHeight(long height) {
        if (height < 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "block height " + height + " is negative");
        }
    }

    /**
     * Blocks {@code first} (inclusive) to {@code end} (exclusive).
     *
     * @param first the first block height
     * @param end the height just past the last block
     */
    public record BlockRange(long first, long end) {
        public BlockRange {
            if (first < 0 || end <= first) {
                throw new StorageProofException(StorageProofException.Kind.ARGUMENT,
                        "block range [" + first + ", " + end + ") is empty or negative");
            }
        }

        /** Whether {@code height} is in the range. */
        public boolean contains(long height) {
            return height >= first && height < end;
        }

        /** The last block height, {@code end - 1}. */
        public long last() {
            return end - 1;
        }
    }
}
