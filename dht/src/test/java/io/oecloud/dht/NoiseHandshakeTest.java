package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.oecloud.dht.pb.Noise;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A responder facing initiators whose handshake payload lies. */
class NoiseHandshakeTest {
    private final Host host = new Host(Identity.generate(), HostConfig.defaults()); // identity only

    @AfterEach
    void close() {
        host.close();
    }

    private static ByteBuf frame(byte[] b) {
        return Unpooled.buffer().writeShort(b.length).writeBytes(b);
    }

    private static byte[] unframe(ByteBuf b) {
        byte[] out = new byte[b.readUnsignedShort()];
        b.readBytes(out);
        b.release();
        return out;
    }

    /** Runs XX against a responder NoiseHandler; message 3 carries {@code payload}. */
    private EmbeddedChannel handshake(java.util.function.Function<byte[], byte[]> payloadForStaticKey) {
        ConnectionSetup setup = new ConnectionSetup(host, false, null);
        EmbeddedChannel ch = new EmbeddedChannel(new NoiseHandler(setup));
        NoiseXX me = new NoiseXX(true, Crypto.x25519PrivateKey());
        ch.writeInbound(frame(me.writeMessage(new byte[0])));
        me.readMessage(unframe(ch.readOutbound()));
        ch.writeInbound(frame(me.writeMessage(payloadForStaticKey.apply(me.staticPublicKey()))));
        return ch;
    }

    private static byte[] payload(Identity claimed, Identity signer, byte[] staticKey) {
        byte[] msg = ("noise-libp2p-static-key:").getBytes(StandardCharsets.US_ASCII);
        byte[] signed = new byte[msg.length + staticKey.length];
        System.arraycopy(msg, 0, signed, 0, msg.length);
        System.arraycopy(staticKey, 0, signed, msg.length, staticKey.length);
        return Noise.NoiseHandshakePayload.newBuilder()
                .setIdentityKey(ByteString.copyFrom(claimed.publicKeyProto()))
                .setIdentitySig(ByteString.copyFrom(signer.sign(signed)))
                .build().toByteArray();
    }

    @Test
    void honestInitiator_completesTheHandshake() {
        Identity me = Identity.generate();
        EmbeddedChannel ch = handshake(sk -> payload(me, me, sk));
        assertTrue(ch.isOpen());
        ch.finishAndReleaseAll();
    }

    @Test
    void payloadClaimingSomeoneElsesKey_isRejected() {
        Identity victim = Identity.generate();
        Identity attacker = Identity.generate();
        EmbeddedChannel ch = handshake(sk -> payload(victim, attacker, sk)); // victim's key, attacker's signature
        assertFalse(ch.isOpen(), "the connection is closed");
        ch.finishAndReleaseAll();
    }

    @Test
    void signatureOverAnotherStaticKey_isRejected() {
        Identity me = Identity.generate();
        EmbeddedChannel ch = handshake(sk -> payload(me, me, Crypto.x25519PublicKey(Crypto.x25519PrivateKey())));
        assertFalse(ch.isOpen());
        ch.finishAndReleaseAll();
    }

    @Test
    void dialerExpectingAnotherPeer_failsWithBothIds() throws Exception {
        TestHosts hosts = new TestHosts();
        try {
            Host a = hosts.start();
            Host b = hosts.start();
            PeerId expected = Identity.generate().peerId();
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> a.dial(b.listenAddresses().get(0).withPeerId(expected)).get());
            assertTrue(e.getCause().getMessage().contains(expected.toString()), e.getCause().getMessage());
        } finally {
            hosts.close();
        }
    }
}
