package io.oecloud.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shard files on the test's real disk, with and without direct I/O. */
class ShardFilesTest {
    @TempDir
    Path dir;

    /** Sizes around the block and buffer edges, where padding and truncation happen. */
    private static final int[] SIZES = {0, 1, 511, 4095, 4096, 4097, ShardFiles.BUFFER - 1, ShardFiles.BUFFER,
        ShardFiles.BUFFER + 1, 2 * ShardFiles.BUFFER + 12_345};

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private void roundTrips(ShardFiles files) throws Exception {
        for (int n : SIZES) {
            Path f = dir.resolve("shard-" + n);
            byte[] data = bytes(n, n);
            files.write(f, data);
            assertEquals(n, Files.size(f), "file size after writing " + n + " bytes");
            assertArrayEquals(data, files.read(f), "bytes read back, " + n);
            assertArrayEquals(data, Files.readAllBytes(f), "bytes seen through the page cache, " + n);
        }
    }

    @Test
    void whatIsWrittenIsReadBackWithItsExactLength_directWhereTheFileSystemAllows() throws Exception {
        roundTrips(ShardFiles.open(dir));
    }

    @Test
    void whatIsWrittenIsReadBackWithItsExactLength_throughThePageCache() throws Exception {
        ShardFiles files = ShardFiles.buffered();
        assertFalse(files.direct());
        roundTrips(files);
    }

    /** Receive buffers are reused without zeroing: stale bytes past a shard's end must never reach its file. */
    @Test
    void receiveBuffers_areWrittenAsTheyAre_reusedDirty_andLargeShardsGetTheirOwn() throws Exception {
        for (ShardFiles files : new ShardFiles[] {ShardFiles.open(dir), ShardFiles.buffered()}) {
            int[] sizes = {0, 1, 4095, 4097, ShardFiles.RECEIVE - 1, ShardFiles.RECEIVE, ShardFiles.RECEIVE + 4097};
            for (int n : sizes) {
                ByteBuffer dirty = files.buffer(Math.min(n + 4096, ShardFiles.RECEIVE));
                while (dirty.hasRemaining()) {
                    dirty.put((byte) 0x77);
                }
                files.recycle(dirty);
                ByteBuffer b = files.buffer(n);
                assertEquals(0, b.position());
                assertEquals(n, b.limit());
                byte[] data = bytes(n, n + 7);
                b.put(data).flip();
                Path f = dir.resolve("received-" + n + (files.direct() ? "-direct" : "-buffered"));
                files.write(f, b);
                assertEquals(n, Files.size(f), "file size, " + n);
                assertArrayEquals(data, Files.readAllBytes(f), "bytes on disk, " + n);
                assertEquals(n, b.limit(), "the caller's buffer keeps its limit");
                files.recycle(b);
            }
            assertThrows(IllegalArgumentException.class, () -> files.write(dir.resolve("heap"), ByteBuffer.allocate(10)),
                    "a buffer not from buffer() is refused, not written unaligned");
        }
    }

    @Test
    void aLongerFileIsReplacedWhole_notLeftWithItsOldTail() throws Exception {
        ShardFiles files = ShardFiles.open(dir);
        Path f = dir.resolve("shard");
        files.write(f, bytes(3 * ShardFiles.BUFFER, 1));
        byte[] shorter = bytes(5000, 2);
        files.write(f, shorter);
        assertArrayEquals(shorter, files.read(f));
    }

    @Test
    void aDirectReadSeesBytesThatAnotherWriterLeftInThePageCache() throws Exception {
        ShardFiles files = ShardFiles.open(dir);
        assumeTrue(files.direct(), "direct I/O is not available on " + dir);
        Path f = dir.resolve("shard");
        byte[] data = bytes(100_000, 3);
        files.write(f, data);
        // as a failing disk or a careless operator would: a buffered write, not yet on the device
        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(70_000);
            raf.write(~data[70_000]);
        }
        data[70_000] = (byte) ~data[70_000];
        assertArrayEquals(data, files.read(f));
    }

    @Test
    void theProbeLeavesNoFileBehind() throws Exception {
        ShardFiles.open(dir);
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count());
        }
    }

    /** Ranged reads (a proof's groups): any offset and length, direct or not; past the end is an error. */
    @Test
    void rangesAreReadExactly_atAnyOffset_andReadingPastTheEndFails() throws Exception {
        for (ShardFiles files : new ShardFiles[] {ShardFiles.open(dir), ShardFiles.buffered()}) {
            int n = 2 * ShardFiles.BUFFER + 12_345;
            Path f = dir.resolve("ranged-" + files.direct());
            byte[] data = bytes(n, 7);
            files.write(f, data);
            long[][] ranges = {{0, 0}, {0, 1}, {0, 16_384}, {16_384, 16_384}, {1, 4095}, {4095, 2}, {511, 513},
                {ShardFiles.BUFFER - 100, 200}, {100, ShardFiles.BUFFER + 5000}, {n - 1, 1}, {n - 12_345, 12_345}, {0, n}};
            for (long[] r : ranges) {
                assertArrayEquals(java.util.Arrays.copyOfRange(data, (int) r[0], (int) (r[0] + r[1])),
                        files.read(f, r[0], (int) r[1]), "direct " + files.direct() + ": " + r[1] + " bytes from " + r[0]);
            }
            org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> files.read(f, n - 10, 11));
            org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> files.read(f, n + 5000, 1));
        }
    }
}
