package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Hosts on loopback for tests, closed together. */
final class TestHosts implements AutoCloseable {
    static final String ECHO = "/oe/test/echo/1.0.0";
    private final List<Host> hosts = new ArrayList<>();

    Host start() throws IOException {
        return start(HostConfig.defaults().withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(30)));
    }

    Host start(HostConfig config) throws IOException {
        Host h = new Host(Identity.generate(), config);
        h.setStreamHandler(ECHO, TestHosts::echo);
        hosts.add(h);
        return h.start();
    }

    static Multiaddr addr(Host h) {
        return h.listenAddresses().get(0).withPeerId(h.peerId());
    }

    /** Echoes every byte and closes its side when the dialer does; pauses when the dialer does not read. */
    static StreamHandler echo() {
        return new StreamHandler() {
            @Override
            public void onData(P2pStream s, ByteBuf data) {
                s.write(data);
                if (!s.isWritable()) {
                    s.pauseReading();
                }
            }

            @Override
            public void onWritable(P2pStream s) {
                s.resumeReading();
            }
        };
    }

    @Override
    public void close() {
        for (Host h : hosts) {
            h.close();
        }
    }
}
