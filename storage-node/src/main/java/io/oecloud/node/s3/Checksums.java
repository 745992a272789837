package io.oecloud.node.s3;

import java.io.ByteArrayOutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * The checksums S3 clients send and expect ({@code x-amz-checksum-*}, base64 of the big-endian
 * value or digest), the ETag of a multipart object and the composite checksum of a multipart upload.
 */
public final class Checksums {
    private Checksums() {}

    /** The algorithms of {@code x-amz-checksum-algorithm}; {@code name()} is S3's spelling (CRC32, ..., SHA256). */
    public enum Algorithm {
        CRC32, CRC32C, CRC64NVME, SHA1, SHA256;

        /** {@code x-amz-checksum-crc32} etc. */
        public String headerName() {
            return "x-amz-checksum-" + name().toLowerCase(Locale.ROOT);
        }

        /** The XML element of the value: {@code ChecksumCRC32} etc. */
        public String xmlName() {
            return "Checksum" + name();
        }

        /** A fresh digest of this algorithm. */
        public Digest newDigest() {
            return new Digest(this);
        }

        /** The algorithm whose header is {@code header} (any case), if it is one. */
        public static Optional<Algorithm> fromHeader(String header) {
            for (Algorithm a : values()) {
                if (a.headerName().equalsIgnoreCase(header)) {
                    return Optional.of(a);
                }
            }
            return Optional.empty();
        }

        /** The algorithm named {@code name} (any case) in x-amz-checksum-algorithm or x-amz-sdk-checksum-algorithm. */
        public static Algorithm fromName(String name) throws S3Exception {
            for (Algorithm a : values()) {
                if (a.name().equalsIgnoreCase(name)) {
                    return a;
                }
            }
            throw new S3Exception(S3Error.InvalidArgument, "Checksum algorithm '" + name + "' is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256.");
        }
    }

    /** One running checksum; not thread-safe. {@link #finish} may be called more than once and returns the same value. */
    public static final class Digest {
        private final Algorithm algorithm;
        private final Checksum crc32;
        private final MessageDigest md;
        private long crc64 = -1L;
        private byte[] result;

        private Digest(Algorithm a) {
            this.algorithm = a;
            this.crc32 = switch (a) {
                case CRC32 -> new CRC32();
                case CRC32C -> new CRC32C();
                default -> null;
            };
            this.md = switch (a) {
                case SHA1 -> messageDigest("SHA-1");
                case SHA256 -> messageDigest("SHA-256");
                default -> null;
            };
        }

        public Algorithm algorithm() {
            return algorithm;
        }

        public void update(byte[] b, int off, int len) {
            if (result != null) {
                throw new IllegalStateException("the " + algorithm + " digest is finished");
            }
            if (crc32 != null) {
                crc32.update(b, off, len);
            } else if (md != null) {
                md.update(b, off, len);
            } else {
                crc64 = Crc64Nvme.update(crc64, b, off, len);
            }
        }

        /** The value: 4 big-endian bytes for the CRC32s, 8 for CRC64NVME, the digest for SHA1/SHA256. */
        public byte[] finish() {
            if (result == null) {
                if (crc32 != null) {
                    long v = crc32.getValue();
                    result = new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
                } else if (md != null) {
                    result = md.digest();
                } else {
                    long v = ~crc64;
                    result = new byte[8];
                    for (int i = 0; i < 8; i++) {
                        result[i] = (byte) (v >>> (56 - 8 * i));
                    }
                }
            }
            return result.clone();
        }

        /** {@link #finish} in base64, as in the headers. */
        public String base64() {
            return Base64.getEncoder().encodeToString(finish());
        }
    }

    /** The checksum of {@code data} with {@code a}, base64. */
    public static String base64(Algorithm a, byte[] data) {
        Digest d = a.newDigest();
        d.update(data, 0, data.length);
        return d.base64();
    }

    /** The ETag S3 gives a multipart object: quoted hex MD5 of the parts' MD5s concatenated, then "-" and their count. */
    public static String multipartEtag(List<byte[]> partMd5s) {
        MessageDigest md = messageDigest("MD5");
        for (byte[] m : partMd5s) {
            md.update(m);
        }
        return "\"" + SigV4.hex(md.digest()) + "-" + partMd5s.size() + "\"";
    }

    /**
     * S3's composite ("checksum of checksums") value of a multipart upload: base64 of the algorithm
     * over the parts' decoded checksums concatenated, then "-" and their count. CRC64NVME objects
     * only have a full-object checksum in S3; this does not compute that one.
     *
     * @param partChecksumsBase64 the parts' checksums in part order
     */
    public static String composite(Algorithm a, List<String> partChecksumsBase64) throws S3Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (String p : partChecksumsBase64) {
            try {
                all.writeBytes(Base64.getDecoder().decode(p));
            } catch (IllegalArgumentException e) {
                throw new S3Exception(S3Error.InvalidRequest, "The part " + a + " checksum '" + p + "' is not base64.");
            }
        }
        return base64(a, all.toByteArray()) + "-" + partChecksumsBase64.size();
    }

    static MessageDigest messageDigest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(name + " is part of every JDK", e);
        }
    }

    /*
     * CRC-64/NVME (the NVMe spec's CRC, S3's default checksum): reflected, polynomial 0xad93d23594c93659
     * (0x9a6c9329ac4bc9b5 reversed, the form a reflected table uses), init and xorout all ones, check
     * value of "123456789" 0xae8b14860a799888. Slice-by-8: table k gives the CRC of a byte followed by
     * k zero bytes, so eight input bytes fold into the register with eight lookups instead of eight
     * dependent byte steps.
     */
    static final class Crc64Nvme {
        private static final long POLY = 0x9a6c9329ac4bc9b5L;
        private static final long[][] T = new long[8][256];
        private static final VarHandle LE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

        static {
            for (int i = 0; i < 256; i++) {
                long c = i;
                for (int k = 0; k < 8; k++) {
                    c = (c & 1) != 0 ? (c >>> 1) ^ POLY : c >>> 1;
                }
                T[0][i] = c;
            }
            for (int t = 1; t < 8; t++) {
                for (int i = 0; i < 256; i++) {
                    long p = T[t - 1][i];
                    T[t][i] = T[0][(int) (p & 0xff)] ^ (p >>> 8);
                }
            }
        }

        private Crc64Nvme() {}

        /** The register after {@code b[off, off+len)}; start with -1 (all ones), finish with {@code ~register}. */
        static long update(long crc, byte[] b, int off, int len) {
            int i = off;
            int end = off + len;
            for (; end - i >= 8; i += 8) {
                long x = crc ^ (long) LE_LONG.get(b, i);
                crc = T[7][(int) (x & 0xff)] ^ T[6][(int) ((x >>> 8) & 0xff)] ^ T[5][(int) ((x >>> 16) & 0xff)]
                        ^ T[4][(int) ((x >>> 24) & 0xff)] ^ T[3][(int) ((x >>> 32) & 0xff)] ^ T[2][(int) ((x >>> 40) & 0xff)]
                        ^ T[1][(int) ((x >>> 48) & 0xff)] ^ T[0][(int) (x >>> 56)];
            }
            for (; i < end; i++) {
                crc = T[0][(int) ((crc ^ b[i]) & 0xff)] ^ (crc >>> 8);
            }
            return crc;
        }
    }
}
