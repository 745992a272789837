package io.oecloud.node.object;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.oecloud.proofs.pb.ManifestProto.Encryption;
import io.oecloud.proofs.pb.ManifestProto.Entry;
import io.oecloud.proofs.pb.ManifestProto.Kind;
import io.oecloud.proofs.pb.ManifestProto.Manifest;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the object contract shows of a manifest, and its byte spans. */
class ObjectViewTest {
    private static Cid object(int i) {
        return Cid.compute(ContentCodec.MANIFEST, HashFunction.BLAKE3, new byte[] {(byte) i});
    }

    @Test
    void aDirectory_showsItsEntries_withTheirKinds() {
        Manifest m = Manifest.newBuilder().setKind(Kind.DIRECTORY).setContentType(ObjectStore.DIRECTORY_TYPE).setSize(30)
                .addEntries(Entry.newBuilder().setName("a").setCid(ByteString.copyFrom(object(1).toBytes())).setSize(10)
                        .setContentType("text/plain").setKind(Kind.FILE))
                .addEntries(Entry.newBuilder().setName("b").setCid(ByteString.copyFrom(object(2).toBytes())).setSize(20)
                        .setContentType(ObjectStore.DIRECTORY_TYPE).setKind(Kind.DIRECTORY))
                .build();
        ObjectView v = new ObjectView(object(0), m);
        assertTrue(v.directory());
        assertFalse(v.encrypted());
        assertEquals(30, v.size());
        assertEquals(ObjectStore.DIRECTORY_TYPE, v.contentType());
        assertEquals(List.of(new ObjectStore.DirectoryEntry("a", object(1), 10, "text/plain", false),
                new ObjectStore.DirectoryEntry("b", object(2), 20, ObjectStore.DIRECTORY_TYPE, true)), v.entries());
    }

    @Test
    void aFile_hasNoEntries_andSaysWhetherItIsEncrypted() {
        Manifest m = Manifest.newBuilder().setKind(Kind.FILE).setContentType("image/png").setSize(5)
                .setEncryption(Encryption.getDefaultInstance()).build();
        ObjectView v = new ObjectView(object(3), m);
        assertFalse(v.directory());
        assertTrue(v.encrypted());
        assertEquals(List.of(), v.entries());
        assertEquals(object(3), v.cid());
    }

    @Test
    void byteSpans_runForwardFromZero_andNameTheBadValues() {
        assertEquals(5, new ObjectStore.ByteSpan(10, 15).length());
        assertEquals(new ObjectStore.ByteSpan(0, 7), ObjectStore.ByteSpan.all(7));
        assertEquals(0, ObjectStore.ByteSpan.all(0).length());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ObjectStore.ByteSpan(9, 3));
        assertEquals("a byte span needs 0 <= from <= to, was 9-3", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ObjectStore.ByteSpan(-1, 3));
    }
}
