package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class NoiseXXTest {
    @Test
    void handshake_thenTransportMessages_inBothDirections() {
        NoiseXX i = new NoiseXX(true, Crypto.x25519PrivateKey());
        NoiseXX r = new NoiseXX(false, Crypto.x25519PrivateKey());
        r.readMessage(i.writeMessage(new byte[0]));
        byte[] p2 = i.readMessage(r.writeMessage("responder".getBytes(StandardCharsets.UTF_8)));
        byte[] p3 = r.readMessage(i.writeMessage("initiator".getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals("responder".getBytes(StandardCharsets.UTF_8), p2);
        assertArrayEquals("initiator".getBytes(StandardCharsets.UTF_8), p3);
        assertArrayEquals(i.staticPublicKey(), r.remoteStaticKey());
        assertArrayEquals(r.staticPublicKey(), i.remoteStaticKey());
        NoiseCipher[] ic = i.split();
        NoiseCipher[] rc = r.split();
        for (int n = 0; n < 3; n++) {
            byte[] m = ("message " + n).getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(m, rc[1].decrypt(null, ic[0].encrypt(null, m)));
            assertArrayEquals(m, ic[1].decrypt(null, rc[0].encrypt(null, m)));
        }
    }

    @Test
    void tamperedHandshakeMessage_failsAuthentication() {
        NoiseXX i = new NoiseXX(true, Crypto.x25519PrivateKey());
        NoiseXX r = new NoiseXX(false, Crypto.x25519PrivateKey());
        r.readMessage(i.writeMessage(new byte[0]));
        byte[] m2 = r.writeMessage(new byte[] {1, 2, 3});
        m2[40] ^= 1; // inside the encrypted static key
        assertThrows(ProtocolException.class, () -> i.readMessage(m2));
    }

    @Test
    void shortHandshakeMessage_isRejected() {
        NoiseXX r = new NoiseXX(false, Crypto.x25519PrivateKey());
        assertThrows(ProtocolException.class, () -> r.readMessage(new byte[5]));
    }
}
