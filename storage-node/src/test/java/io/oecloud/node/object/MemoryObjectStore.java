package io.oecloud.node.object;

import com.google.protobuf.ByteString;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.node.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link ObjectStore} contract in memory, for tests of what codes against it (the HTTP API):
 * objects are byte arrays named by the BLAKE3 manifest-codec CID of their type and bytes,
 * directories real directory views, failures chosen by the test. Thread-safe; every call records
 * what it was asked, so a test can check that a refused request reached no store.
 */
public final class MemoryObjectStore implements ObjectStore {
    private record Stored(ObjectView view, byte[] bytes, long storedAtMillis) {}

    private final Map<Cid, Stored> objects = new ConcurrentHashMap<>();
    private final List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile ObjectException failNext;
    private volatile int failReadAfter = -1;

    /** The next call that can fail throws {@code e} (once). */
    public void failNext(ObjectException.Code code, String message) {
        failNext = new ObjectException(code, message);
    }

    /** The next read writes {@code bytes} of its span, then fails with CORRUPT (a failure mid-body). */
    public void failReadAfter(int bytes) {
        failReadAfter = bytes;
    }

    /** Objects held now. */
    public int count() {
        return objects.size();
    }

    /** What was called, in order ("upload text/plain false", "read CID 0-5", ...). */
    public List<String> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    /** Stores {@code bytes} as an object (encrypted: only flagged so) and returns its CID. */
    public Cid put(byte[] bytes, String type, boolean encrypted) {
        byte[] name = (type + "\n" + encrypted + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] all = java.util.Arrays.copyOf(name, name.length + bytes.length);
        System.arraycopy(bytes, 0, all, name.length, bytes.length);
        Cid cid = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, all);
        Manifest.Builder m = Manifest.newBuilder().setKind(Kind.FILE).setSize(bytes.length).setContentType(type);
        if (encrypted) {
            m.setEncryption(Encryption.getDefaultInstance());
        }
        objects.put(cid, new Stored(new ObjectView(cid, m.build()), bytes.clone(), System.currentTimeMillis()));
        return cid;
    }

    private void maybeFail() throws ObjectException {
        ObjectException e = failNext;
        if (e != null) {
            failNext = null;
            throw e;
        }
    }

    @Override
    public Cid upload(InputStream in, String contentType, boolean encrypt) throws IOException, ObjectException {
        calls.add("upload " + contentType + " " + encrypt);
        byte[] bytes = in.readAllBytes();
        maybeFail();
        return put(bytes, contentType == null ? "application/octet-stream" : contentType, encrypt);
    }

    @Override
    public ObjectView resolve(Cid root, List<String> path) throws ObjectException {
        calls.add("resolve " + root + " " + path);
        maybeFail();
        Stored at = objects.get(root);
        if (at == null) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "no object " + root);
        }
        for (String name : path) {
            if (!at.view.directory()) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "'" + name + "' is under a file");
            }
            DirectoryEntry e = at.view.entries().stream().filter(x -> x.name().equals(name)).findFirst()
                    .orElseThrow(() -> new ObjectException(ObjectException.Code.NOT_FOUND, "no entry '" + name + "'"));
            at = objects.get(e.cid());
        }
        return at.view;
    }

    @Override
    public void read(ObjectView object, ByteSpan span, OutputStream out) throws IOException, ObjectException {
        calls.add("read " + object.cid() + " " + span.from() + "-" + span.to());
        maybeFail();
        byte[] bytes = objects.get(object.cid()).bytes;
        if (span.to() > bytes.length) {
            throw new ObjectException(ObjectException.Code.BAD_RANGE, "span " + span + " past " + bytes.length);
        }
        int failAfter = failReadAfter;
        if (failAfter >= 0) {
            failReadAfter = -1;
            out.write(bytes, (int) span.from(), failAfter);
            throw new ObjectException(ObjectException.Code.CORRUPT, "a segment did not match its CID");
        }
        out.write(bytes, (int) span.from(), (int) span.length());
    }

    @Override
    public Cid putDirectory(List<NewEntry> entries) throws ObjectException {
        calls.add("putDirectory " + entries.size());
        maybeFail();
        Manifest.Builder m = Manifest.newBuilder().setKind(Kind.DIRECTORY).setContentType(DIRECTORY_TYPE);
        long size = 0;
        List<NewEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(NewEntry::name));
        StringBuilder name = new StringBuilder("dir\n");
        for (NewEntry e : sorted) {
            Stored s = objects.get(e.cid());
            if (s == null) {
                throw new ObjectException(ObjectException.Code.BAD_INPUT, "entry '" + e.name() + "': no object " + e.cid());
            }
            size += s.view.size();
            m.addEntries(Entry.newBuilder().setName(e.name()).setCid(ByteString.copyFrom(e.cid().toBytes())).setSize(s.view.size())
                    .setContentType(s.view.contentType()).setKind(s.view.directory() ? Kind.DIRECTORY : Kind.FILE));
            name.append(e.name()).append('=').append(e.cid()).append('\n');
        }
        Cid cid = Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, name.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        objects.put(cid, new Stored(new ObjectView(cid, m.setSize(size).build()), new byte[0], System.currentTimeMillis()));
        return cid;
    }

    @Override
    public int unpin(Cid cid) throws ObjectException {
        calls.add("unpin " + cid);
        maybeFail();
        if (objects.remove(cid) == null) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "no object " + cid);
        }
        return 6;
    }

    @Override
    public List<ObjectInfo> list() throws StoreException {
        calls.add("list");
        return objects.values().stream().sorted(Comparator.comparingLong(Stored::storedAtMillis).reversed())
                .map(s -> new ObjectInfo(s.view.cid(), s.view.size(), s.view.contentType(), s.view.directory(), s.view.encrypted(),
                        s.storedAtMillis)).toList();
    }

    @Override
    public Health health(Cid cid) throws ObjectException {
        calls.add("health " + cid);
        maybeFail();
        if (!objects.containsKey(cid)) {
            throw new ObjectException(ObjectException.Code.NOT_FOUND, "no object " + cid);
        }
        return new Health(cid, 4, 2, List.of(6, 5));
    }
}
