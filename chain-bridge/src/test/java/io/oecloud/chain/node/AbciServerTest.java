package io.oecloud.chain.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.oecloud.chain.abci.AbciTypesProto.Request;
import io.oecloud.chain.abci.AbciTypesProto.RequestEcho;
import io.oecloud.chain.abci.AbciTypesProto.RequestFlush;
import io.oecloud.chain.abci.AbciTypesProto.Response;
import io.oecloud.chain.ledger.Ledger;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The ABCI socket server over a real socket: framing, order, bad input. */
@Timeout(120)
class AbciServerTest {
    @TempDir
    Path dir;

    private LedgerStore store;
    private AbciServer server;

    @BeforeEach
    void start() throws Exception {
        store = LedgerStore.open(dir.resolve("ledger"));
        server = new AbciServer(new LedgerApp(store)).start(new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stop() {
        server.close();
        store.close();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.address().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    private static void writeFrame(OutputStream out, byte[] body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long v = body.length;
        while ((v & ~0x7fL) != 0) {
            b.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        b.write((int) v);
        b.write(body);
        out.write(b.toByteArray());
        out.flush();
    }

    private static Response readFrame(InputStream in) throws IOException {
        long len = 0;
        for (int shift = 0; ; shift += 7) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            len |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        byte[] body = new byte[(int) len];
        new DataInputStream(in).readFully(body);
        return Response.parseFrom(body);
    }

    private static final byte[] FLUSH = Request.newBuilder().setFlush(RequestFlush.getDefaultInstance()).build().toByteArray();

    /** An echo and a Flush (answers are flushed when a Flush is answered, as CometBFT's client expects). */
    private static String echo(Socket s, String message) throws IOException {
        writeFrame(s.getOutputStream(), Request.newBuilder().setEcho(RequestEcho.newBuilder().setMessage(message)).build().toByteArray());
        writeFrame(s.getOutputStream(), FLUSH);
        String answer = readFrame(s.getInputStream()).getEcho().getMessage();
        assertTrue(readFrame(s.getInputStream()).hasFlush());
        return answer;
    }

    @Test
    void requestsAreAnsweredInOrder_overOneConnection() throws Exception {
        try (Socket s = connect()) {
            for (int i = 0; i < 50; i++) {
                writeFrame(s.getOutputStream(), Request.newBuilder().setEcho(RequestEcho.newBuilder().setMessage("m" + i)).build().toByteArray());
            }
            writeFrame(s.getOutputStream(), Request.newBuilder().setFlush(RequestFlush.getDefaultInstance()).build().toByteArray());
            for (int i = 0; i < 50; i++) {
                assertEquals("m" + i, readFrame(s.getInputStream()).getEcho().getMessage());
            }
            assertTrue(readFrame(s.getInputStream()).hasFlush());
        }
    }

    @Test
    void anOversizedLengthPrefix_closesTheConnection_beforeAnythingIsRead() throws Exception {
        try (Socket s = connect()) {
            // 1 GiB announced: refused from the prefix
            s.getOutputStream().write(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x04});
            s.getOutputStream().flush();
            assertEquals(-1, s.getInputStream().read());
        }
        try (Socket s = connect()) { // the server still serves others
            assertEquals("still here", echo(s, "still here"));
        }
    }

    @Test
    void fuzzedFrames_getAnExceptionAnswer_orACleanClose_neverACrash() throws Exception {
        Random rnd = new Random(3);
        for (int round = 0; round < 200; round++) {
            try (Socket s = connect()) {
                byte[] junk = new byte[rnd.nextInt(400)];
                rnd.nextBytes(junk);
                writeFrame(s.getOutputStream(), junk);
                writeFrame(s.getOutputStream(), FLUSH);
                Response r = readFrame(s.getInputStream());
                assertTrue(r == null || r.hasException() || r.getValueCase() != Response.ValueCase.VALUE_NOT_SET,
                        "a junk frame gets an answer or a close");
            } catch (java.net.SocketException e) {
                // the server closed the connection on a junk frame: fine
            }
        }
        try (Socket s = connect()) {
            assertEquals("ok", echo(s, "ok"));
        }
    }

    @Test
    void checkTxBeforeGenesis_isRefusedWithACode() throws Exception {
        try (Socket s = connect()) {
            writeFrame(s.getOutputStream(), Request.newBuilder().setCheckTx(io.oecloud.chain.abci.AbciTypesProto.RequestCheckTx.newBuilder()
                    .setTx(com.google.protobuf.ByteString.copyFrom(new byte[] {1, 2, 3}))).build().toByteArray());
            writeFrame(s.getOutputStream(), FLUSH);
            Response r = readFrame(s.getInputStream());
            assertEquals(Ledger.Code.NO_GENESIS.value(), r.getCheckTx().getCode());
            assertTrue(r.getCheckTx().getLog().contains("no genesis"), r.getCheckTx().getLog());
        }
    }

    @Test
    void aHundredThousandFuzzedFrames_areEachAnswered_andTheServerGoesOn() throws Exception {
        Random rnd = new Random(17);
        byte[][] seeds = {
            Request.newBuilder().setEcho(RequestEcho.newBuilder().setMessage("hello")).build().toByteArray(),
            Request.newBuilder().setCheckTx(io.oecloud.chain.abci.AbciTypesProto.RequestCheckTx.newBuilder()
                    .setTx(com.google.protobuf.ByteString.copyFrom(new byte[120]))).build().toByteArray(),
            Request.newBuilder().setQuery(io.oecloud.chain.abci.AbciTypesProto.RequestQuery.newBuilder().setPath("/account")
                    .setData(com.google.protobuf.ByteString.copyFromUtf8("12D3KooWxyz"))).build().toByteArray(),
            Request.newBuilder().setInfo(io.oecloud.chain.abci.AbciTypesProto.RequestInfo.getDefaultInstance()).build().toByteArray(),
        };
        int answered = 0;
        int sent = 0;
        int reconnects = 0;
        while (sent < 100_000) {
            try (Socket s = connect()) {
                OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 16);
                InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1 << 16);
                while (sent < 100_000) {
                    int batch = Math.min(500, 100_000 - sent);
                    for (int i = 0; i < batch; i++) {
                        byte[] f;
                        if (rnd.nextInt(3) == 0) {
                            f = new byte[rnd.nextInt(300)];
                            rnd.nextBytes(f);
                        } else {
                            f = seeds[rnd.nextInt(seeds.length)].clone();
                            for (int j = 0; j < 1 + rnd.nextInt(3); j++) {
                                f[rnd.nextInt(f.length)] = (byte) rnd.nextInt(256);
                            }
                        }
                        if (isFlush(f)) {
                            f = new byte[] {0x0A, 0x00}; // a Flush would end the batch early: an empty Echo instead
                        }
                        writeFrameNoFlush(out, f);
                    }
                    writeFrameNoFlush(out, FLUSH);
                    out.flush();
                    sent += batch;
                    int got = 0;
                    for (Response r = readFrame(in); ; r = readFrame(in)) {
                        if (r == null) {
                            throw new java.net.SocketException("closed");
                        }
                        if (r.hasFlush()) {
                            break;
                        }
                        got++;
                    }
                    assertEquals(batch, got, "one answer per frame, in order, before the Flush's");
                    answered += got;
                }
            } catch (java.net.SocketException e) {
                reconnects++; // a frame the server would not answer closed the connection: start another
                assertTrue(reconnects < 1_000, "the server closes too often");
            }
        }
        assertTrue(answered > 90_000, "answered " + answered + " of 100,000 (" + reconnects + " connections closed)");
        try (Socket s = connect()) {
            assertEquals("ok", echo(s, "ok"));
        }
    }

    private static boolean isFlush(byte[] frame) {
        try {
            return Request.parseFrom(frame).hasFlush();
        } catch (IOException e) {
            return false;
        }
    }

    private static void writeFrameNoFlush(OutputStream out, byte[] body) throws IOException {
        long v = body.length;
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        out.write(body);
    }
}
