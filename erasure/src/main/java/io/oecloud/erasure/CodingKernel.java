package io.oecloud.erasure;

/**
 * One backend's way of multiplying shards by a matrix over GF(2^8). Kernels are stateless and
 * thread-safe; {@link #prepare} expands a matrix into whatever tables the backend's inner loop wants.
 */
interface CodingKernel {
    ErasureBackend backend();

    /**
     * Expands a {@code rows x cols} row-major coefficient matrix.
     *
     * @param matrix coefficients; not retained
     */
    CodingTables prepare(byte[] matrix, int rows, int cols);
}
