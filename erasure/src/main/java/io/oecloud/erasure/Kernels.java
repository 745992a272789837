package io.oecloud.erasure;

/** Finds the kernel behind each {@link ErasureBackend} and picks the default once per JVM. */
final class Kernels {
    private Kernels() {}

    static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    static CodingKernel of(ErasureBackend backend) {
        return switch (backend) {
            case ISAL -> {
                if (!IsalKernel.isAvailable()) {
                    throw new IllegalStateException(
                            "erasure backend isal is unavailable: " + IsalKernel.unavailableReason());
                }
                yield IsalKernel.INSTANCE;
            }
            case VECTOR -> {
                if (!vectorModulePresent()) {
                    throw new IllegalStateException("erasure backend vector is unavailable: start the JVM "
                            + "with --add-modules=jdk.incubator.vector");
                }
                yield VectorHolder.kernel();
            }
            case SCALAR -> ScalarKernel.INSTANCE;
        };
    }

    private static volatile ErasureBackend defaultBackend;

    /**
     * The backend chosen from {@code oe.erasure.backend} on first use. A bad value fails every call
     * with the same clear message (never a class-initialization error).
     */
    static ErasureBackend defaultBackend() {
        ErasureBackend b = defaultBackend;
        if (b == null) {
            b = choose(System.getProperty(ErasureBackend.PROPERTY));
            defaultBackend = b; // a racing second computation gives the same answer
        }
        return b;
    }

    /** Keeps VectorKernel (and the incubator classes it links) unloaded unless it is used. */
    private static final class VectorHolder {
        static CodingKernel kernel() {
            return VectorKernel.INSTANCE;
        }
    }

    /** The default for a value of {@code oe.erasure.backend} (null or blank: the fastest available). */
    static ErasureBackend choose(String forced) {
        if (forced != null && !forced.isBlank()) {
            ErasureBackend b = ErasureBackend.parse(forced);
            of(b); // fails with the reason when the forced backend cannot run here
            return b;
        }
        if (ErasureBackend.ISAL.isAvailable()) {
            return ErasureBackend.ISAL;
        }
        return vectorModulePresent() ? ErasureBackend.VECTOR : ErasureBackend.SCALAR;
    }
}
