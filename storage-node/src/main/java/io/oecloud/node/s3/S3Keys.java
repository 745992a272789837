package io.oecloud.node.s3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The gateway's access keys: the file {@code s3-keys.json} in the node's data directory, mode
 * 0600 (whoever reads it can use the gateway, as with the API token). Each key is an access key ID
 * (20 upper-case letters and digits, starting "OE") and a secret (40 characters of base64url); a
 * revoked key stays listed and is refused. {@code oe s3 keys} writes the file; a running gateway
 * re-reads it when it changed, so a key created or revoked takes effect at the next request
 * without a restart. Writes go to a temporary file moved into place (readers see the old or the
 * new file, never half of one). Thread-safe.
 */
public final class S3Keys {
    public static final String FILE = "s3-keys.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ID = Pattern.compile("OE[A-Z0-9]{18}");
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /** One key; {@code secret} is never printed after its creation except by {@code create}. */
    public record Key(String accessKeyId, String secret, long createdMillis, boolean revoked) {
        @Override
        public String toString() {
            return "Key[" + accessKeyId + (revoked ? ", revoked" : "") + "]";
        }
    }

    private final Path file;
    private final SecureRandom random = new SecureRandom();
    private List<Key> keys = List.of();
    private long readModified = Long.MIN_VALUE;
    private long readSize = -1;

    private S3Keys(Path file) {
        this.file = file;
    }

    /** The keys of the node whose data directory is {@code dataDir} (none yet when the file is missing). */
    public static S3Keys in(Path dataDir) throws IOException {
        S3Keys k = new S3Keys(dataDir.resolve(FILE));
        k.refresh();
        return k;
    }

    public Path file() {
        return file;
    }

    /** The key with this ID when it exists and is not revoked (the file re-read if it changed). */
    public synchronized Optional<Key> active(String accessKeyId) {
        try {
            refresh();
        } catch (IOException e) { // a broken file refuses every key rather than the gateway
            return Optional.empty();
        }
        return keys.stream().filter(k -> k.accessKeyId().equals(accessKeyId) && !k.revoked()).findFirst();
    }

    public synchronized List<Key> list() throws IOException {
        refresh();
        return keys;
    }

    /** A new key, saved before it is returned. */
    public synchronized Key create(long nowMillis) throws IOException {
        refresh();
        StringBuilder id = new StringBuilder("OE");
        for (int i = 0; i < 18; i++) {
            id.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        byte[] s = new byte[30];
        random.nextBytes(s);
        Key k = new Key(id.toString(), java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(s), nowMillis, false);
        List<Key> next = new ArrayList<>(keys);
        next.add(k);
        save(next);
        return k;
    }

    /** Revokes {@code accessKeyId}; false when there is no such key. */
    public synchronized boolean revoke(String accessKeyId) throws IOException {
        refresh();
        List<Key> next = new ArrayList<>();
        boolean found = false;
        for (Key k : keys) {
            if (k.accessKeyId().equals(accessKeyId)) {
                found = true;
                next.add(new Key(k.accessKeyId(), k.secret(), k.createdMillis(), true));
            } else {
                next.add(k);
            }
        }
        if (found) {
            save(next);
        }
        return found;
    }

    private void refresh() throws IOException {
        if (!Files.exists(file)) {
            keys = List.of();
            return;
        }
        long modified = Files.getLastModifiedTime(file).toMillis();
        long size = Files.size(file);
        if (modified == readModified && size == readSize) {
            return;
        }
        if (size > 1 << 20) {
            throw new IOException(file + " is over 1 MiB: not a key file");
        }
        JsonNode root = JSON.readTree(Files.readAllBytes(file));
        List<Key> read = new ArrayList<>();
        for (JsonNode n : root.path("keys")) {
            String id = n.path("accessKeyId").asText();
            String secret = n.path("secret").asText();
            if (!ID.matcher(id).matches() || secret.length() < 20) {
                throw new IOException(file + " holds a malformed key '" + id + "'");
            }
            read.add(new Key(id, secret, n.path("created").asLong(), n.path("revoked").asBoolean()));
        }
        keys = List.copyOf(read);
        readModified = modified;
        readSize = size;
    }

    private void save(List<Key> next) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode a = root.putArray("keys");
        for (Key k : next) {
            a.addObject().put("accessKeyId", k.accessKeyId()).put("secret", k.secret()).put("created", k.createdMillis())
                    .put("revoked", k.revoked());
        }
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), ".s3-keys", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        keys = List.copyOf(next);
        readModified = Long.MIN_VALUE; // the next lookup re-reads (mtime granularity may hide a quick second write)
        readSize = -1;
    }
}
