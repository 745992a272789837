package io.oecloud.dht;

import java.util.List;

/**
 * Rules for the values of one key namespace ({@code /pk/...}, {@code /oe/...}): which values are
 * valid for a key, and which of several valid ones is best. PUT_VALUE of an invalid record is
 * refused; GET_VALUE keeps only valid records and returns the best.
 */
public interface RecordValidator {
    /**
     * Checks {@code value} for {@code key}.
     *
     * @throws IllegalArgumentException saying why the record is refused
     */
    void validate(byte[] key, byte[] value);

    /** Index of the best of several valid values for the same key. */
    int select(byte[] key, List<byte[]> values);
}
