package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import io.oecloud.dht.Identity;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Directory objects: a manifest of kind DIRECTORY whose entries (name, CID, size, type, kind) are
 * sorted by name bytes, stored like any manifest ({@link ManifestStore}); and paths walked through
 * them.
 */
final class Directories {
    private final ManifestStore manifests;
    private final Identity owner;

    Directories(ManifestStore manifests, Identity owner) {
        this.manifests = manifests;
        this.owner = owner;
    }

    /**
     * Stores a directory of existing objects and returns its CID. Every entry's object is looked up
     * (never trusted from the request): its size, type and kind come from its own manifest.
     *
     * @throws ObjectException BAD_INPUT for a bad or repeated name, too many entries or an unknown object
     */
    Cid put(List<ObjectStore.NewEntry> entries) throws ObjectException {
        return put(entries, StoredHook.NONE);
    }

    /** {@link #put(List)}, with {@code hook} as the last step of storing the directory's manifest. */
    Cid put(List<ObjectStore.NewEntry> entries, StoredHook hook) throws ObjectException {
        if (entries.size() > ObjectStore.MAX_ENTRIES) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "a directory holds at most " + ObjectStore.MAX_ENTRIES
                    + " entries, was given " + entries.size());
        }
        List<Entry> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long total = 0;
        for (ObjectStore.NewEntry e : entries) {
            checkName(e.name());
            if (!names.add(e.name())) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry name '" + e.name() + "' appears twice");
            }
            if (e.cid().codec() != ContentCodec.MANIFEST) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry '" + e.name() + "': " + e.cid()
                        + " is not an object CID (codec " + e.cid().codec().label() + ")");
            }
            Manifest child;
            try {
                child = manifests.get(e.cid());
            } catch (ObjectException x) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry '" + e.name() + "': " + x.getMessage());
            }
            out.add(Entry.newBuilder().setName(e.name()).setCid(ByteString.copyFrom(e.cid().toBytes()))
                    .setSize(child.getSize()).setContentType(child.getContentType()).setKind(child.getKind()).build());
            total = Math.addExact(total, child.getSize());
        }
        out.sort(Comparator.comparing((Entry e) -> e.getName().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
        Manifest m = Manifest.newBuilder().setKind(Kind.DIRECTORY).setContentType(ObjectStore.DIRECTORY_TYPE).setSize(total)
                .setOwner(ByteString.copyFrom(owner.publicKey())).addAllEntries(out).build();
        return manifests.store(m, hook);
    }

    /**
     * Refuses a name that is not one path element: empty, over 255 bytes, with '/' or NUL, '.' or '..'.
     *
     * @throws ObjectException BAD_INPUT naming the name and what is wrong with it
     */
    static void checkName(String name) throws ObjectException {
        byte[] b = name == null ? new byte[0] : name.getBytes(StandardCharsets.UTF_8);
        String why = b.length == 0 ? "is empty" : b.length > 255 ? "is longer than 255 bytes"
                : name.indexOf('/') >= 0 ? "contains '/'" : name.indexOf('\0') >= 0 ? "contains NUL"
                : name.equals(".") || name.equals("..") ? "is '.' or '..'" : null;
        if (why != null) {
            throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry name '" + name + "' " + why);
        }
    }

    /**
     * The object at {@code path} (names, outermost first) under the directory {@code root}
     * ({@code root} itself for an empty path).
     *
     * @throws ObjectException NOT_FOUND when a name is missing; BAD_INPUT when the path runs through a file
     */
    ObjectView resolve(Cid root, List<String> path) throws ObjectException {
        Cid at = root;
        Manifest m = manifests.get(root);
        StringBuilder walked = new StringBuilder(root.toString());
        for (String name : path) {
            if (m.getKind() != Kind.DIRECTORY) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, walked + " is a file, so it has no '" + name + "' inside");
            }
            Entry found = null;
            for (Entry e : m.getEntriesList()) {
                if (e.getName().equals(name)) {
                    found = e;
                    break;
                }
            }
            if (found == null) {
                throw new ObjectException(ObjectException.Code.NOT_FOUND, "directory " + walked + " has no entry '" + name + "'");
            }
            walked.append('/').append(name);
            at = Cid.fromBytes(found.getCid().toByteArray());
            m = manifests.get(at);
        }
        return new ObjectView(at, m);
    }
}
