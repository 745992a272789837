package io.oecloud.node;

import io.oecloud.erasure.ReedSolomon;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Runs the data path's kernels (BLAKE3 CIDs, Reed-Solomon, ChaCha20-Poly1305, AES-256-GCM) on
 * made-up bytes in the background when a node starts, so the JIT compiles them before the first
 * upload needs them. Until C2 has compiled it, a Vector API kernel runs boxed, about a hundred
 * times slower (an 8 MiB BLAKE3 CID takes 700 ms in a fresh JVM, 3 ms once compiled), and the
 * JDK's cipher runs without its intrinsics; a node that met its first upload cold spent most of it there.
 *
 * <p>AES-GCM (private objects' segments) is warmed with many small calls, not with segments: the
 * JDK's counter-mode loop only reaches its AES-NI intrinsic once C2 compiles it from calls, and a
 * segment is one call. Measured on this project's 2-core Xeon guest (no VAES): a fresh JVM sealed
 * 8 MiB segments at 56-62 MB/s for as long as it ran (a node's profile in an S3 PUT of 512 MiB: 40%
 * of its CPU in CounterMode.implCrypt); after 5,000 calls of 1 KiB (~100-300 ms), 4.8-5.0 GB/s.
 * Calls of 256 bytes or less did not do it.
 */
final class Warmup {
    private static final System.Logger LOG = System.getLogger(Warmup.class.getName());
    /** Rounds of each kernel: C2 has compiled all of them well before this (about 1-2 CPU-seconds). */
    static final int ROUNDS = 24;
    /** AES-GCM seal-and-open calls, and the bytes of each (see the class comment for why these). */
    static final int GCM_CALLS = 5_000;
    static final int GCM_BYTES = 1024;

    private Warmup() {}

    /** Starts the warm-up on a daemon thread and returns at once. */
    static Thread start(int k, int m, int segmentSize) {
        return Thread.ofPlatform().daemon().name("jit-warmup").start(() -> {
            long t = System.nanoTime();
            try {
                run(k, m, segmentSize, ROUNDS);
                LOG.log(System.Logger.Level.DEBUG, "kernels warmed up in {0} ms", (System.nanoTime() - t) / 1_000_000);
            } catch (GeneralSecurityException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "warm-up stopped: {0}", e.toString());
            }
        });
    }

    /** One pass of each kernel per round over a segment of made-up bytes; returns a value so nothing is elided. */
    static long run(int k, int m, int segmentSize, int rounds) throws GeneralSecurityException {
        int shardSize = (segmentSize + k - 1) / k;
        byte[][] shards = new byte[k + m][shardSize];
        Random rnd = new Random(k * 31L + m);
        for (int i = 0; i < k; i++) {
            rnd.nextBytes(shards[i]);
        }
        ReedSolomon rs = ReedSolomon.of(k, m);
        boolean[] present = new boolean[k + m];
        Cipher cipher = Cipher.getInstance("ChaCha20-Poly1305");
        SecretKeySpec key = new SecretKeySpec(new byte[32], "ChaCha20");
        int frame = 65_519; // a full Noise frame's plaintext
        ByteBuffer sealed = ByteBuffer.allocate(frame + 16);
        ByteBuffer opened = ByteBuffer.allocate(frame);
        byte[] nonce = new byte[12];
        long counter = 0; // the cipher refuses a key and nonce it was just given
        long sink = aesGcm(rounds >= ROUNDS ? GCM_CALLS : rounds * 10);
        for (int r = 0; r < rounds; r++) {
            rs.encode(shards, 0, shardSize);
            java.util.Arrays.fill(present, true);
            present[r % k] = false;
            present[k + r % m] = false;
            rs.reconstruct(shards, present, 0, shardSize);
            for (byte[] s : shards) {
                sink += Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, s).hashCode();
            }
            for (int f = 0; f + frame <= shardSize; f += frame) {
                counter++;
                for (int b = 0; b < 8; b++) {
                    nonce[4 + b] = (byte) (counter >>> (8 * b));
                }
                sealed.clear();
                opened.clear();
                cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(nonce));
                cipher.doFinal(ByteBuffer.wrap(shards[0], f, frame), sealed);
                sealed.flip();
                cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(nonce));
                cipher.doFinal(sealed, opened);
                sink += opened.get(0);
            }
        }
        return sink;
    }

    /** {@code calls} AES-256-GCM seals and opens of {@link #GCM_BYTES} each, as SegmentCipher makes them. */
    static long aesGcm(int calls) throws GeneralSecurityException {
        Cipher seal = Cipher.getInstance("AES/GCM/NoPadding");
        Cipher open = Cipher.getInstance("AES/GCM/NoPadding");
        SecretKeySpec key = new SecretKeySpec(new byte[32], "AES");
        byte[] plain = new byte[GCM_BYTES];
        byte[] sealed = new byte[GCM_BYTES + 16];
        byte[] nonce = new byte[12];
        long sink = 0;
        for (int i = 0; i < calls; i++) {
            for (int b = 0; b < 4; b++) {
                nonce[b] = (byte) (i >>> (8 * b)); // GCM refuses a nonce used just before with the same key
            }
            javax.crypto.spec.GCMParameterSpec spec = new javax.crypto.spec.GCMParameterSpec(128, nonce);
            seal.init(Cipher.ENCRYPT_MODE, key, spec);
            int n = seal.doFinal(plain, 0, plain.length, sealed, 0);
            open.init(Cipher.DECRYPT_MODE, key, spec);
            sink += open.doFinal(sealed, 0, n, plain, 0);
        }
        return sink;
    }
}
