package io.oecloud.benchmarks;

import io.oecloud.node.store.ShardStore;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.rocksdb.CompressionType;
import org.rocksdb.FlushOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteOptions;

/**
 * Which layout the shard store should use, measured: (a) RocksDB with BlobDB (shard bytes in blob
 * files, one synced WAL write per shard) against (b) one file per shard (written, fsynced, renamed,
 * its directory fsynced) indexed by a RocksDB entry written with a synced WAL: what
 * {@link ShardStore} does, with direct I/O and through the page cache. All durable before a put
 * returns; all verify CIDs on the way in and out.
 *
 * <p>Run: {@code benchmarks/run.sh store}, or {@code java ... ShardStoreLayouts DIR [shards] [KiB]}
 */
public final class ShardStoreLayouts {
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : "benchmarks/target/store-bench");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int size = (args.length > 2 ? Integer.parseInt(args[2]) : 1024) * 1024;
        Random rnd = new Random(1);
        List<byte[]> data = new ArrayList<>();
        List<Cid> cids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] d = new byte[size];
            rnd.nextBytes(d);
            data.add(d);
            cids.add(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, d));
        }
        for (int round = 0; round < 3; round++) {
            delete(root);
            double[] blob = blobDb(root.resolve("blobdb"), data, cids);
            double[] files = filesPlusIndex(root.resolve("files"), data, cids, true);
            double[] cached = filesPlusIndex(root.resolve("files-cached"), data, cids, false);
            System.out.printf("round %d, %d shards of %d KiB: BlobDB write %.0f MB/s read %.0f MB/s"
                            + " | files+index, direct I/O: write %.0f MB/s (%.2f CPU-s/GB) read %.0f MB/s (%.2f CPU-s/GB)"
                            + " | files+index, page cache: write %.0f MB/s (%.2f CPU-s/GB) read %.0f MB/s (%.2f CPU-s/GB)%n",
                    round + 1, n, size / 1024, blob[0], blob[1], files[0], files[2], files[1], files[3],
                    cached[0], cached[2], cached[1], cached[3]);
        }
        delete(root);
    }

    static double[] blobDb(Path dir, List<byte[]> data, List<Cid> cids) throws Exception {
        Files.createDirectories(dir);
        RocksDB.loadLibrary();
        try (Options o = new Options().setCreateIfMissing(true).setEnableBlobFiles(true).setMinBlobSize(4096)
                     .setBlobFileSize(256L << 20).setEnableBlobGarbageCollection(true)
                     .setCompressionType(CompressionType.NO_COMPRESSION).setBlobCompressionType(CompressionType.NO_COMPRESSION);
             RocksDB db = RocksDB.open(o, dir.toString());
             WriteOptions sync = new WriteOptions().setSync(true)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < data.size(); i++) {
                if (!cids.get(i).verify(data.get(i))) {
                    throw new IllegalStateException("bad input");
                }
                db.put(sync, cids.get(i).toBytes(), data.get(i));
            }
            long t1 = System.nanoTime();
            try (FlushOptions f = new FlushOptions().setWaitForFlush(true)) {
                db.flush(f);
            }
            long t2 = System.nanoTime();
            for (Cid c : cids) {
                if (!c.verify(db.get(c.toBytes()))) {
                    throw new IllegalStateException("corrupt " + c);
                }
            }
            long t3 = System.nanoTime();
            double mb = data.size() * (double) data.get(0).length / 1e6;
            return new double[] {mb / ((t1 - t0) / 1e9), mb / ((t3 - t2) / 1e9)};
        }
    }

    /**
     * What {@link ShardStore} does: a file per shard, fsynced and renamed, indexed with a synced WAL;
     * with direct I/O or through the page cache. Returns write and read MB/s, then the process's
     * CPU-seconds per GB written and read (the reads come after the writes, so with the page cache
     * they are served from it).
     */
    static double[] filesPlusIndex(Path dir, List<byte[]> data, List<Cid> cids, boolean direct) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (ShardStore store = ShardStore.open(dir, Long.MAX_VALUE, direct)) {
            if (store.directIo() != direct) {
                System.out.println("(direct I/O is not available in " + dir + ")");
            }
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            for (int i = 0; i < data.size(); i++) {
                store.put(cids.get(i), data.get(i));
            }
            long t1 = System.nanoTime();
            long c1 = os.getProcessCpuTime();
            for (Cid c : cids) {
                store.get(c);
            }
            long t2 = System.nanoTime();
            long c2 = os.getProcessCpuTime();
            double mb = data.size() * (double) data.get(0).length / 1e6;
            return new double[] {mb / ((t1 - t0) / 1e9), mb / ((t2 - t1) / 1e9),
                (c1 - c0) / 1e9 / (mb / 1e3), (c2 - c1) / 1e9 / (mb / 1e3)};
        }
    }

    static void delete(Path p) throws Exception {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
