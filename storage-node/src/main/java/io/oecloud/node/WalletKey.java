package io.oecloud.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.oecloud.chain.ledger.Ledger;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A wallet key file: the Ed25519 seed of an account, JSON, mode 600. With a passphrase the seed is
 * sealed with AES-256-GCM under a key stretched by PBKDF2-HMAC-SHA256 (600,000 iterations, random
 * salt); {@code --no-passphrase} stores it plain, for scripts and devnets.
 */
public final class WalletKey {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    static final int ITERATIONS = 600_000;

    private WalletKey() {}

    public static void write(Path file, byte[] seed, char[] passphrase) throws IOException {
        if (Files.exists(file)) {
            throw new IOException(file + " exists already; choose another --name or --key");
        }
        Identity id = Identity.fromSeed(seed);
        ObjectNode doc = JSON.createObjectNode().put("version", 1).put("address", Ledger.address(id.publicKey()));
        if (passphrase == null) {
            doc.put("seed", HexFormat.of().formatHex(seed));
        } else {
            byte[] salt = new byte[16];
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(salt);
            RANDOM.nextBytes(nonce);
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, stretch(passphrase, salt), new GCMParameterSpec(128, nonce));
                doc.put("kdf", "PBKDF2WithHmacSHA256").put("iterations", ITERATIONS).put("salt", HexFormat.of().formatHex(salt))
                        .put("nonce", HexFormat.of().formatHex(nonce)).put("ciphertext", HexFormat.of().formatHex(c.doFinal(seed)));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, doc.toPrettyString() + "\n", StandardCharsets.UTF_8);
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        Files.move(tmp, file);
    }

    public static String address(Path file) throws IOException {
        return read(file).path("address").asText();
    }

    public static boolean encrypted(Path file) throws IOException {
        return read(file).has("ciphertext");
    }

    private static JsonNode read(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException("no wallet key at " + file + " (create one with 'oe wallet new')");
        }
        return JSON.readTree(file.toFile());
    }

    /** The account's key; {@code passphrase} is asked for only when the file is encrypted. */
    public static Identity open(Path file, java.util.function.Supplier<char[]> passphrase) throws IOException {
        JsonNode doc = read(file);
        byte[] seed;
        if (doc.has("seed")) {
            seed = HexFormat.of().parseHex(doc.get("seed").asText());
        } else {
            char[] p = passphrase.get();
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, stretch(p, HexFormat.of().parseHex(doc.get("salt").asText())),
                        new GCMParameterSpec(128, HexFormat.of().parseHex(doc.get("nonce").asText())));
                seed = c.doFinal(HexFormat.of().parseHex(doc.get("ciphertext").asText()));
            } catch (javax.crypto.AEADBadTagException e) {
                throw new IOException("wrong passphrase for " + file);
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot open " + file + ": " + e.getMessage());
            } finally {
                Arrays.fill(p, '\0');
            }
        }
        Identity id = Identity.fromSeed(seed);
        Arrays.fill(seed, (byte) 0);
        if (!Ledger.address(id.publicKey()).equals(doc.path("address").asText())) {
            throw new IOException(file + " is damaged: its key does not match its address");
        }
        return id;
    }

    private static SecretKeySpec stretch(char[] passphrase, byte[] salt) throws GeneralSecurityException {
        byte[] k = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(passphrase, salt, ITERATIONS, 256)).getEncoded();
        return new SecretKeySpec(k, "AES");
    }

    /** OE_WALLET_PASSPHRASE, else asked on the terminal. */
    public static char[] passphrase(String prompt) {
        String env = System.getenv("OE_WALLET_PASSPHRASE");
        if (env != null) {
            return env.toCharArray();
        }
        java.io.Console console = System.console();
        if (console == null) {
            throw new IllegalStateException("a passphrase is needed: set OE_WALLET_PASSPHRASE, use a terminal, or --no-passphrase");
        }
        char[] p = console.readPassword(prompt);
        if (p == null || p.length == 0) {
            throw new IllegalStateException("an empty passphrase is not accepted (use --no-passphrase for an unencrypted key)");
        }
        return p;
    }
}
