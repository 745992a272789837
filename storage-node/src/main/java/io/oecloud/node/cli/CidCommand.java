package io.oecloud.node.cli;

import io.oecloud.proofs.Cid;
import io.oecloud.proofs.ContentCodec;
import io.oecloud.proofs.HashFunction;
import io.oecloud.proofs.StreamingHasher;
import java.io.IOException;
import java.io.InputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code oe cid FILE...}: the raw CIDv1 of each file's bytes, as {@code ipfs add --cid-version 1
 * --raw-leaves --only-hash} prints it for a file that fits in one block.
 */
@Command(name = "cid", description = {
    "Print the raw CIDv1 of each file's bytes (sha2-256 by default, as IPFS names raw blocks).",
    "Reads standard input when FILE is -."})
final class CidCommand implements Callable<Integer> {
    /** Files are hashed through the page cache in windows of this size, never copied into the heap. */
    private static final long MAP_WINDOW = 64L << 20;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--hash", paramLabel = "FUNCTION", defaultValue = "sha2-256",
            converter = HashConverter.class, description = "sha2-256 (default) or blake3.")
    HashFunction hash;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Files to name, or - for standard input.")
    List<String> files;

    @Override
    public Integer call() {
        int status = 0;
        for (String f : files) {
            try {
                Cid cid = f.equals("-") ? ofStream(System.in) : ofFile(Path.of(f));
                spec.commandLine().getOut().println(files.size() == 1 ? cid.toString() : cid + "  " + f);
            } catch (NoSuchFileException e) {
                status = fail("no such file: " + f);
            } catch (IOException e) {
                status = fail("cannot read " + f + ": " + e.getMessage());
            }
        }
        return status;
    }

    private int fail(String message) {
        spec.commandLine().getErr().println("oe cid: " + message);
        return 1;
    }

    Cid ofFile(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new IOException("it is a directory");
        }
        StreamingHasher h = hash.newHasher();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            for (long at = 0; at < size; at += MAP_WINDOW) {
                MappedByteBuffer window = ch.map(FileChannel.MapMode.READ_ONLY, at, Math.min(MAP_WINDOW, size - at));
                h.update(window);
            }
        }
        return h.cid(ContentCodec.RAW);
    }

    Cid ofStream(InputStream in) throws IOException {
        StreamingHasher h = hash.newHasher();
        byte[] buf = new byte[1 << 20];
        for (int n; (n = in.read(buf)) > 0; ) {
            h.update(buf, 0, n);
        }
        return h.cid(ContentCodec.RAW);
    }

    static final class HashConverter implements CommandLine.ITypeConverter<HashFunction> {
        @Override
        public HashFunction convert(String value) {
            try {
                return HashFunction.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
