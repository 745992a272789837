package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.oecloud.wire.LengthPrefix;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated bytes into every frame decoder: each either parses, waits for more, or fails
 * its stream or connection with a ProtocolException; nothing else escapes, nothing grows without
 * bound, and oversized lengths are refused before their bytes are buffered.
 */
class FrameFuzzTest {
    private static final int ROUNDS = 3000;
    private final Random rnd = new Random(20261125);
    private final Host host = new Host(Identity.generate(), HostConfig.defaults()); // never started: identity and config only

    @AfterEach
    void close() {
        host.close();
    }

    private byte[] junk(int max) {
        byte[] b = new byte[rnd.nextInt(max)];
        rnd.nextBytes(b);
        return b;
    }

    private byte[] mutate(byte[] valid) {
        byte[] b = valid.clone();
        int flips = 1 + rnd.nextInt(4);
        for (int i = 0; i < flips && b.length > 0; i++) {
            b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
        return rnd.nextInt(5) == 0 && b.length > 1 ? java.util.Arrays.copyOf(b, rnd.nextInt(b.length)) : b;
    }

    @Test
    void multistream_randomAndMutatedMessages_parseWaitOrFailCleanly() {
        ByteBuf valid = Unpooled.buffer();
        Multistream.write(valid, Multistream.PROTOCOL_ID);
        Multistream.write(valid, "/noise");
        byte[] good = new byte[valid.readableBytes()];
        valid.readBytes(good);
        for (int i = 0; i < ROUNDS; i++) {
            ByteBuf in = Unpooled.wrappedBuffer(i % 2 == 0 ? junk(64) : mutate(good));
            try {
                while (Multistream.read(in) != null) {
                    // keep reading whole messages
                }
            } catch (ProtocolException expected) {
                // refused
            }
        }
        // a length far beyond the limit fails at once, with nothing of the body buffered
        ByteBuf huge = Unpooled.buffer();
        LengthPrefix.writeUvarint(huge, 1L << 40);
        assertThrows(ProtocolException.class, () -> Multistream.read(huge));
    }

    @Test
    void negotiationListener_randomInput_neverAgreesOnUnknownProtocols() {
        for (int i = 0; i < ROUNDS; i++) {
            Negotiation n = Negotiation.listener(java.util.Set.of("/noise"));
            ByteBuf in = Unpooled.wrappedBuffer(junk(200));
            ByteBuf out = Unpooled.buffer();
            try {
                if (n.feed(in, out) == Negotiation.Result.AGREED) {
                    assertEquals("/noise", n.agreed());
                }
            } catch (ProtocolException expected) {
                // refused
            }
            out.release();
        }
    }

    @Test
    void lengthPrefixed_oversizedLength_isRefusedBeforeBuffering() {
        LengthPrefixed framer = new LengthPrefixed(1024);
        ByteBuf claim = Unpooled.buffer();
        LengthPrefix.writeUvarint(claim, 1L << 33);
        claim.writeBytes(new byte[10]);
        assertThrows(ProtocolException.class, () -> framer.feed(ByteBufAllocator.DEFAULT, claim));
        for (int i = 0; i < ROUNDS; i++) {
            LengthPrefixed f = new LengthPrefixed(4096);
            try {
                List<byte[]> msgs = f.feed(ByteBufAllocator.DEFAULT, Unpooled.wrappedBuffer(junk(300)));
                for (byte[] m : msgs) {
                    assertTrue(m.length <= 4096);
                }
                assertTrue(f.buffered() <= 300);
            } catch (ProtocolException expected) {
                // refused
            } finally {
                f.release();
            }
        }
    }

    private static void drain(EmbeddedChannel ch) {
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
        for (Object o; (o = ch.readInbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    @Test
    void noiseResponder_randomAndMutatedHandshakes_closeTheConnectionOnly() {
        // a real first handshake message to mutate
        NoiseXX initiator = new NoiseXX(true, Crypto.x25519PrivateKey());
        byte[] msg1 = initiator.writeMessage(new byte[0]);
        byte[] framed = new byte[2 + msg1.length];
        framed[1] = (byte) msg1.length;
        System.arraycopy(msg1, 0, framed, 2, msg1.length);
        int garbageThird = 0;
        int garbageThirdClosed = 0;
        for (int i = 0; i < ROUNDS / 3; i++) {
            ConnectionSetup setup = new ConnectionSetup(host, false, null);
            EmbeddedChannel ch = new EmbeddedChannel(new NoiseHandler(setup));
            byte[] in = i % 3 == 0 ? junk(300) : mutate(framed);
            if (i % 3 == 2) { // a valid first message, then garbage as message 3
                ch.writeInbound(Unpooled.wrappedBuffer(framed));
                in = junk(200);
                in = java.util.Arrays.copyOf(in, Math.max(in.length, 2));
                in[0] = 0;
                in[1] = (byte) (in.length - 2);
            }
            ch.writeInbound(Unpooled.wrappedBuffer(in));
            ch.checkException(); // nothing escaped the handler
            if (!ch.isOpen()) {
                assertTrue(setup.ready.isCompletedExceptionally());
            }
            if (i % 3 == 2) {
                garbageThird++;
                garbageThirdClosed += ch.isOpen() ? 0 : 1;
            }
            drain(ch);
            ch.finishAndReleaseAll();
        }
        // Any 32 bytes are a valid first message, and a short frame waits for the rest (until the
        // upgrade deadline); a whole third message that fails authentication must close at once.
        assertEquals(garbageThird, garbageThirdClosed);
    }

    /** A Yamux session on an embedded channel, as if Noise had just finished. */
    private EmbeddedChannel yamux(ConnectionSetup setup) {
        setup.secured = new NoiseHandler.Secured(Identity.generate().peerId(), Identity.generate().publicKeyProto(), List.of());
        return new EmbeddedChannel(new YamuxSession(setup, setup.secured.remotePeer()));
    }

    private byte[] yamuxFrame(int type, int flags, int id, byte[] data) {
        ByteBuf b = Unpooled.buffer();
        Yamux.writeHeader(b, type, flags, id, type == Yamux.TYPE_DATA ? data.length : rnd.nextInt(1 << 20));
        if (type == Yamux.TYPE_DATA) {
            b.writeBytes(data);
        }
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    @Test
    void yamuxSession_randomAndMutatedFrames_resetStreamsOrCloseTheConnection_withBoundedMemory() {
        int survived = 0;
        for (int i = 0; i < ROUNDS / 3; i++) {
            ConnectionSetup setup = new ConnectionSetup(host, true, null);
            EmbeddedChannel ch = yamux(setup);
            assertTrue(ch.isOpen(), "a fresh session is open");
            for (int f = 0; f < 20 && ch.isOpen(); f++) {
                byte[] frame = switch (rnd.nextInt(4)) {
                    case 0 -> junk(64);
                    case 1 -> mutate(yamuxFrame(Yamux.TYPE_DATA, Yamux.SYN, 2 * (1 + rnd.nextInt(4)), junk(100)));
                    case 2 -> yamuxFrame(rnd.nextInt(4), rnd.nextInt(16), rnd.nextInt(8), junk(50));
                    default -> mutate(yamuxFrame(Yamux.TYPE_WINDOW_UPDATE, rnd.nextInt(16), 2, new byte[0]));
                };
                ch.writeInbound(Unpooled.wrappedBuffer(frame));
                ch.checkException();
                drain(ch);
            }
            if (ch.isOpen()) {
                survived++;
            }
            ch.finishAndReleaseAll();
        }
        assertTrue(survived > 0 && survived < ROUNDS / 3, "garbage closes some sessions, valid-looking frames keep others: " + survived);
    }

    @Test
    void yamuxSession_readsEndingMidFrame_doNotGrowTheBuffer() throws Exception {
        ConnectionSetup setup = new ConnectionSetup(host, true, null);
        EmbeddedChannel ch = yamux(setup);
        YamuxSession session = (YamuxSession) ch.pipeline().first();
        long[] received = {0};
        var opened = session.newStream("/oe/test/sink", new StreamHandler() {
            @Override
            public void onData(P2pStream s, ByteBuf data) {
                received[0] += data.readableBytes();
                data.release();
            }
        });
        ch.runPendingTasks();
        ByteBuf agree = Unpooled.buffer();
        Multistream.write(agree, Multistream.PROTOCOL_ID);
        Multistream.write(agree, "/oe/test/sink");
        ByteBuf all = Unpooled.buffer();
        int id = 3; // stream 1 is the identify request every new connection opens
        Yamux.writeHeader(all, Yamux.TYPE_DATA, Yamux.ACK, id, agree.readableBytes());
        all.writeBytes(agree);
        agree.release();
        for (int i = 0; i < 2000; i++) { // 2 MB in 1000-byte frames; the sink consumes, so credit flows back
            Yamux.writeHeader(all, Yamux.TYPE_DATA, 0, id, 1000);
            all.writeBytes(new byte[1000]);
        }
        int maxCapacity = 0;
        while (all.isReadable()) { // pieces that end mid-header and mid-frame, in buffers the session owns
            ch.writeInbound(ch.alloc().buffer().writeBytes(all, Math.min(all.readableBytes(), 7 + rnd.nextInt(3000))));
            maxCapacity = Math.max(maxCapacity, session.bufferedCapacity());
            drain(ch);
        }
        all.release();
        assertTrue(opened.isDone() && !opened.isCompletedExceptionally(), () -> "stream not agreed: " + opened + " open=" + ch.isOpen() + " " + (opened.isCompletedExceptionally() ? opened.exceptionNow() : ""));
        assertEquals(2_000_000, received[0]);
        assertTrue(ch.isOpen());
        assertTrue(maxCapacity < 64 * 1024, "decode buffer grew to " + maxCapacity + " bytes for 2 MB of input");
        ch.finishAndReleaseAll();
    }

    @Test
    void yamuxSession_dataBeyondTheWindow_isRefusedFromItsHeader() {
        ConnectionSetup setup = new ConnectionSetup(host, true, null);
        EmbeddedChannel ch = yamux(setup);
        ByteBuf h = Unpooled.buffer();
        Yamux.writeHeader(h, Yamux.TYPE_DATA, Yamux.SYN, 2, Yamux.INITIAL_WINDOW + 1); // claims more than the credit
        ch.writeInbound(h);
        drain(ch);
        assertFalse(ch.isOpen(), "a frame claiming more than the window closes the session before its bytes arrive");
        ch.finishAndReleaseAll();
    }

    @Test
    void yamuxSession_tooManyInboundStreams_areReset() {
        HostConfig small = HostConfig.defaults().withLimits(8, 100, 400);
        Host h = new Host(Identity.generate(), small);
        ConnectionSetup setup = new ConnectionSetup(h, true, null);
        EmbeddedChannel ch = yamux(setup);
        drain(ch);
        int resets = 0;
        for (int id = 2; id <= 40; id += 2) {
            ByteBuf f = Unpooled.buffer();
            Yamux.writeHeader(f, Yamux.TYPE_WINDOW_UPDATE, Yamux.SYN, id, 0);
            ch.writeInbound(f);
            for (Object o; (o = ch.readOutbound()) != null; ) {
                ByteBuf b = (ByteBuf) o;
                if (b.readableBytes() >= 12 && b.getUnsignedByte(1) == Yamux.TYPE_WINDOW_UPDATE
                        && (b.getUnsignedShort(2) & Yamux.RST) != 0) {
                    resets++;
                }
                b.release();
            }
        }
        assertEquals(20 - 8, resets);
        assertTrue(ch.isOpen());
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
        h.close();
    }
}
