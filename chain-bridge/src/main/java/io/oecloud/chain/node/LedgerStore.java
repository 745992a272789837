package io.oecloud.chain.node;

import io.oecloud.chain.ledger.LedgerState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The committed ledger in RocksDB: each block's changed entries are written in one batch together
 * with its height and app hash, with a synced WAL, so after a crash the store holds exactly some committed
 * block and CometBFT's handshake (Info, then replay) brings it forward.
 *
 * <p>Ownership: this store owns its native handles (the database, its options and the write
 * options) and {@link #close} releases them, the database first; whoever opened the store closes it.
 */
public final class LedgerStore implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private static final byte[] HEIGHT = "meta/height".getBytes(StandardCharsets.UTF_8);
    private static final byte[] APP_HASH = "meta/apphash".getBytes(StandardCharsets.UTF_8);
    private static final String META = "meta/";
    private static final String PARAM = "param/";

    private final Options options;
    private final RocksDB db;
    private final WriteOptions durable = new WriteOptions().setSync(true);

    private LedgerStore(Options options, RocksDB db) {
        this.options = options;
        this.db = db;
    }

    public static LedgerStore open(Path dir) throws IOException {
        Files.createDirectories(dir);
        Options o = new Options().setCreateIfMissing(true);
        try {
            return new LedgerStore(o, RocksDB.open(o, dir.toString()));
        } catch (RocksDBException e) {
            o.close();
            throw new IOException("cannot open the ledger store in " + dir + ": " + e.getMessage(), e);
        }
    }

    synchronized LedgerState load() throws IOException {
        requireOpen();
        TreeMap<String, byte[]> entries = new TreeMap<>();
        long height;
        try (RocksIterator it = db.newIterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                String k = new String(it.key(), StandardCharsets.UTF_8);
                if (!k.startsWith(META) && !k.startsWith(PARAM)) {
                    entries.put(k, it.value());
                }
            }
            byte[] h = db.get(HEIGHT);
            height = h == null ? 0 : ByteBuffer.wrap(h).getLong();
        } catch (RocksDBException e) {
            throw new IOException("cannot read the ledger store: " + e.getMessage(), e);
        }
        return LedgerState.fromEntries(entries, height);
    }

    synchronized byte[] appHash() throws IOException {
        requireOpen();
        try {
            byte[] h = db.get(APP_HASH);
            return h == null ? new byte[0] : h;
        } catch (RocksDBException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Writes the state of block {@code height} when the caller knows what changed: the entries
     * named in {@code changed} (written, or deleted when {@code entries} no longer holds them),
     * with the height and app hash, in one synced batch.
     */
    synchronized void commit(Map<String, byte[]> entries, java.util.Set<String> changed, long height, byte[] appHash) throws IOException {
        requireOpen();
        try (WriteBatch b = new WriteBatch()) {
            for (String k : changed) {
                byte[] v = entries.get(k);
                if (v == null) {
                    b.delete(k.getBytes(StandardCharsets.UTF_8));
                } else {
                    b.put(k.getBytes(StandardCharsets.UTF_8), v);
                }
            }
            b.put(HEIGHT, ByteBuffer.allocate(8).putLong(height).array());
            b.put(APP_HASH, appHash);
            db.write(durable, b);
        } catch (RocksDBException e) {
            throw new IOException("cannot commit height " + height + ": " + e.getMessage(), e);
        }
    }

    synchronized Map<String, String> params() throws IOException {
        requireOpen();
        Map<String, String> m = new LinkedHashMap<>();
        try (RocksIterator it = db.newIterator()) {
            for (it.seek(PARAM.getBytes(StandardCharsets.UTF_8)); it.isValid(); it.next()) {
                String k = new String(it.key(), StandardCharsets.UTF_8);
                if (!k.startsWith(PARAM)) {
                    break;
                }
                m.put(k.substring(PARAM.length()), new String(it.value(), StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    synchronized void saveParams(Map<String, String> params) throws IOException {
        requireOpen();
        try (WriteBatch b = new WriteBatch()) {
            for (Map.Entry<String, String> e : params.entrySet()) {
                b.put((PARAM + e.getKey()).getBytes(StandardCharsets.UTF_8), e.getValue().getBytes(StandardCharsets.UTF_8));
            }
            db.write(durable, b);
        } catch (RocksDBException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Every RocksDB call holds this object's lock, as close does: a call racing close would crash the JVM. */
    private boolean closed;

    private void requireOpen() throws IOException {
        if (closed) {
            throw new IOException("the ledger store is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            durable.close();
            db.close();
            options.close(); // after the database, which uses it until closed
        }
    }
}
