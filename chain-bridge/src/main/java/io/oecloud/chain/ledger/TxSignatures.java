package io.oecloud.chain.ledger;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * Ed25519 checks of transaction signatures: one rule on every validator, whichever backend runs
 * it. Validators must agree on every signature, or their app hashes part, and Ed25519
 * implementations differ exactly at the edges. The rule: S below the group order L; the key A and
 * the nonce R canonical encodings (y < p) of points not of small order; and the cofactored
 * equation [8][S]B = [8]R + [8][SHA-512(R || A || M)]A, which Bouncy Castle checks (and every
 * validator checked before libsodium was used).
 *
 * <p>libsodium checks the cofactorless equation (without the 8s), which implies the cofactored
 * one: when it accepts, the signature holds by the rule. They differ only when R or A carries a
 * small-order component, which no honest signer produces (TxSignaturesTest builds such a
 * signature: libsodium refuses it, Bouncy Castle accepts); so a signature libsodium refuses is
 * decided by Bouncy Castle, and only invalid or crafted signatures pay for both.
 *
 * <p>libsodium (through the FFM API) checks a signature in about 38 µs on this project's
 * benchmark machine, Bouncy Castle in about 66 µs; each validator checks every transaction once,
 * so this is the ledger's largest single cost. Without libsodium ({@code libsodium.so.23}, Debian's
 * libsodium23) Bouncy Castle runs alone, with the same answers.
 */
public final class TxSignatures {
    private static final String[] LIBRARY_NAMES = {"libsodium.so.23", "libsodium.so"};
    private static final MethodHandle SODIUM_VERIFY;
    private static final String BACKEND;

    static {
        MethodHandle verify = null;
        String backend = "Bouncy Castle";
        if (!Boolean.getBoolean("oe.chain.noSodium")) {
            for (String name : LIBRARY_NAMES) {
                try {
                    SymbolLookup lib = SymbolLookup.libraryLookup(name, Arena.global());
                    Linker linker = Linker.nativeLinker();
                    MethodHandle init = linker.downcallHandle(lib.findOrThrow("sodium_init"), FunctionDescriptor.of(ValueLayout.JAVA_INT));
                    if ((int) init.invokeExact() < 0) {
                        continue;
                    }
                    // critical: the heap arrays are passed in place (no copy); the call is short and never blocks
                    verify = linker.downcallHandle(lib.findOrThrow("crypto_sign_ed25519_verify_detached"),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                    ValueLayout.ADDRESS), Linker.Option.critical(true));
                    backend = "libsodium (" + name + ")";
                    break;
                } catch (Throwable e) { // not installed, or native access not enabled: Bouncy Castle decides alike
                    verify = null;
                }
            }
        }
        SODIUM_VERIFY = verify;
        BACKEND = backend;
    }

    private TxSignatures() {}

    /** Which implementation checks the equation: "libsodium (...)" or "Bouncy Castle". */
    public static String backend() {
        return BACKEND;
    }

    /** True when {@code signature} (64 bytes) by {@code publicKey} (32 bytes) over {@code message} holds, by the rule above. */
    public static boolean verify(byte[] signature, byte[] publicKey, byte[] message) {
        if (!admissible(signature, publicKey)) {
            return false;
        }
        if (SODIUM_VERIFY != null && sodium(signature, publicKey, message)) {
            return true; // cofactorless holds, so the cofactored equation does
        }
        return bouncyCastle(signature, publicKey, message);
    }

    /** The edge rules alone: lengths, S below L, A and R canonical and not of small order. */
    static boolean admissible(byte[] signature, byte[] publicKey) {
        return signature.length == 64 && publicKey.length == 32 && scalarBelowOrder(signature, 32)
                && usablePoint(publicKey, 0) && usablePoint(signature, 0);
    }

    static boolean sodium(byte[] signature, byte[] publicKey, byte[] message) {
        try {
            return (int) SODIUM_VERIFY.invokeExact(MemorySegment.ofArray(signature), MemorySegment.ofArray(message), (long) message.length,
                    MemorySegment.ofArray(publicKey)) == 0;
        } catch (Throwable e) {
            throw new IllegalStateException("libsodium verify failed to run", e);
        }
    }

    static boolean bouncyCastle(byte[] signature, byte[] publicKey, byte[] message) {
        try {
            return Ed25519.verify(signature, 0, publicKey, 0, message, 0, message.length);
        } catch (RuntimeException e) {
            return false;
        }
    }

    static boolean sodiumAvailable() {
        return SODIUM_VERIFY != null;
    }

    /** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
    private static final byte[] L = {
        (byte) 0xed, (byte) 0xd3, (byte) 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, (byte) 0xd6, (byte) 0x9c, (byte) 0xf7, (byte) 0xa2,
        (byte) 0xde, (byte) 0xf9, (byte) 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

    private static boolean scalarBelowOrder(byte[] b, int off) {
        for (int i = 31; i >= 0; i--) {
            int x = b[off + i] & 0xff;
            int l = L[i] & 0xff;
            if (x != l) {
                return x < l;
            }
        }
        return false; // equal to L
    }

    /**
     * The y-coordinates (little-endian, sign bit clear) of the eight points of small order: 0
     * (order 4), 1 (the neutral element), p - 1 (order 2) and the two of order 8. Each stands for
     * the points with either sign of x; TxSignaturesTest derives them from the curve equation.
     */
    static final byte[][] SMALL_ORDER_Y = {
        new byte[32],
        y("0100000000000000000000000000000000000000000000000000000000000000"),
        y("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        y("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        y("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    };

    private static byte[] y(String hex) {
        return java.util.HexFormat.of().parseHex(hex);
    }

    /** A canonical encoding (y < p = 2^255 - 19) of a point that is not of small order. */
    private static boolean usablePoint(byte[] b, int off) {
        byte[] y = Arrays.copyOfRange(b, off, off + 32);
        y[31] &= 0x7f; // the sign of x
        if (!belowP(y)) {
            return false;
        }
        for (byte[] small : SMALL_ORDER_Y) {
            if (Arrays.equals(y, small)) {
                return false;
            }
        }
        return true;
    }

    /** y < 2^255 - 19 for y < 2^255: false only for 2^255 - 19 .. 2^255 - 1 (bytes ed|ee..ff, ff.., 7f). */
    private static boolean belowP(byte[] y) {
        if ((y[31] & 0xff) != 0x7f) {
            return true;
        }
        for (int i = 30; i >= 1; i--) {
            if ((y[i] & 0xff) != 0xff) {
                return true;
            }
        }
        return (y[0] & 0xff) < 0xed;
    }
}
