package io.oecloud.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The committed ledger in RocksDB: each block's state is written in one batch together with its
 * height and app hash, with a synced WAL, so after a crash the store holds exactly some committed
 * block and CometBFT's handshake (Info, then replay) brings it forward.
 */
public final class LedgerStore implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private static final byte[] HEIGHT = "meta/height".getBytes(StandardCharsets.UTF_8);
    private static final byte[] APP_HASH = "meta/apphash".getBytes(StandardCharsets.UTF_8);
    private static final String ACCOUNT = "account/";
    private static final String PARAM = "param/";

    private final RocksDB db;
    private final WriteOptions durable = new WriteOptions().setSync(true);

    private LedgerStore(RocksDB db) {
        this.db = db;
    }

    public static LedgerStore open(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
            Options o = new Options().setCreateIfMissing(true);
            return new LedgerStore(RocksDB.open(o, dir.toString()));
        } catch (RocksDBException e) {
            throw new IOException("cannot open the ledger store in " + dir + ": " + e.getMessage(), e);
        }
    }

    LedgerState load() throws IOException {
        LedgerState s = new LedgerState();
        try (RocksIterator it = db.newIterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                String k = new String(it.key(), StandardCharsets.UTF_8);
                if (k.startsWith(ACCOUNT)) {
                    s.accounts.put(k.substring(ACCOUNT.length()), LedgerState.Account.decode(it.value()));
                } else if (k.startsWith("cid/")) {
                    s.cids.put(k.substring("cid/".length()), LedgerState.CidRecord.decode(it.value()));
                } else if (k.equals("pool/fees")) {
                    s.feePool = new BigInteger(1, it.value());
                } else if (k.equals("supply/genesis")) {
                    s.genesisSupply = new BigInteger(1, it.value());
                }
            }
            byte[] h = db.get(HEIGHT);
            s.height = h == null ? 0 : ByteBuffer.wrap(h).getLong();
        } catch (RocksDBException e) {
            throw new IOException("cannot read the ledger store: " + e.getMessage(), e);
        }
        return s;
    }

    byte[] appHash() throws IOException {
        try {
            byte[] h = db.get(APP_HASH);
            return h == null ? new byte[0] : h;
        } catch (RocksDBException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    void commit(LedgerState s, byte[] appHash) throws IOException {
        try (WriteBatch b = new WriteBatch()) {
            for (Map.Entry<String, LedgerState.Account> e : s.accounts.entrySet()) {
                b.put((ACCOUNT + e.getKey()).getBytes(StandardCharsets.UTF_8), e.getValue().encode());
            }
            for (Map.Entry<String, LedgerState.CidRecord> e : s.cids.entrySet()) {
                b.put(("cid/" + e.getKey()).getBytes(StandardCharsets.UTF_8), e.getValue().encode());
            }
            b.put("pool/fees".getBytes(StandardCharsets.UTF_8), s.feePool.toByteArray());
            b.put("supply/genesis".getBytes(StandardCharsets.UTF_8), s.genesisSupply.toByteArray());
            b.put(HEIGHT, ByteBuffer.allocate(8).putLong(s.height).array());
            b.put(APP_HASH, appHash);
            db.write(durable, b);
        } catch (RocksDBException e) {
            throw new IOException("cannot commit height " + s.height + ": " + e.getMessage(), e);
        }
    }

    Map<String, String> params() throws IOException {
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

    void saveParams(Map<String, String> params) throws IOException {
        try (WriteBatch b = new WriteBatch()) {
            for (Map.Entry<String, String> e : params.entrySet()) {
                b.put((PARAM + e.getKey()).getBytes(StandardCharsets.UTF_8), e.getValue().getBytes(StandardCharsets.UTF_8));
            }
            db.write(durable, b);
        } catch (RocksDBException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private boolean closed;

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            durable.close();
            db.close();
        }
    }
}
