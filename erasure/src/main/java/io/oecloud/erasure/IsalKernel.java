package io.oecloud.erasure;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * ISA-L's {@code ec_encode_data} through the FFM API, as Hadoop and Ozone use ISA-L natively.
 *
 * <p>ISA-L takes arrays of pointers, which cannot point into the Java heap: native segments
 * (direct buffers) go straight through, heap data is staged through a per-thread native buffer
 * in column blocks of {@link #STAGE_BLOCK} bytes. The expanded tables ({@code ec_init_tables},
 * 32 bytes per coefficient) live in native memory owned by an automatic arena, so they are freed
 * when the cached decode plan that holds them is collected.
 */
final class IsalKernel implements CodingKernel {
    private static final int STAGE_BLOCK = 64 * 1024;
    private static final String[] LIBRARY_NAMES = {"libisal.so.2", "libisal.so"};

    private static final MethodHandle INIT_TABLES;
    private static final MethodHandle ENCODE_DATA;
    private static final String UNAVAILABLE_REASON;

    static {
        MethodHandle init = null;
        MethodHandle encode = null;
        String reason = null;
        try {
            SymbolLookup lib = findLibrary();
            Linker linker = Linker.nativeLinker();
            init = linker.downcallHandle(lib.findOrThrow("ec_init_tables"),
                    FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
            // Short, non-blocking calls that never call back into Java: skip the thread-state switch.
            encode = linker.downcallHandle(lib.findOrThrow("ec_encode_data"),
                    FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                    Linker.Option.critical(false));
        } catch (Throwable e) {
            reason = e.getMessage();
        }
        INIT_TABLES = init;
        ENCODE_DATA = encode;
        UNAVAILABLE_REASON = reason;
    }

    static final IsalKernel INSTANCE = new IsalKernel();

    private static final ThreadLocal<Stage> STAGE = ThreadLocal.withInitial(Stage::new);

    private IsalKernel() {}

    static boolean isAvailable() {
        return UNAVAILABLE_REASON == null;
    }

    /** Why ISA-L cannot be used here, or null when it can. */
    static String unavailableReason() {
        return UNAVAILABLE_REASON;
    }

    private static SymbolLookup findLibrary() {
        IllegalArgumentException last = null;
        for (String name : LIBRARY_NAMES) {
            try {
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException e) {
                last = e;
            }
        }
        throw new IllegalStateException("ISA-L not found (" + String.join(", ", LIBRARY_NAMES)
                + "); install Debian's libisal2", last);
    }

    @Override
    public ErasureBackend backend() {
        return ErasureBackend.ISAL;
    }

    @Override
    public CodingTables prepare(byte[] matrix, int rows, int cols) {
        if (!isAvailable()) {
            throw new IllegalStateException("ISA-L backend unavailable: " + UNAVAILABLE_REASON);
        }
        MemorySegment gftbls = Arena.ofAuto().allocate(32L * rows * cols, 64);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(Math.max(1, matrix.length));
            MemorySegment.copy(matrix, 0, a, JAVA_BYTE, 0, matrix.length);
            INIT_TABLES.invokeExact(cols, rows, a, gftbls);
        } catch (Throwable e) {
            throw new IllegalStateException("ec_init_tables failed", e);
        }
        return new Tables(rows, cols, gftbls);
    }

    /** Per-thread native scratch: pointer arrays and staging for heap data. Grows, never shrinks. */
    private static final class Stage {
        MemorySegment pointers = MemorySegment.NULL;
        MemorySegment data = MemorySegment.NULL;
        private final MemorySegment[] outPointers = new MemorySegment[ReedSolomon.MAX_TOTAL_SHARDS + 1];

        void ensure(int shards, long stageBytes) {
            if (pointers.byteSize() < shards * ADDRESS.byteSize()) {
                pointers = Arena.ofAuto().allocate(ADDRESS, ReedSolomon.MAX_TOTAL_SHARDS);
                java.util.Arrays.fill(outPointers, null);
            }
            if (data.byteSize() < stageBytes) {
                data = Arena.ofAuto().allocate(stageBytes, 64);
            }
        }

        /** The pointer array's tail from entry {@code cols}: the outputs. Cached per offset. */
        MemorySegment outPointers(int cols) {
            MemorySegment s = outPointers[cols];
            if (s == null) {
                s = pointers.asSlice(cols * ADDRESS.byteSize());
                outPointers[cols] = s;
            }
            return s;
        }
    }

    private static final class Tables extends CodingTables {
        private final MemorySegment gftbls;

        Tables(int rows, int cols, MemorySegment gftbls) {
            super(rows, cols);
            this.gftbls = gftbls;
        }

        private void encode(int len, MemorySegment in, MemorySegment out) {
            try {
                ENCODE_DATA.invokeExact(len, cols, rows, gftbls, in, out);
            } catch (Throwable e) {
                throw new IllegalStateException("ec_encode_data failed", e);
            }
        }

        @Override
        void code(byte[][] src, int[] srcIdx, int srcOff, byte[][] dst, int[] dstIdx, int dstOff, int len) {
            if (len == 0) {
                return;
            }
            int block = Math.min(len, STAGE_BLOCK);
            Stage st = STAGE.get();
            st.ensure(rows + cols, (long) (rows + cols) * block);
            MemorySegment ptrs = st.pointers;
            for (int i = 0; i < rows + cols; i++) {
                ptrs.setAtIndex(JAVA_LONG, i, st.data.address() + (long) i * block);
            }
            for (int from = 0; from < len; from += block) {
                int n = Math.min(block, len - from);
                for (int c = 0; c < cols; c++) {
                    MemorySegment.copy(src[srcIdx[c]], srcOff + from, st.data, JAVA_BYTE, (long) c * block, n);
                }
                encode(n, ptrs, st.outPointers(cols));
                for (int r = 0; r < rows; r++) {
                    MemorySegment.copy(st.data, JAVA_BYTE, (long) (cols + r) * block, dst[dstIdx[r]], dstOff + from, n);
                }
            }
        }

        @Override
        void code(MemorySegment[] src, int[] srcIdx, long srcOff,
                  MemorySegment[] dst, int[] dstIdx, long dstOff, int len) {
            if (len == 0) {
                return;
            }
            boolean native_ = true;
            for (int c = 0; c < cols && native_; c++) {
                native_ = src[srcIdx[c]].isNative();
            }
            for (int r = 0; r < rows && native_; r++) {
                native_ = dst[dstIdx[r]].isNative();
            }
            Stage st = STAGE.get();
            if (native_) {
                st.ensure(rows + cols, 0);
                MemorySegment ptrs = st.pointers;
                // Raw addresses (bounds were checked by ReedSolomon): no slice objects per call.
                for (int c = 0; c < cols; c++) {
                    ptrs.setAtIndex(JAVA_LONG, c, src[srcIdx[c]].address() + srcOff);
                }
                for (int r = 0; r < rows; r++) {
                    ptrs.setAtIndex(JAVA_LONG, cols + r, dst[dstIdx[r]].address() + dstOff);
                }
                encode(len, ptrs, st.outPointers(cols));
                return;
            }
            int block = Math.min(len, STAGE_BLOCK);
            st.ensure(rows + cols, (long) (rows + cols) * block);
            MemorySegment ptrs = st.pointers;
            for (int i = 0; i < rows + cols; i++) {
                ptrs.setAtIndex(JAVA_LONG, i, st.data.address() + (long) i * block);
            }
            for (int from = 0; from < len; from += block) {
                int n = Math.min(block, len - from);
                for (int c = 0; c < cols; c++) {
                    MemorySegment.copy(src[srcIdx[c]], srcOff + from, st.data, (long) c * block, n);
                }
                encode(n, ptrs, st.outPointers(cols));
                for (int r = 0; r < rows; r++) {
                    MemorySegment.copy(st.data, (long) (cols + r) * block, dst[dstIdx[r]], dstOff + from, n);
                }
            }
        }
    }
}
