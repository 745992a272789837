package io.oecloud.dht;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.oecloud.dht.pb.Keys;
import io.oecloud.dht.pb.Noise;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * libp2p's Noise channel: the XX handshake with signed payloads, then 2-byte-length frames of
 * ChaCha20-Poly1305 ciphertext in both directions.
 *
 * <p>Handshake payloads carry the Ed25519 identity key and its signature over
 * {@code "noise-libp2p-static-key:" + static X25519 key}, plus the stream-muxer extension listing
 * {@code /yamux/1.0.0}. The remote peer ID is derived from the key it proved; when dialing a known
 * peer ID any other identity is rejected. Once done it records {@link Secured} and installs the muxer
 * (directly when both sides listed yamux, else through multistream-select).
 *
 * <p>Inbound frames are decrypted into fresh buffers passed up the pipeline (the frame is released
 * here); outbound buffers are split into frames of at most 65,519 plaintext bytes, encrypted and
 * released.
 */
final class NoiseHandler extends ChannelDuplexHandler {
    static final int MAX_FRAME = 65535;
    /**
     * What we put in one frame: 2 + 65,518 + 16 = 65,536 bytes on the wire, so the transport's
     * thread-local 64 KiB direct buffer carries it to the socket (a byte more and Netty allocates
     * and zeroes a fresh direct buffer per frame).
     */
    static final int MAX_PLAINTEXT = 65536 - 2 - NoiseCipher.TAG;
    private static final byte[] SIG_PREFIX = "noise-libp2p-static-key:".getBytes(StandardCharsets.US_ASCII);

    /** What the handshake proved about the remote side. */
    record Secured(PeerId remotePeer, byte[] remotePublicKeyProto, List<String> remoteMuxers) {}

    private final ConnectionSetup setup;
    private final NoiseXX hs;
    private ByteBuf cumulation;
    private NoiseCipher sender;
    private NoiseCipher receiver;
    private List<String> remoteMuxers = List.of();
    private PeerId remotePeer;
    private byte[] remoteKeyProto;

    NoiseHandler(ConnectionSetup setup) {
        this.setup = setup;
        this.hs = new NoiseXX(setup.initiator(), Crypto.x25519PrivateKey());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (hs.isInitiator()) {
            writeFrame(ctx, hs.writeMessage(new byte[0]));
            ctx.flush();
        }
    }

    private byte[] payload() {
        byte[] sig = setup.identity().sign(concat(SIG_PREFIX, hs.staticPublicKey()));
        return Noise.NoiseHandshakePayload.newBuilder()
                .setIdentityKey(ByteString.copyFrom(setup.identity().publicKeyProto()))
                .setIdentitySig(ByteString.copyFrom(sig))
                .setExtensions(Noise.NoiseExtensions.newBuilder().addStreamMuxers(Yamux.PROTOCOL_ID))
                .build()
                .toByteArray();
    }

    private void verifyPayload(byte[] payload) {
        Noise.NoiseHandshakePayload p;
        Keys.PublicKey key;
        try {
            p = Noise.NoiseHandshakePayload.parseFrom(payload);
            key = Keys.PublicKey.parseFrom(p.getIdentityKey());
        } catch (InvalidProtocolBufferException e) {
            throw new ProtocolException("malformed Noise handshake payload", e);
        }
        if (key.getType() != Keys.KeyType.Ed25519 || key.getData().size() != 32) {
            throw new ProtocolException("identity key type " + key.getType() + " is not supported (Ed25519 only)");
        }
        byte[] signed = concat(SIG_PREFIX, hs.remoteStaticKey());
        if (!Crypto.ed25519Verify(key.getData().toByteArray(), signed, p.getIdentitySig().toByteArray())) {
            throw new ProtocolException("Noise handshake signature does not verify");
        }
        remoteKeyProto = p.getIdentityKey().toByteArray();
        remotePeer = PeerId.fromPublicKeyProto(remoteKeyProto);
        PeerId expected = setup.expectedPeer();
        if (expected != null && !expected.equals(remotePeer)) {
            throw new ProtocolException("dialed " + expected + " but the peer proved it is " + remotePeer);
        }
        if (p.hasExtensions()) {
            remoteMuxers = List.copyOf(p.getExtensions().getStreamMuxersList());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        cumulation = cumulation == null ? buf : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, buf);
        try {
            while (cumulation.readableBytes() >= 2 && ctx.channel().isActive()) {
                int len = cumulation.getUnsignedShort(cumulation.readerIndex());
                if (cumulation.readableBytes() < 2 + len) {
                    break;
                }
                cumulation.skipBytes(2);
                ByteBuf frame = cumulation.readSlice(len);
                if (receiver == null) {
                    handshake(ctx, frame);
                } else {
                    if (len < NoiseCipher.TAG) {
                        throw new ProtocolException("Noise frame of " + len + " bytes is shorter than its tag");
                    }
                    ByteBuf plain = ctx.alloc().heapBuffer(len - NoiseCipher.TAG);
                    try {
                        receiver.decrypt(arrayBacked(frame), plain.nioBuffer(0, len - NoiseCipher.TAG));
                        plain.writerIndex(len - NoiseCipher.TAG);
                    } catch (RuntimeException e) {
                        plain.release();
                        throw e;
                    }
                    ctx.fireChannelRead(plain);
                }
            }
        } catch (RuntimeException e) {
            setup.fail(ctx, e);
        } finally {
            if (cumulation != null && !cumulation.isReadable()) {
                cumulation.release();
                cumulation = null;
            } else if (cumulation != null && cumulation.refCnt() == 1) {
                // Reclaim consumed bytes, or the buffer grows with every read that ends mid-frame.
                // Not while slices handed out still share it (refCnt > 1): moving bytes would change them.
                cumulation.discardSomeReadBytes();
            }
        }
    }

    private void handshake(ChannelHandlerContext ctx, ByteBuf frame) {
        byte[] msg = new byte[frame.readableBytes()];
        frame.readBytes(msg);
        byte[] payload = hs.readMessage(msg);
        if (hs.isInitiator()) { // read message 2: the responder's identity
            verifyPayload(payload);
            writeFrame(ctx, hs.writeMessage(payload()));
            ctx.flush();
        } else if (!hs.isComplete()) { // read message 1
            writeFrame(ctx, hs.writeMessage(payload()));
            ctx.flush();
        } else { // read message 3: the initiator's identity
            verifyPayload(payload);
        }
        if (hs.isComplete()) {
            NoiseCipher[] c = hs.split();
            sender = c[0];
            receiver = c[1];
            boolean direct = remoteMuxers.contains(Yamux.PROTOCOL_ID);
            setup.secured = new Secured(remotePeer, remoteKeyProto, remoteMuxers);
            ctx.pipeline().addAfter(ctx.name(), "muxer", direct
                    ? new YamuxSession(setup, remotePeer)
                    : new MuxerNegotiator(setup, remotePeer));
        }
    }

    private void writeFrame(ChannelHandlerContext ctx, byte[] body) {
        if (body.length > MAX_FRAME) {
            throw new ProtocolException("Noise handshake message of " + body.length + " bytes");
        }
        ByteBuf out = ctx.alloc().buffer(2 + body.length);
        out.writeShort(body.length).writeBytes(body);
        ctx.write(out);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.write(msg, promise);
            return;
        }
        if (sender == null) {
            ReferenceCountUtil.release(msg);
            promise.setFailure(new IllegalStateException("write before the Noise handshake completed"));
            return;
        }
        if (!buf.isReadable()) {
            buf.release();
            promise.setSuccess();
            return;
        }
        try {
            while (buf.isReadable()) {
                int n = Math.min(buf.readableBytes(), MAX_PLAINTEXT);
                ByteBuf out = ctx.alloc().heapBuffer(2 + n + NoiseCipher.TAG);
                out.writeShort(n + NoiseCipher.TAG);
                if (buf.nioBufferCount() == 1) {
                    sender.encrypt(buf.nioBuffer(buf.readerIndex(), n), out.nioBuffer(2, n + NoiseCipher.TAG));
                } else { // a composite (e.g. a Yamux header and its data): encrypted piece by piece, not merged
                    sender.encrypt(buf.nioBuffers(buf.readerIndex(), n), out.nioBuffer(2, n + NoiseCipher.TAG));
                }
                out.writerIndex(2 + n + NoiseCipher.TAG);
                buf.skipBytes(n);
                ctx.write(out, buf.isReadable() ? ctx.voidPromise() : promise);
            }
        } catch (RuntimeException e) {
            promise.tryFailure(e);
            setup.fail(ctx, e);
        } finally {
            buf.release();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        setup.fail(ctx, cause);
    }

    /**
     * The frame as a heap ByteBuffer: the JDK's cipher copies a direct one into a fresh array per
     * call, so a direct frame (as the socket delivers it) is copied into this thread's scratch.
     */
    private static ByteBuffer arrayBacked(ByteBuf frame) {
        if (frame.hasArray()) {
            return frame.nioBuffer();
        }
        byte[] scratch = SCRATCH.get();
        int n = frame.readableBytes();
        frame.getBytes(frame.readerIndex(), scratch, 0, n);
        return ByteBuffer.wrap(scratch, 0, n);
    }

    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[MAX_FRAME];
        }
    };

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
