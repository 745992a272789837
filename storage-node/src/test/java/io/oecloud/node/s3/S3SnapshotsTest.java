package io.oecloud.node.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.dht.Identity;
import io.oecloud.node.object.MemoryObjectStore;
import io.oecloud.proofs.Cid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots of the namespace: sealed so only the namespace key opens them and any cut, swap or
 * bit flip is refused; taken from the live index, stored as an object, published under the name
 * the namespace key gives, the previous one let go; and restored into a fresh index that lists
 * exactly what the old one did.
 */
class S3SnapshotsTest {
    @TempDir
    Path dir;

    private static byte[] sealed(byte[] key, byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotSeal.seal(key, new ByteArrayInputStream(plain), out);
        return out.toByteArray();
    }

    @Test
    void aSealedSnapshot_opensOnlyWhole_andOnlyUnderItsKey() throws Exception {
        byte[] key = new byte[32];
        new Random(1).nextBytes(key);
        for (int size : new int[] {0, 1, SnapshotSeal.CHUNK - 1, SnapshotSeal.CHUNK, SnapshotSeal.CHUNK + 1, 3 * SnapshotSeal.CHUNK + 77}) {
            byte[] plain = new byte[size];
            new Random(size).nextBytes(plain);
            byte[] s = sealed(key, plain);
            assertArrayEquals(plain, SnapshotSeal.open(key, new ByteArrayInputStream(s)), "size " + size);
            if (size > SnapshotSeal.CHUNK) { // cut after the first chunk: its "last" flag says more must come
                int firstEnd = SnapshotSeal.MAGIC.length + 8 + 4 + SnapshotSeal.CHUNK + 16;
                IOException cut = assertThrows(IOException.class, () -> SnapshotSeal.open(key, new ByteArrayInputStream(Arrays.copyOf(s, firstEnd))));
                assertTrue(cut.getMessage().contains("does not open") || cut.getMessage().contains("cut short"), cut.getMessage());
            }
        }
        byte[] plain = "buckets and keys".getBytes();
        byte[] s = sealed(key, plain);
        byte[] other = key.clone();
        other[0] ^= 1;
        assertTrue(assertThrows(IOException.class, () -> SnapshotSeal.open(other, new ByteArrayInputStream(s))).getMessage()
                .contains("namespace key"));
        Random rnd = new Random(7);
        for (int i = 0; i < 200; i++) { // any flipped bit, anywhere
            byte[] bad = s.clone();
            int at = rnd.nextInt(bad.length);
            bad[at] ^= (byte) (1 << rnd.nextInt(8));
            assertThrows(IOException.class, () -> SnapshotSeal.open(key, new ByteArrayInputStream(bad)), "bit flipped at " + at);
        }
        assertThrows(IOException.class, () -> SnapshotSeal.open(key, new ByteArrayInputStream(Arrays.copyOf(s, s.length - 1))));
        assertNotEquals(Arrays.toString(sealed(key, plain)), Arrays.toString(s), "a fresh salt each time");
    }

    @Test
    void aSnapshot_isStoredPublishedAndRestored_intoAnIndexThatListsTheSame() throws Exception {
        MemoryObjectStore objects = new MemoryObjectStore();
        Identity key = Identity.generate();
        List<String> published = new ArrayList<>();
        S3Namespace ns = S3Namespace.open(dir.resolve("index"));
        S3Pieces pieces = new S3Pieces(objects, null);
        S3Snapshots snaps = new S3Snapshots(ns, pieces, key, dir, (name, cid) -> published.add(name + " " + cid), Clock.systemUTC());
        ns.createBucket("photos", 1, false);
        for (int i = 0; i < 50; i++) {
            ns.putObject("photos", new S3Model.ObjectEntry("k" + i, List.of(new S3Model.Piece("bafkfake" + i, i)), i, "\"e\"", 2,
                    Map.of("content-type", "text/plain"), Map.of("m", "v"), Map.of(), true));
        }
        String first = snaps.take();
        assertEquals(1, objects.count(), "the sealed snapshot is one object in the store");
        assertEquals(List.of(S3Snapshots.name(key.publicKey()) + " " + first), published);
        assertTrue(snaps.name().matches("s3-[0-9a-f]{20}"));
        ns.deleteObject("photos", "k0");
        String second = snaps.take();
        assertEquals(1, objects.count(), "the previous snapshot is let go once the next is published");
        S3Model.Listing before = ns.list("photos", "", null, null, 1000);
        ns.close();
        snaps.close();

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        objects.read(objects.stat(Cid.parse(second)), new io.oecloud.node.object.ObjectStore.ByteSpan(0,
                objects.stat(Cid.parse(second)).size()), bytes);
        Path fresh = dir.resolve("restored");
        assertThrows(IOException.class, () -> S3Snapshots.restore(Identity.generate(), bytes.toByteArray(), fresh),
                "another namespace's key opens nothing");
        S3Snapshots.restore(key, bytes.toByteArray(), fresh);
        try (S3Namespace back = S3Namespace.open(fresh)) {
            assertEquals(before, back.list("photos", "", null, null, 1000));
            assertEquals(49, back.list("photos", "", null, null, 1000).contents().size());
        }
    }
}
