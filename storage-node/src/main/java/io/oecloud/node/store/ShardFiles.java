package io.oecloud.node.store;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads and writes whole shard files, bypassing the page cache (O_DIRECT) where the file system
 * allows it.
 *
 * <p>Why: a node writes each shard once and reads it rarely (the edges cache what is hot), so
 * caching shard bytes in the kernel only costs. Every byte written through the page cache is
 * first copied into a newly allocated cache page; on the 2-core VM of benchmarks/README.md that
 * copy into fresh pages took 2.5 CPU-seconds per GiB, a quarter of a devnet upload's CPU, while
 * a direct write of the same GiB (the device reads our buffer) took 0.1 and a direct read 0.03
 * against 1.8 for a cold buffered read. Storage servers such as MinIO write their parts the same
 * way.
 *
 * <p>Direct I/O needs the buffer's address, the file position and the length aligned to the file
 * system's block: bytes go through pooled aligned direct buffers of {@link #BUFFER} bytes, the
 * last block is padded with zeros and the file then truncated to the shard's length. Where the
 * file system refuses O_DIRECT (tmpfs, some network file systems), {@link #open} falls back to
 * ordinary buffered I/O; durability is the same either way (the caller's force).
 */
final class ShardFiles {
    /** Bytes per direct read or write; a multiple of any block size in use. */
    static final int BUFFER = 1 << 20;
    /** Buffers kept for reuse; more may be allocated under load, and are then dropped. */
    private static final int POOLED = 8;
    /**
     * Capacity of a pooled receive buffer (see {@link #buffer}): a whole shard of segments up to
     * 16 MiB at k = 4. Larger shards get a buffer of their own.
     */
    static final int RECEIVE = 4 << 20;
    /** Receive buffers kept for reuse: 64 MiB of direct memory at most. */
    private static final int RECEIVE_POOLED = 16;
    private static final System.Logger LOG = System.getLogger(ShardFiles.class.getName());

    private final boolean direct;
    private final int align;
    /** A block of zeros: the padding of a last partial block, cut off again by the truncate. */
    private final byte[] zeros;
    private final BlockingQueue<ByteBuffer> pool = new ArrayBlockingQueue<>(POOLED);
    private final BlockingQueue<ByteBuffer> receivePool = new ArrayBlockingQueue<>(RECEIVE_POOLED);

    private ShardFiles(boolean direct, int align) {
        this.direct = direct;
        this.align = align;
        this.zeros = new byte[direct ? align : 0];
    }

    /** Buffered I/O through the page cache. */
    static ShardFiles buffered() {
        return new ShardFiles(false, 1);
    }

    /**
     * Direct I/O if a probe file in {@code dir} can be written and read back with O_DIRECT,
     * else buffered.
     */
    static ShardFiles open(Path dir) {
        Path probe = dir.resolve(".direct-io-probe");
        try {
            int align = (int) Math.max(512, Files.getFileStore(dir).getBlockSize());
            if (BUFFER % align != 0) {
                throw new IOException("block size " + align + " does not divide " + BUFFER);
            }
            ShardFiles files = new ShardFiles(true, align);
            byte[] sample = new byte[align + 1];
            Arrays.fill(sample, (byte) 0x5a);
            files.write(probe, sample);
            if (!Arrays.equals(files.read(probe), sample)) {
                throw new IOException("read back other bytes than written");
            }
            return files;
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.INFO, "shard files in {0} use the page cache: direct I/O is not available ({1})",
                    dir, e.getMessage());
            return buffered();
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // a stale probe is overwritten next time
            }
        }
    }

    boolean direct() {
        return direct;
    }

    /** Creates or replaces {@code file} with {@code data} and forces it (data and size) to the device. */
    void write(Path file, byte[] data) throws IOException {
        try (FileChannel ch = openForWrite(file)) {
            if (!direct) {
                writeFully(ch, ByteBuffer.wrap(data), 0);
            } else {
                ByteBuffer buf = take();
                try {
                    for (int at = 0; at < data.length; ) {
                        int n = Math.min(BUFFER, data.length - at);
                        buf.clear().put(data, at, n).flip();
                        writeFully(ch, padded(buf), at);
                        at += n;
                    }
                } finally {
                    give(buf);
                }
            }
            finish(ch, data.length);
        }
    }

    /**
     * A direct buffer of {@code size} bytes (position 0, limit size, contents unspecified) that
     * {@link #write(Path, ByteBuffer)} writes as it is: a shard received straight into it is
     * written without another copy, and without the zeroing of a new array. Give it back with
     * {@link #recycle} once nothing uses it.
     */
    ByteBuffer buffer(int size) {
        int room = roundUp(size);
        ByteBuffer b = room <= RECEIVE ? receivePool.poll() : null;
        if (b == null) {
            b = aligned(Math.max(room, room <= RECEIVE ? RECEIVE : room));
        }
        return b.clear().limit(size);
    }

    /** Keeps a buffer from {@link #buffer} for reuse; the caller must not touch it again. */
    void recycle(ByteBuffer b) {
        if (b.capacity() == RECEIVE) {
            receivePool.offer(b);
        }
    }

    /**
     * Creates or replaces {@code file} with the bytes of {@code data} (a buffer from
     * {@link #buffer}: position 0 to its limit; its bytes past the limit may be overwritten) and
     * forces them to the device.
     */
    void write(Path file, ByteBuffer data) throws IOException {
        int size = data.limit();
        if (data.position() != 0 || !data.isDirect() || data.capacity() < roundUp(size)
                || java.lang.foreign.MemorySegment.ofBuffer(data).address() % align != 0) {
            throw new IllegalArgumentException("not a buffer from ShardFiles.buffer");
        }
        try (FileChannel ch = openForWrite(file)) {
            writeFully(ch, direct ? padded(data.duplicate()) : data.duplicate(), 0);
            finish(ch, size);
        }
    }

    private FileChannel openForWrite(Path file) throws IOException {
        OpenOption[] opts = {StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING};
        return FileChannel.open(file, direct ? options(opts) : opts);
    }

    /** {@code b} (position 0) with its last block filled up with zeros, which {@link #finish} cuts off again. */
    private ByteBuffer padded(ByteBuffer b) {
        int size = b.limit();
        int room = roundUp(size);
        b.limit(room).position(size);
        b.put(zeros, 0, room - size);
        return b.position(0);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    /** Cuts a padded file to its length and forces data and size to the device. */
    private void finish(FileChannel ch, long length) throws IOException {
        if (direct && length % align != 0) {
            ch.truncate(length);
        }
        ch.force(true);
    }

    /** The whole file. */
    byte[] read(Path file) throws IOException {
        if (!direct) {
            return Files.readAllBytes(file);
        }
        try (FileChannel ch = FileChannel.open(file, options(StandardOpenOption.READ))) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 8) {
                throw new IOException(file + " holds " + size + " bytes, more than a shard can");
            }
            byte[] out = new byte[(int) size];
            ByteBuffer buf = take();
            try {
                int at = 0;
                while (at < out.length) {
                    buf.clear(); // a whole buffer is asked for: direct reads want aligned lengths
                    int r = ch.read(buf, at);
                    if (r <= 0) {
                        throw new IOException(file + " ended at byte " + at + " of " + size + " while it was read");
                    }
                    int n = Math.min(r, out.length - at);
                    buf.flip().get(out, at, n);
                    at += n;
                }
            } finally {
                give(buf);
            }
            return out;
        }
    }

    /**
     * {@code length} bytes of {@code file} from {@code offset} (a proof's groups: the rest of the
     * shard is not read). With direct I/O the read is widened to whole blocks, through a pooled
     * aligned buffer, and the bytes wanted copied out.
     *
     * @throws IOException also when the file ends before {@code offset + length}
     */
    byte[] read(Path file, long offset, int length) throws IOException {
        byte[] out = new byte[length];
        if (!direct) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer b = ByteBuffer.wrap(out);
                while (b.hasRemaining()) {
                    if (ch.read(b, offset + b.position()) < 0) {
                        throw new IOException(file + " ended at byte " + (offset + b.position()) + " while "
                                + length + " bytes from " + offset + " were read");
                    }
                }
            }
            return out;
        }
        try (FileChannel ch = FileChannel.open(file, options(StandardOpenOption.READ))) {
            ByteBuffer buf = take();
            try {
                long pos = offset / align * align; // aligned start; the bytes before offset are skipped
                int at = 0;
                while (at < length) {
                    int skip = (int) (offset + at - pos);
                    buf.clear(); // whole buffers: direct reads want aligned lengths
                    int r = ch.read(buf, pos);
                    if (r <= skip) {
                        throw new IOException(file + " ended at byte " + (pos + Math.max(r, 0)) + " while " + length
                                + " bytes from " + offset + " were read");
                    }
                    int n = Math.min(r - skip, length - at);
                    buf.flip().position(skip);
                    buf.get(out, at, n);
                    at += n;
                    pos += r;
                }
            } finally {
                give(buf);
            }
            return out;
        }
    }

    private OpenOption[] options(OpenOption... base) {
        OpenOption[] o = Arrays.copyOf(base, base.length + 1);
        o[base.length] = ExtendedOpenOption.DIRECT;
        return o;
    }

    private int roundUp(int n) {
        return (n + align - 1) / align * align;
    }

    private ByteBuffer take() {
        ByteBuffer b = pool.poll();
        return b != null ? b : aligned(BUFFER);
    }

    private ByteBuffer aligned(int capacity) {
        return ByteBuffer.allocateDirect(capacity + align).alignedSlice(align).limit(capacity).slice();
    }

    private void give(ByteBuffer b) {
        pool.offer(b); // dropped when the pool is full: freed with the buffer object
    }
}
