package io.oecloud.node.s3;

import io.oecloud.chain.ledger.Ledger;
import io.oecloud.dht.Identity;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

/**
 * The S3 namespace key of a node: {@code DATA_DIR/s3/identity.key} (mode 0600), apart from the
 * node's identity. It owns everything the gateway stores (manifests, pins, the keys of private
 * objects, storage contracts) and the namespace's name on OEChain, so a copy of it moves the
 * namespace to another node ({@code oe s3 restore --namespace-key FILE}).
 */
public final class NamespaceKey {
    private NamespaceKey() {}

    /** The namespace key file of the node whose data directory is {@code dataDir}. */
    public static Path file(Path dataDir) {
        return dataDir.resolve("s3").resolve(Identity.KEY_FILE);
    }

    /** A key read from {@code from}, with a clear error when it is none. */
    public static Identity read(Path from) throws IOException {
        if (!Files.isRegularFile(from)) {
            throw new IOException("no namespace key file " + from);
        }
        try {
            return Identity.load(from);
        } catch (IOException e) {
            throw new IOException(from + " is not a namespace key (a copy of a node's s3/identity.key): " + e.getMessage(), e);
        }
    }

    /**
     * Whether {@link #install} would write {@code key}: false when it is there already.
     *
     * @throws IOException when another key is there and {@code replace} is false (the message says how to go on)
     */
    public static boolean checkInstallable(Identity key, Path dataDir, boolean replace) throws IOException {
        Path target = file(dataDir);
        if (!Files.exists(target)) {
            return true;
        }
        Identity present = read(target);
        if (Arrays.equals(present.publicKey(), key.publicKey())) {
            return false;
        }
        if (!replace) {
            throw new IOException(target + " holds another namespace key (account " + Ledger.address(present.publicKey())
                    + ") than the one given (account " + Ledger.address(key.publicKey()) + "); its objects would be left"
                    + " behind: give --replace-namespace-key to set it aside and use the given one");
        }
        return true;
    }

    /**
     * Makes {@code key} the namespace key of the node at {@code dataDir}. Nothing changes when it is
     * that already. Another key there is kept unless {@code replace}: then it is moved aside to
     * {@code identity.key.replaced-MILLIS} (whatever it owns stays reachable with it), never deleted.
     *
     * @return the file another key was moved to, or null
     * @throws IOException when another key is there and {@code replace} is false (the message says how to go on)
     */
    public static Path install(Identity key, Path dataDir, boolean replace) throws IOException {
        Path target = file(dataDir);
        if (!checkInstallable(key, dataDir, replace)) {
            return null;
        }
        Files.createDirectories(target.getParent());
        Path aside = null;
        if (Files.exists(target)) {
            aside = target.resolveSibling(Identity.KEY_FILE + ".replaced-" + System.currentTimeMillis());
            Files.move(target, aside);
        }
        Path tmp = target.resolveSibling(Identity.KEY_FILE + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, key.privateKeyProto());
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target);
        }
        return aside;
    }
}
