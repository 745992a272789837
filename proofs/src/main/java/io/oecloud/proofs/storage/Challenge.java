package io.oecloud.proofs.storage;

/**
 * One challenge of a period: which entry to prove, and the randomness that picks the chunk once
 * the entry's size is proven ({@link #chunk(long)}). Made by {@link Challenges}.
 *
 * @param j the challenge's number in its period, {@code 0 <= j < c}
 * @param entry the challenged entry's index in CID order, in {@code [0, count)}
 * @param chunkHigh bytes 16..23 of the challenge hash, big-endian
 * @param chunkLow bytes 24..31 of the challenge hash, big-endian
 */
public record Challenge(int j, long entry, long chunkHigh, long chunkLow) {
    /**
     * The challenged 1 KiB chunk of the entry, in {@code [0, Challenges.chunks(size))}, from the
     * entry's size as its inclusion proof shows it.
     *
     * @throws StorageProofException {@code ARGUMENT} for a negative size
     */
    public long chunk(long entrySize) {
        if (entrySize < 0) {
            throw new StorageProofException(StorageProofException.Kind.ARGUMENT, "entry size " + entrySize + " is negative");
        }
        return Challenges.pick(chunkHigh, chunkLow, Challenges.chunks(entrySize));
    }
}
