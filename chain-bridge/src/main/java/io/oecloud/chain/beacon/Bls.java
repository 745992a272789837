package io.oecloud.chain.beacon;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import supranational.blst.BLST_ERROR;
import supranational.blst.P1;
import supranational.blst.P1_Affine;
import supranational.blst.P2;
import supranational.blst.P2_Affine;

/**
 * BLS signatures on BLS12-381 (blst through jblst), "minimal public key" variant: public keys
 * are compressed G1 points (48 bytes), signatures compressed G2 points (96 bytes). Signatures use
 * the proof-of-possession scheme's ciphersuite (the IETF BLS draft's {@code _POP_} DSTs): every
 * key is registered with a proof of possession, which is what makes aggregating signatures of
 * one message under many keys safe against rogue keys.
 *
 * <p>BLS signatures are unique (one valid signature per key and message), so a signer cannot
 * grind its share of the beacon. Every point read from outside is checked: the right length, a
 * valid encoding, on the curve, in the prime-order subgroup, and (keys) not the identity.
 *
 * <p>jblst's objects are plain Java arrays (no native memory to release); the native library is
 * loaded from jblst's jar on first use. Thread-safe: no shared mutable state.
 */
public final class Bls {
    public static final int PUBLIC_KEY_BYTES = 48;
    public static final int SIGNATURE_BYTES = 96;
    static final String SIG_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    static final String POP_DST = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    private static final byte[] POP_DOMAIN = "oechain/beacon/pop/v1".getBytes(StandardCharsets.US_ASCII);

    private Bls() {}

    /** A BLS secret key; never leaves the process (derived again from the node's identity at each start). */
    public static final class SecretKey {
        private final supranational.blst.SecretKey sk;
        private final byte[] publicKey;

        private SecretKey(supranational.blst.SecretKey sk) {
            this.sk = sk;
            this.publicKey = new P1(sk).compress();
        }

        /** blst's KeyGen (IETF BLS draft, HKDF) from at least 32 bytes of secret input keying material. */
        public static SecretKey fromIkm(byte[] ikm) {
            if (ikm.length < 32) {
                throw new IllegalArgumentException("BLS key material must be at least 32 bytes, got " + ikm.length);
            }
            supranational.blst.SecretKey sk = new supranational.blst.SecretKey();
            sk.keygen(ikm);
            return new SecretKey(sk);
        }

        /**
         * The beacon key of a node: derived from its identity's Ed25519 seed (IKM = the
         * identity's HMAC-SHA256 secret for "oechain/beacon/bls/v1", so the seed itself is never
         * seen), hence no key file of its own: the same identity always gives the same key.
         */
        public static SecretKey fromIdentity(io.oecloud.dht.Identity identity) {
            return fromIkm(identity.deriveSecret("oechain/beacon/bls/v1"));
        }

        /** The 48-byte compressed public key. */
        public byte[] publicKey() {
            return publicKey.clone();
        }

        /** The 96-byte signature of {@code message}. */
        public byte[] sign(byte[] message) {
            return new P2().hash_to(message, SIG_DST).sign_with(sk).compress();
        }

        /** The proof of possession of this key for {@code operator}'s candidacy (see {@link #popMessage}). */
        public byte[] pop(String operator) {
            return new P2().hash_to(popMessage(publicKey, operator), POP_DST).sign_with(sk).compress();
        }
    }

    /**
     * What a proof of possession signs: {@code "oechain/beacon/pop/v1" || key || operator}, under
     * the PoP DST. Binding the operator's address (the draft's PopProve signs the key alone) means
     * a published key and proof cannot be registered by another candidate.
     */
    static byte[] popMessage(byte[] publicKey, String operator) {
        byte[] op = operator.getBytes(StandardCharsets.UTF_8);
        byte[] m = new byte[POP_DOMAIN.length + publicKey.length + op.length];
        System.arraycopy(POP_DOMAIN, 0, m, 0, POP_DOMAIN.length);
        System.arraycopy(publicKey, 0, m, POP_DOMAIN.length, publicKey.length);
        System.arraycopy(op, 0, m, POP_DOMAIN.length + publicKey.length, op.length);
        return m;
    }

    /** Why {@code publicKey} is not a usable key, or null when it is. */
    public static String checkPublicKey(byte[] publicKey) {
        return publicKey(publicKey) == null ? "the beacon key must be a 48-byte compressed BLS12-381 G1 point in the subgroup, not the identity" : null;
    }

    /**
     * Valid keys already decoded (decompression and the subgroup check cost about 0.1 ms a key,
     * and a block's check reads every signer's): only valid ones are kept, and a hit is the very
     * same 48 bytes, so the answer is the one decoding again would give. jblst's points are only
     * read after this (aggregation copies them), so sharing them between threads is safe.
     */
    private static final com.github.benmanes.caffeine.cache.Cache<java.nio.ByteBuffer, P1_Affine> KEYS =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(1024).build();

    private static P1_Affine publicKey(byte[] b) {
        if (b == null || b.length != PUBLIC_KEY_BYTES) {
            return null;
        }
        java.nio.ByteBuffer k = java.nio.ByteBuffer.wrap(b.clone());
        P1_Affine cached = KEYS.getIfPresent(k);
        if (cached != null) {
            return cached;
        }
        try {
            P1_Affine p = new P1_Affine(b);
            if (p.in_group() && !p.is_inf()) {
                KEYS.put(k, p);
                return p;
            }
            return null;
        } catch (RuntimeException e) { // blst: bad encoding, not on the curve
            return null;
        }
    }

    private static P2_Affine signature(byte[] b) {
        if (b == null || b.length != SIGNATURE_BYTES) {
            return null;
        }
        try {
            P2_Affine p = new P2_Affine(b);
            return p.in_group() ? p : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Whether {@code signature} is {@code publicKey}'s signature of {@code message}. */
    public static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        P1_Affine pk = publicKey(publicKey);
        P2_Affine sig = signature(signature);
        return pk != null && sig != null && sig.core_verify(pk, true, message, SIG_DST) == BLST_ERROR.BLST_SUCCESS;
    }

    /** Whether {@code pop} proves possession of {@code publicKey} for {@code operator}. */
    public static boolean verifyPop(byte[] publicKey, String operator, byte[] pop) {
        P1_Affine pk = publicKey(publicKey);
        P2_Affine sig = signature(pop);
        return pk != null && sig != null && sig.core_verify(pk, true, popMessage(publicKey, operator), POP_DST) == BLST_ERROR.BLST_SUCCESS;
    }

    /** The 96-byte aggregate of {@code signatures} (each must be a valid encoding: IllegalArgumentException otherwise). */
    public static byte[] aggregate(List<byte[]> signatures) {
        if (signatures.isEmpty()) {
            throw new IllegalArgumentException("nothing to aggregate");
        }
        P2 sum = null;
        for (int i = 0; i < signatures.size(); i++) {
            P2_Affine s = signature(signatures.get(i));
            if (s == null) {
                throw new IllegalArgumentException("signature " + i + " is not a 96-byte compressed G2 point in the subgroup");
            }
            if (sum == null) {
                sum = new P2(s);
            } else {
                sum.aggregate(s);
            }
        }
        return sum.compress();
    }

    /**
     * Whether {@code aggregate} is the aggregate of signatures of {@code message} by each of
     * {@code publicKeys} (all with proofs of possession checked at registration): one pairing
     * check against the sum of the keys. Refused: no key, a key given twice, a bad key.
     */
    public static boolean verifyAggregate(List<byte[]> publicKeys, byte[] message, byte[] aggregate) {
        P2_Affine sig = signature(aggregate);
        if (sig == null || publicKeys.isEmpty()) {
            return false;
        }
        Set<java.nio.ByteBuffer> seen = new HashSet<>();
        P1 sum = null;
        for (byte[] b : publicKeys) {
            P1_Affine pk = publicKey(b);
            if (pk == null || !seen.add(java.nio.ByteBuffer.wrap(b))) {
                return false;
            }
            if (sum == null) {
                sum = new P1(pk);
            } else {
                sum.aggregate(pk);
            }
        }
        P1_Affine apk = sum.to_affine();
        return !apk.is_inf() && sig.core_verify(apk, true, message, SIG_DST) == BLST_ERROR.BLST_SUCCESS;
    }
}
