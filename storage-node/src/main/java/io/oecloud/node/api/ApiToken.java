package io.oecloud.node.api;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The secret that the node's HTTP API asks for on every route that changes state or reveals
 * private data ({@code Authorization: Bearer TOKEN}). It lives in the file {@code api-token} in the
 * node's data directory, created at the node's first start: 32 random bytes as 64 hex digits,
 * mode 0600 from the moment the file exists (it is written under a temporary name created with
 * that mode, then linked into place, so no other user can ever read it and two nodes starting on
 * one directory agree on one token). Whoever can read the file can use the API: the operator,
 * the CLI and {@code oe devnet} read it themselves.
 *
 * <p>An operator may write a token of their own into the file (at least 32 characters of the
 * RFC 6750 token alphabet: letters, digits, {@code - . _ ~ + /}, trailing {@code =}).
 */
public final class ApiToken {
    /** The file in the data directory. */
    public static final String FILE = "api-token";
    static final int MIN_LENGTH = 32;
    private static final int MAX_LENGTH = 512;
    private static final Pattern TOKEN68 = Pattern.compile("[A-Za-z0-9._~+/-]+=*");
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final String value;
    private final byte[] digest;

    private ApiToken(String value) {
        this.value = value;
        this.digest = sha256(value);
    }

    /** A token from its text (as the operator or a client holds it). */
    public static ApiToken of(String value) {
        String v = value == null ? "" : value.strip();
        if (v.length() < MIN_LENGTH || v.length() > MAX_LENGTH || !TOKEN68.matcher(v).matches()) {
            throw new IllegalArgumentException("an API token is " + MIN_LENGTH + " to " + MAX_LENGTH
                    + " characters of letters, digits and - . _ ~ + / (the node writes 64 hex digits); this one has "
                    + v.length() + " characters" + (v.isEmpty() || TOKEN68.matcher(v).matches() ? "" : " and others than those"));
        }
        return new ApiToken(v);
    }

    /** A new random token: 32 bytes from the system's strong random source, as 64 hex digits. */
    public static ApiToken random() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return new ApiToken(HexFormat.of().formatHex(b));
    }

    public String value() {
        return value;
    }

    /**
     * Whether {@code presented} is this token, in time that does not depend on where they differ:
     * both sides are hashed first, so even their lengths are not compared directly.
     */
    boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(digest, sha256(presented));
    }

    /**
     * The node's token: {@code dataDir/api-token}, created (mode 0600) when it does not exist.
     *
     * @throws IOException if the file cannot be created or read, is readable by other users, or
     *                     holds no valid token (each message says how to fix it)
     */
    public static ApiToken loadOrCreate(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            Files.createDirectories(dataDir);
            ApiToken fresh = random();
            Path tmp = Files.createTempFile(dataDir, FILE + ".", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    ch.write(java.nio.ByteBuffer.wrap((fresh.value + "\n").getBytes(StandardCharsets.US_ASCII)));
                    ch.force(true);
                }
                try {
                    Files.createLink(file, tmp); // fails if another process created the file first
                } catch (FileAlreadyExistsException raced) {
                    return load(file);
                } catch (UnsupportedOperationException | IOException noLinks) {
                    if (Files.exists(file)) {
                        return load(file);
                    }
                    Files.move(tmp, file); // no hard links here: no replacing, at least
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            syncDirectory(dataDir);
            return fresh;
        }
        return load(file);
    }

    /**
     * The node's token from {@code file}, refused when other users may read it.
     *
     * @throws IOException naming the file and what to do
     */
    public static ApiToken load(Path file) throws IOException {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            Set<PosixFilePermission> others = java.util.EnumSet.copyOf(perms);
            others.removeAll(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));
            if (!others.isEmpty()) {
                throw new IOException(file + " may be read or changed by other users (mode " + PosixFilePermissions.toString(perms)
                        + "); whoever reads it controls the node's API: run chmod 600 " + file + ", or delete it to get a new token");
            }
        } catch (UnsupportedOperationException noPosix) {
            // a file system without POSIX modes: nothing to check
        }
        return read(file);
    }

    /** The token in {@code file} (a client reading it; no mode check, the node does that). */
    public static ApiToken read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        try {
            return of(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " holds no usable API token: " + e.getMessage()
                    + "; delete the file and the node writes a new one at its next start");
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot sync a directory; the token is re-created if it vanished
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return "ApiToken[redacted]"; // never in a log line by accident
    }
}
