package io.oecloud.erasure;

/**
 * The implementations behind {@link ReedSolomon}; all produce the same bytes.
 *
 * <p>The default is chosen once at start-up: {@link #ISAL} when Intel's ISA-L library is installed,
 * else {@link #VECTOR} when the {@code jdk.incubator.vector} module is present, else
 * {@link #SCALAR}. The system property {@code oe.erasure.backend} ({@code isal}, {@code vector},
 * {@code scalar}) forces one.
 */
public enum ErasureBackend {
    /** ISA-L's {@code ec_encode_data} through the FFM API (Debian's libisal2). */
    ISAL,
    /** Split-nibble table lookups on the Vector API (one permute per nibble per lane). */
    VECTOR,
    /** Byte-at-a-time 64 KiB multiplication table; the reference and the fallback. */
    SCALAR;

    /** The system property that forces a backend. */
    public static final String PROPERTY = "oe.erasure.backend";

    /** Returns whether this backend can run in this JVM on this machine. */
    public boolean isAvailable() {
        return switch (this) {
            case ISAL -> IsalKernel.isAvailable();
            case VECTOR -> Kernels.vectorModulePresent();
            case SCALAR -> true;
        };
    }

    /**
     * Returns the backend {@link ReedSolomon#of(int, int)} uses in this JVM.
     *
     * @throws IllegalArgumentException if {@code oe.erasure.backend} names no backend
     * @throws IllegalStateException if it names one that cannot run here
     */
    public static ErasureBackend active() {
        return Kernels.defaultBackend();
    }

    /** Parses a backend name as the system property spells it (case-insensitive). */
    public static ErasureBackend parse(String name) {
        for (ErasureBackend b : values()) {
            if (b.name().equalsIgnoreCase(name.strip())) {
                return b;
            }
        }
        throw new IllegalArgumentException(
                PROPERTY + " must be one of isal, vector, scalar, was: '" + name + "'");
    }
}
