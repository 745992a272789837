package io.oecloud.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CidCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result oe(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Oe());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString().strip(), err.toString().strip());
    }

    @Test
    void cid_emptyFile_isIpfsEmptyRawCid() throws Exception {
        Path f = Files.createFile(dir.resolve("empty"));
        Result r = oe("cid", f.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", r.out());
    }

    @Test
    void cid_fileLargerThanTheMapWindow_hashesEveryByte() throws Exception {
        byte[] data = new byte[(64 << 20) + 4097];
        new Random(3).nextBytes(data);
        Path f = Files.write(dir.resolve("big"), data);
        assertEquals(Cid.raw(data).toString(), oe("cid", f.toString()).out());
        assertEquals(Cid.compute(ContentCodec.RAW, HashFunction.BLAKE3, data).toString(),
                oe("cid", "--hash", "blake3", f.toString()).out());
    }

    @Test
    void cid_missingFileOrUnknownHash_failsWithAClearMessage() throws Exception {
        Result missing = oe("cid", dir.resolve("nope").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("no such file"), missing.err());
        Result directory = oe("cid", dir.toString());
        assertEquals(1, directory.code());
        assertTrue(directory.err().contains("directory"), directory.err());
        Path f = Files.createFile(dir.resolve("x"));
        Result badHash = oe("cid", "--hash", "md5", f.toString());
        assertEquals(2, badHash.code());
        assertTrue(badHash.err().contains("unknown hash 'md5'"), badHash.err());
    }

    @Test
    void cid_severalFiles_printsCidAndNameEach() throws Exception {
        Path a = Files.writeString(dir.resolve("a"), "hello world");
        Path b = Files.writeString(dir.resolve("b"), "abc");
        String[] lines = oe("cid", a.toString(), b.toString()).out().split("\n");
        assertEquals("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e  " + a, lines[0]);
        assertEquals("bafkreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu  " + b, lines[1]);
    }

    @Test
    void version_namesTheActiveErasureBackend() {
        Result r = oe("version");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("erasure backend: "), r.out());
        assertTrue(r.out().contains("blake3: vector"), r.out());
    }
}
