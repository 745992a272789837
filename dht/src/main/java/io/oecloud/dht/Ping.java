package io.oecloud.dht;

import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /ipfs/ping/1.0.0}: the dialer sends 32 random bytes, the listener echoes them, for as
 * many rounds as the dialer likes on one stream. js pings a contact before adding it to its DHT
 * routing table, so answering matters.
 */
final class Ping {
    static final String PROTOCOL_ID = "/ipfs/ping/1.0.0";
    static final int SIZE = 32;

    private Ping() {}

    /** Echoes every byte back (in order, as it comes), until the dialer closes or resets. */
    static StreamHandler responder() {
        return new StreamHandler() {
            private long echoed;

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                echoed += data.readableBytes();
                s.write(data);
                if (!s.isWritable()) {
                    s.pauseReading(); // a dialer that never reads must not fill our memory
                }
            }

            @Override
            public void onWritable(P2pStream s) {
                s.resumeReading();
            }
        };
    }

    /** One round trip; completes with its duration. */
    static final class Dialer implements StreamHandler {
        final CompletableFuture<Duration> result = new CompletableFuture<>();
        private final byte[] payload = new byte[SIZE];
        private final byte[] received = new byte[SIZE];
        private int got;
        private long sentNanos;

        @Override
        public void onOpen(P2pStream s) {
            Crypto.RANDOM.nextBytes(payload);
            sentNanos = System.nanoTime();
            s.write(s.alloc().buffer(SIZE).writeBytes(payload));
        }

        @Override
        public void onData(P2pStream s, ByteBuf data) {
            int n = Math.min(data.readableBytes(), SIZE - got);
            data.readBytes(received, got, n);
            got += n;
            data.release();
            if (got == SIZE) {
                if (Arrays.equals(payload, received)) {
                    result.complete(Duration.ofNanos(System.nanoTime() - sentNanos));
                } else {
                    result.completeExceptionally(new ProtocolException("ping answer differs from what we sent"));
                }
                s.closeWrite();
            }
        }

        @Override
        public void onRemoteClose(P2pStream s) {
            s.closeWrite();
        }

        @Override
        public void onClose(P2pStream s, Throwable error) {
            if (!result.isDone()) {
                result.completeExceptionally(error != null ? error : new ProtocolException("ping stream closed early"));
            }
        }
    }
}
