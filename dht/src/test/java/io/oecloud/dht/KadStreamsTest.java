package io.oecloud.dht;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.oecloud.dht.pb.Kad;
import io.oecloud.wire.LengthPrefix;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Kad requests on kept streams, against a scripted server on a real host. */
@Timeout(60)
class KadStreamsTest {
    private final TestHosts hosts = new TestHosts();

    @AfterEach
    void stop() {
        hosts.close();
    }

    /**
     * A kad server that answers each FIND_NODE with its key and never ADD_PROVIDER, and resets a
     * stream without answering its {@code resetAt}-th message (0: never), as a peer that dropped
     * a kept stream would.
     */
    private static StreamHandler server(AtomicInteger streams, List<String> seen, int resetAt) {
        streams.incrementAndGet();
        return new StreamHandler() {
            private final LengthPrefixed framer = new LengthPrefixed(1 << 20);
            private int messages;

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                try {
                    for (byte[] m : framer.feed(s.alloc(), data)) {
                        Kad.Message msg = Kad.Message.parseFrom(m);
                        if (++messages == resetAt) {
                            s.reset();
                            return;
                        }
                        seen.add(msg.getType() + " " + msg.getKey().toStringUtf8());
                        if (msg.getType() == Kad.Message.MessageType.FIND_NODE) {
                            s.write(LengthPrefix.encode(s.alloc(), msg.toByteArray()));
                        }
                    }
                } catch (Exception e) {
                    s.reset();
                }
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                framer.release();
            }
        };
    }

    private static Kad.Message msg(Kad.Message.MessageType type, String key) {
        return Kad.Message.newBuilder().setType(type).setKey(ByteString.copyFromUtf8(key)).build();
    }

    @Test
    void requestsAndAnnouncements_shareOneKeptStream_eachReplyGoesToItsRequest() throws Exception {
        Host asker = hosts.start();
        Host target = hosts.start();
        AtomicInteger streams = new AtomicInteger();
        List<String> seen = new CopyOnWriteArrayList<>();
        target.setStreamHandler(HostKadNetwork.PROTOCOL_ID, () -> server(streams, seen, 0));
        asker.dial(TestHosts.addr(target)).get(10, TimeUnit.SECONDS);
        HostKadNetwork net = new HostKadNetwork(asker, 64);
        for (int i = 0; i < 20; i++) {
            net.send(target.peerId(), msg(Kad.Message.MessageType.ADD_PROVIDER, "p" + i)).get(10, TimeUnit.SECONDS);
            Kad.Message reply = net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "k" + i)).get(10, TimeUnit.SECONDS);
            assertEquals("k" + i, reply.getKey().toStringUtf8());
        }
        assertEquals(1, streams.get(), "40 messages, one after another, on one stream");
        assertEquals(40, seen.size());
        assertEquals(1, net.idleStreams());

        List<CompletableFuture<Kad.Message>> many = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            many.add(net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "c" + i)));
        }
        for (int i = 0; i < 12; i++) {
            assertEquals("c" + i, many.get(i).get(10, TimeUnit.SECONDS).getKey().toStringUtf8());
        }
        assertTrue(streams.get() <= 13, "concurrent requests open streams of their own: " + streams.get());
        assertTrue(net.idleStreams() <= KadStreams.IDLE_PER_PEER, "at most " + KadStreams.IDLE_PER_PEER + " are kept");
    }

    @Test
    void aKeptStreamThePeerDropped_isReplacedByANewOne_andTheRequestStillSucceeds() throws Exception {
        Host asker = hosts.start();
        Host target = hosts.start();
        AtomicInteger streams = new AtomicInteger();
        List<String> seen = new CopyOnWriteArrayList<>();
        target.setStreamHandler(HostKadNetwork.PROTOCOL_ID, () -> server(streams, seen, 4));
        asker.dial(TestHosts.addr(target)).get(10, TimeUnit.SECONDS);
        HostKadNetwork net = new HostKadNetwork(asker, 64);
        for (int i = 0; i < 10; i++) {
            Kad.Message reply = net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "k" + i)).get(10, TimeUnit.SECONDS);
            assertEquals("k" + i, reply.getKey().toStringUtf8());
        }
        // each stream answers three and is reset on its fourth: requests 4, 7 and 10 move to a new one
        assertEquals(4, streams.get());
        assertEquals(10, seen.size());
    }

    /** A peer that sends a message on a kept stream while no request waits: the stream is dropped. */
    @Test
    void aMessageNobodyAskedFor_dropsTheKeptStream_andTheNextRequestGoesOnANewOne() throws Exception {
        Host asker = hosts.start();
        Host target = hosts.start();
        AtomicInteger streams = new AtomicInteger();
        target.setStreamHandler(HostKadNetwork.PROTOCOL_ID, () -> {
            streams.incrementAndGet();
            return new StreamHandler() {
                private final LengthPrefixed framer = new LengthPrefixed(1 << 20);

                @Override
                public void onData(P2pStream s, ByteBuf data) {
                    try {
                        for (byte[] m : framer.feed(s.alloc(), data)) {
                            s.write(LengthPrefix.encode(s.alloc(), m));
                            if (streams.get() == 1) { // the first stream, once idle, gets a message nobody asked for
                                s.eventLoop().schedule(() -> {
                                    s.write(LengthPrefix.encode(s.alloc(), msg(Kad.Message.MessageType.FIND_NODE, "extra").toByteArray()));
                                }, 200, TimeUnit.MILLISECONDS);
                            }
                        }
                    } catch (Exception e) {
                        s.reset();
                    }
                }

                @Override
                public void onClose(P2pStream s, Throwable error) {
                    framer.release();
                }
            };
        });
        asker.dial(TestHosts.addr(target)).get(10, TimeUnit.SECONDS);
        HostKadNetwork net = new HostKadNetwork(asker, 64);
        assertEquals("a", net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "a"))
                .get(10, TimeUnit.SECONDS).getKey().toStringUtf8());
        assertEquals(1, net.idleStreams());
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // nothing is sent meanwhile
        while (net.idleStreams() > 0 && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        assertEquals(0, net.idleStreams(), "the stream that carried an unasked-for message is no longer kept");
        assertEquals("b", net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "b"))
                .get(10, TimeUnit.SECONDS).getKey().toStringUtf8());
        assertEquals(2, streams.get());
    }

    @Test
    void aRequestWhoseCallerGaveUp_neverHandsItsLateReplyToAnotherRequest() throws Exception {
        Host asker = hosts.start();
        Host target = hosts.start();
        AtomicInteger streams = new AtomicInteger();
        List<String> seen = new CopyOnWriteArrayList<>();
        // answers only FIND_NODE "slow" after a delay: a deadline passes first
        target.setStreamHandler(HostKadNetwork.PROTOCOL_ID, () -> {
            streams.incrementAndGet();
            return new StreamHandler() {
                private final LengthPrefixed framer = new LengthPrefixed(1 << 20);

                @Override
                public void onData(P2pStream s, ByteBuf data) {
                    try {
                        for (byte[] m : framer.feed(s.alloc(), data)) {
                            Kad.Message msg = Kad.Message.parseFrom(m);
                            seen.add(msg.getKey().toStringUtf8());
                            long delay = msg.getKey().toStringUtf8().equals("slow") ? 1500 : 0;
                            s.eventLoop().schedule(() -> { s.write(LengthPrefix.encode(s.alloc(), msg.toByteArray())); },
                                    delay, TimeUnit.MILLISECONDS);
                        }
                    } catch (Exception e) {
                        s.reset();
                    }
                }

                @Override
                public void onClose(P2pStream s, Throwable error) {
                    framer.release();
                }
            };
        });
        asker.dial(TestHosts.addr(target)).get(10, TimeUnit.SECONDS);
        HostKadNetwork net = new HostKadNetwork(asker, 64);
        assertEquals("a", net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "a")).get(10, TimeUnit.SECONDS)
                .getKey().toStringUtf8());
        CompletableFuture<Kad.Message> slow = Deadlines.orTimeout(net.request(target.peerId(),
                msg(Kad.Message.MessageType.FIND_NODE, "slow")), 300);
        assertTrue(assertThrowsCause(slow) instanceof java.util.concurrent.TimeoutException);
        assertEquals("b", net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "b")).get(10, TimeUnit.SECONDS)
                .getKey().toStringUtf8(), "the next request gets its own reply, on a new stream");
        assertEquals(2, streams.get(), "the first stream still waits for its late reply, so it is not lent out");
        // the late reply arrives and goes to the request that gave up: only then is its stream kept again
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (net.idleStreams() < 2 && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        assertEquals(2, net.idleStreams(), "both streams kept once the late reply came");
        assertEquals("c", net.request(target.peerId(), msg(Kad.Message.MessageType.FIND_NODE, "c")).get(10, TimeUnit.SECONDS)
                .getKey().toStringUtf8(), "a reply is never handed to a later request");
        assertEquals(2, streams.get());
    }

    private static Throwable assertThrowsCause(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            return e;
        }
        throw new AssertionError("expected a failure");
    }
}
