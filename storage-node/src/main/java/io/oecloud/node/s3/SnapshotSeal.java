package io.oecloud.node.s3;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals a namespace snapshot for the network, where anyone with its CID can read the bytes:
 * AES-256-GCM in chunks of 1 MiB under a key only the namespace key derives, each chunk's nonce
 * the snapshot's random 8-byte salt and the chunk's number, and the header and a "last chunk" flag
 * in each chunk's associated data, so a reordered, cut or extended snapshot fails to open rather
 * than restoring part of a namespace.
 *
 * <pre>
 *   "oe-s3-snap-1\n" salt(8)  then per chunk: length(4, big-endian) GCM(chunk, aad = header || last)
 * </pre>
 */
final class SnapshotSeal {
    static final byte[] MAGIC = "oe-s3-snap-1\n".getBytes(StandardCharsets.US_ASCII);
    static final int CHUNK = 1 << 20;
    private static final int TAG = 16;

    private SnapshotSeal() {}

    /** Writes {@code plain} sealed under {@code key} (32 bytes) to {@code out}. */
    static void seal(byte[] key, InputStream plain, OutputStream out) throws IOException {
        byte[] salt = new byte[8];
        new SecureRandom().nextBytes(salt);
        byte[] header = concat(MAGIC, salt);
        out.write(header);
        byte[] chunk = plain.readNBytes(CHUNK);
        for (int n = 0; ; n++) {
            byte[] next = chunk.length < CHUNK ? new byte[0] : plain.readNBytes(CHUNK);
            boolean last = next.length == 0;
            byte[] sealed = gcm(Cipher.ENCRYPT_MODE, key, salt, n, header, last, chunk);
            out.write(ByteBuffer.allocate(4).putInt(sealed.length).array());
            out.write(sealed);
            if (last) {
                return;
            }
            chunk = next;
        }
    }

    /** The plain bytes of a sealed snapshot; IOException naming what is wrong when it does not open. */
    static byte[] open(byte[] key, InputStream sealed) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(sealed));
        byte[] header = in.readNBytes(MAGIC.length + 8);
        if (header.length < MAGIC.length + 8 || !Arrays.equals(Arrays.copyOf(header, MAGIC.length), MAGIC)) {
            throw new IOException("not a sealed namespace snapshot (bad header)");
        }
        byte[] salt = Arrays.copyOfRange(header, MAGIC.length, header.length);
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        for (int n = 0; ; n++) {
            int len;
            try {
                len = in.readInt();
            } catch (EOFException e) {
                throw new IOException("the snapshot is cut short after chunk " + n);
            }
            if (len < TAG || len > CHUNK + TAG) {
                throw new IOException("chunk " + n + " of the snapshot has an impossible length " + len);
            }
            byte[] c = in.readNBytes(len);
            if (c.length < len) {
                throw new IOException("the snapshot is cut short in chunk " + n);
            }
            boolean last = in.available() == 0 && peekEnd(in);
            byte[] p;
            try {
                p = gcm(Cipher.DECRYPT_MODE, key, salt, n, header, last, c);
            } catch (IOException e) {
                throw new IOException("chunk " + n + " of the snapshot does not open under this namespace key"
                        + " (another namespace's, or damaged)");
            }
            plain.writeBytes(p);
            if (last) {
                return plain.toByteArray();
            }
        }
    }

    private static boolean peekEnd(DataInputStream in) throws IOException {
        in.mark(1);
        int b = in.read();
        if (b < 0) {
            return true;
        }
        in.reset();
        return false;
    }

    private static byte[] gcm(int mode, byte[] key, byte[] salt, int n, byte[] header, boolean last, byte[] data) throws IOException {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            byte[] nonce = ByteBuffer.allocate(12).put(salt).putInt(n).array();
            c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(header);
            c.updateAAD(new byte[] {(byte) (last ? 1 : 0)});
            return c.doFinal(data);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new IOException("authentication failed", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is part of every JDK", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
