package io.oecloud.proofs.slice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.oecloud.proofs.Blake3;
import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Blake3#hash} and slice proofs against the digest Debian's {@code b3sum} (the reference
 * implementation) prints for the same bytes, for every size of {@link SliceProofTest#sizes()}: a
 * root that is not ours, so a mistake shared by our hash and our verifier cannot pass.
 */
class SliceProofAgainstB3sumTest {

    /** b3sum's digest of {@code content}, written to a file in {@code dir}. */
    private static byte[] b3sum(byte[] content, Path dir) throws Exception {
        Path file = Files.write(dir.resolve("content-" + content.length), content);
        return B3sum.digest(file);
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("io.oecloud.proofs.slice.SliceProofTest#sizes")
    void blake3Hash_equalsB3sumDigest_forEverySize(int n, @TempDir Path dir) throws Exception {
        byte[] content = SliceProofTest.content(n);
        byte[] expected = b3sum(content, dir);
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(Blake3.hash(content)), n + " bytes");
    }

    @ParameterizedTest(name = "{0} bytes")
    @MethodSource("io.oecloud.proofs.slice.SliceProofTest#sizes")
    void sliceProofsVerifyAgainstB3sumDigest_forEveryTreeShape_andAFlippedChunkByteFails(int n, @TempDir Path dir)
            throws Exception {
        byte[] content = SliceProofTest.content(n);
        byte[] digest = b3sum(content, dir);
        Cid cid = Cid.of(ContentCodec.RAW, HashFunction.BLAKE3, digest);
        long chunks = TreeShape.chunks(n);
        // first, last, middle chunk and the whole content (deduplicated for the one-chunk sizes)
        Set<List<Long>> ranges = new LinkedHashSet<>(List.of(List.of(0L, 1L), List.of(chunks - 1, 1L),
                List.of(chunks / 2, 1L), List.of(0L, chunks)));
        for (List<Long> r : ranges) {
            long first = r.get(0);
            int count = (int) (long) r.get(1);
            String what = n + " bytes, chunks [" + first + ", " + (first + count) + ")";
            SliceProof p = SliceProver.prove(content, first, count);
            p.verify(cid, n);
            p.verify(digest, n);
            byte[] ch = p.chunks();
            if (ch.length == 0) {
                continue; // the empty content's one chunk has no byte to flip
            }
            ch[ch.length / 2] ^= 0x01;
            SliceProof tampered = new SliceProof(n, first, count, ch, p.siblings());
            SliceProofException e = assertThrows(SliceProofException.class, () -> tampered.verify(cid, n), what);
            assertEquals(SliceProofException.Kind.ROOT_MISMATCH, e.kind(), what);
        }
    }
}
