package io.oecloud.node.s3;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Decodes a {@code Content-Encoding: aws-chunked} body into the object's bytes:
 *
 * <pre>
 * hex-size[;chunk-signature=SIG]\r\n DATA \r\n   ...repeated...
 * 0[;chunk-signature=SIG]\r\n
 * [name:value\r\n]* [x-amz-trailer-signature:SIG\r\n]   (trailers, when x-amz-trailer declared them)
 * \r\n
 * </pre>
 *
 * With a {@link ChunkSigner} every chunk's signature is checked, and the trailer's when there are
 * trailers (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]); without one (STREAMING-UNSIGNED-PAYLOAD-TRAILER)
 * chunks carry no signature and any extension is ignored.
 *
 * <p>Streaming, like S3: a chunk's data passes to the reader as it arrives and its SHA-256 is
 * computed on the way; its signature is checked when its last byte is read, before that read
 * returns. So a reader may have seen the start of a chunk that then fails: the upload reading this
 * stream fails as a whole on the {@link S3Exception} and never acknowledges unverified bytes.
 * {@code read} returns -1 only after the final chunk, the trailers and the decoded length have been
 * checked. Data is copied in bulk: straight from the raw stream into the reader's array when the
 * small line buffer is empty. Limits: lines of 4096 bytes, chunks of 64 MiB, 16 trailers. Not
 * thread-safe.
 */
public final class AwsChunkedStream extends InputStream {
    static final int MAX_LINE = 4096;
    static final long MAX_CHUNK = 64L << 20;
    static final int MAX_TRAILERS = 16;
    private static final String SIGNATURE_EXTENSION = "chunk-signature=";
    private static final String TRAILER_SIGNATURE = "x-amz-trailer-signature";

    private enum State { HEADER, DATA, DONE }

    private final InputStream raw;
    private final ChunkSigner signer;
    private final long decodedLength;
    private final Set<String> declaredTrailers;
    private final byte[] buf = new byte[8192];
    private int pos;
    private int lim;
    private State state = State.HEADER;
    private long remaining;
    private String chunkSignature;
    private MessageDigest chunkSha;
    private long decoded;
    private S3Exception failure;
    private final Map<String, String> trailers = new LinkedHashMap<>();

    /**
     * @param raw the body as received (bounded by the caller, e.g. to Content-Length)
     * @param signer the signature chain, or null for an unsigned payload
     * @param decodedLength x-amz-decoded-content-length, -1 unknown
     * @param declaredTrailers the lower-case names x-amz-trailer declared; every one must arrive, no other may
     */
    public AwsChunkedStream(InputStream raw, ChunkSigner signer, long decodedLength, Set<String> declaredTrailers) {
        this.raw = raw;
        this.signer = signer;
        this.decodedLength = decodedLength;
        this.declaredTrailers = Set.copyOf(declaredTrailers);
        this.chunkSha = signer == null ? null : Checksums.messageDigest("SHA-256");
    }

    /** The trailers (lower-case names, without x-amz-trailer-signature); complete once read returned -1. */
    public Map<String, String> trailers() {
        return Collections.unmodifiableMap(trailers);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (failure != null) {
            throw failure;
        }
        if (len == 0) {
            return 0;
        }
        try {
            return readChunked(b, off, len);
        } catch (S3Exception e) {
            failure = e;
            throw e;
        }
    }

    private int readChunked(byte[] b, int off, int len) throws IOException {
        while (true) {
            switch (state) {
                case DONE -> {
                    return -1;
                }
                case HEADER -> startChunk();
                case DATA -> {
                    int want = (int) Math.min(len, remaining);
                    int n;
                    if (pos < lim) {
                        n = Math.min(want, lim - pos);
                        System.arraycopy(buf, pos, b, off, n);
                        pos += n;
                    } else {
                        n = raw.read(b, off, want);
                        if (n < 0) {
                            throw new S3Exception(S3Error.IncompleteBody, "The body ended inside a chunk, " + remaining + " bytes short.");
                        }
                    }
                    if (chunkSha != null) {
                        chunkSha.update(b, off, n);
                    }
                    remaining -= n;
                    decoded += n;
                    if (remaining == 0) {
                        endChunk();
                    }
                    return n;
                }
            }
        }
    }

    /** Reads a chunk's header line; the final chunk (size 0) is checked here with its trailers. */
    private void startChunk() throws IOException {
        String line = readLine("a chunk header");
        int semi = line.indexOf(';');
        String hex = semi < 0 ? line : line.substring(0, semi);
        long size = parseSize(hex);
        chunkSignature = null;
        if (signer != null) {
            String ext = semi < 0 ? "" : line.substring(semi + 1);
            if (!ext.startsWith(SIGNATURE_EXTENSION) || !ext.substring(SIGNATURE_EXTENSION.length()).matches("[0-9a-fA-F]{64}")) {
                throw new S3Exception(S3Error.InvalidRequest, "A chunk header lacks its chunk-signature: '" + abbreviate(line) + "'.");
            }
            chunkSignature = ext.substring(SIGNATURE_EXTENSION.length());
        }
        if (decodedLength >= 0 && decoded + size > decodedLength) {
            throw new S3Exception(S3Error.IncompleteBody, "The chunks hold more than the " + decodedLength + " bytes of x-amz-decoded-content-length.");
        }
        if (size > 0) {
            remaining = size;
            state = State.DATA;
            return;
        }
        if (signer != null) {
            signer.verifyChunk(chunkSignature, chunkSha.digest());
        }
        readTrailers();
        if (decodedLength >= 0 && decoded != decodedLength) {
            throw new S3Exception(S3Error.IncompleteBody, "The chunks hold " + decoded + " bytes, not the " + decodedLength + " of x-amz-decoded-content-length.");
        }
        state = State.DONE;
    }

    /** After a chunk's data: its CRLF, then its signature. */
    private void endChunk() throws IOException {
        String crlf = readLine("the end of a chunk");
        if (!crlf.isEmpty()) {
            throw new S3Exception(S3Error.InvalidRequest, "A chunk's data is longer than its size says.");
        }
        if (signer != null) {
            signer.verifyChunk(chunkSignature, chunkSha.digest());
        }
        state = State.HEADER;
    }

    private void readTrailers() throws IOException {
        String signature = null;
        StringBuilder canonical = new StringBuilder();
        for (int count = 0; ; count++) {
            String line = readLine("the trailers");
            if (line.isEmpty()) {
                break;
            }
            if (count >= MAX_TRAILERS + 1) {
                throw new S3Exception(S3Error.InvalidRequest, "More than " + MAX_TRAILERS + " trailers.");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new S3Exception(S3Error.InvalidRequest, "A trailer is not 'name:value': '" + abbreviate(line) + "'.");
            }
            String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            if (signature != null) {
                throw new S3Exception(S3Error.InvalidRequest, "The trailer " + name + " comes after x-amz-trailer-signature.");
            }
            if (name.equals(TRAILER_SIGNATURE)) {
                signature = value;
                continue;
            }
            if (!declaredTrailers.contains(name)) {
                throw new S3Exception(S3Error.InvalidRequest, "The trailer " + name + " was not declared in x-amz-trailer.");
            }
            if (trailers.putIfAbsent(name, value) != null) {
                throw new S3Exception(S3Error.InvalidRequest, "The trailer " + name + " came twice.");
            }
            canonical.append(name).append(':').append(value).append('\n');
        }
        for (String d : declaredTrailers) {
            if (!trailers.containsKey(d)) {
                throw new S3Exception(S3Error.IncompleteBody, "The trailer " + d + " declared in x-amz-trailer did not arrive.");
            }
        }
        if (signer != null && !trailers.isEmpty()) {
            if (signature == null) {
                throw new S3Exception(S3Error.SignatureDoesNotMatch, "The trailers came without x-amz-trailer-signature.");
            }
            signer.verifyTrailer(signature, canonical.toString());
        }
    }

    private static long parseSize(String hex) throws S3Exception {
        if (hex.isEmpty() || hex.length() > 16) {
            throw new S3Exception(S3Error.InvalidRequest, "A chunk size is not a hex number: '" + abbreviate(hex) + "'.");
        }
        long size = 0;
        for (int i = 0; i < hex.length(); i++) {
            int d = Character.digit(hex.charAt(i), 16);
            if (d < 0) {
                throw new S3Exception(S3Error.InvalidRequest, "A chunk size is not a hex number: '" + abbreviate(hex) + "'.");
            }
            size = size * 16 + d;
            if (size > MAX_CHUNK) {
                throw new S3Exception(S3Error.InvalidRequest, "A chunk of more than " + MAX_CHUNK + " bytes.");
            }
        }
        return size;
    }

    /** One CRLF-terminated line (without it), ASCII; a bare CR or LF in it is a framing error. */
    private String readLine(String where) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            if (pos == lim && !fill()) {
                throw new S3Exception(S3Error.IncompleteBody, "The body ended in " + where + ".");
            }
            byte c = buf[pos++];
            if (c == '\n') {
                int n = line.length();
                if (n == 0 || line.charAt(n - 1) != '\r') {
                    throw new S3Exception(S3Error.InvalidRequest, "A line of " + where + " ends with LF, not CRLF.");
                }
                line.setLength(n - 1);
                if (line.indexOf("\r") >= 0) {
                    throw new S3Exception(S3Error.InvalidRequest, "A bare CR in " + where + ".");
                }
                return line.toString();
            }
            if (line.length() >= MAX_LINE) {
                throw new S3Exception(S3Error.InvalidRequest, "A line of " + where + " is longer than " + MAX_LINE + " bytes.");
            }
            line.append((char) (c & 0xff));
        }
    }

    private boolean fill() throws IOException {
        int n = raw.read(buf, 0, buf.length);
        if (n <= 0) {
            // read(byte[]) returns 0 only for an empty array; treat a misbehaving 0 as the end rather than spin.
            return false;
        }
        pos = 0;
        lim = n;
        return true;
    }

    private static String abbreviate(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        StringBuilder b = new StringBuilder();
        for (char c : t.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return b.toString();
    }

    @Override
    public int available() {
        return state == State.DATA ? (int) Math.min(lim - pos, remaining) : 0;
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }

    @Override
    public String toString() {
        return "AwsChunkedStream[" + decoded + " bytes decoded, " + state + "]";
    }
}
