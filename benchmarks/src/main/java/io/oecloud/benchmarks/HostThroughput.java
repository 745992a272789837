package io.oecloud.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.oecloud.dht.Connection;
import io.oecloud.dht.Host;
import io.oecloud.dht.HostConfig;
import io.oecloud.dht.Identity;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.StreamHandler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of the libp2p host on loopback, both hosts in this JVM (so both ends share the
 * machine's cores): bytes through one Noise + Yamux stream, and through 64 concurrent streams on
 * one connection, counted when the receiver has them; plus the latency of a fresh dial (TCP,
 * multistream-select, Noise XX, Yamux) and of dial + identify. Writers keep at most a few MiB in
 * flight per stream (they wait on {@link P2pStream#isWritable()}), as real senders do.
 *
 * <p>Run: {@code benchmarks/run.sh p2p}, or {@code java ... HostThroughput [MiB per run] [runs]}
 */
public final class HostThroughput {
    static final String SINK = "/oe/bench/sink/1.0.0";

    /** Counts bytes and answers one byte when the sender closes. */
    static StreamHandler sink() {
        return new StreamHandler() {
            @Override
            public void onData(P2pStream s, ByteBuf data) {
                data.release();
            }

            @Override
            public void onRemoteClose(P2pStream s) {
                s.write(Unpooled.wrappedBuffer(new byte[] {1}));
                s.closeWrite();
            }
        };
    }

    /** Writes {@code total} bytes with back-pressure; completes when the sink has them all. */
    static CompletableFuture<Void> send(Connection c, long total, ByteBuf chunk) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        c.newStream(SINK, new StreamHandler() {
            long sent;

            void pump(P2pStream s) {
                while (sent < total && s.isWritable()) {
                    int n = (int) Math.min(chunk.readableBytes(), total - sent);
                    s.write(chunk.retainedSlice(0, n));
                    sent += n;
                }
                if (sent >= total) {
                    s.closeWrite();
                }
            }

            @Override
            public void onOpen(P2pStream s) {
                pump(s);
            }

            @Override
            public void onWritable(P2pStream s) {
                pump(s);
            }

            @Override
            public void onData(P2pStream s, ByteBuf data) {
                data.release();
                done.complete(null);
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                if (error != null) {
                    done.completeExceptionally(error);
                }
            }
        });
        return done;
    }

    static double median(List<Double> l) {
        List<Double> s = new ArrayList<>(l);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 2048;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Host a = new Host(Identity.generate(), HostConfig.defaults()).start();
        Host b = new Host(Identity.generate(), HostConfig.defaults());
        b.setStreamHandler(SINK, HostThroughput::sink);
        b.start();
        var target = b.listenAddresses().get(0).withPeerId(b.peerId());
        ByteBuf chunk = Unpooled.directBuffer(256 * 1024);
        chunk.writeBytes(new byte[256 * 1024]);
        try {
            Connection c = a.dial(target).get(10, TimeUnit.SECONDS);
            send(c, 512L << 20, chunk).get(120, TimeUnit.SECONDS); // warm-up
            List<Double> one = new ArrayList<>();
            List<Double> many = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                send(c, mib << 20, chunk).get(300, TimeUnit.SECONDS);
                one.add((mib << 20) / ((System.nanoTime() - t0) / 1e9) / 1e9);
                t0 = System.nanoTime();
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    all.add(send(c, (mib << 20) / 64, chunk));
                }
                CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
                many.add((mib << 20) / ((System.nanoTime() - t0) / 1e9) / 1e9);
                System.out.printf("run %d: one stream %.3f GB/s, 64 streams %.3f GB/s%n", r + 1, one.get(r), many.get(r));
            }
            List<Double> dial = new ArrayList<>();
            List<Double> dialIdentify = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Host fresh = new Host(Identity.generate(), HostConfig.defaults()).start();
                try {
                    long t0 = System.nanoTime();
                    Connection fc = fresh.dial(target).get(10, TimeUnit.SECONDS);
                    long t1 = System.nanoTime();
                    fresh.identified(fc).get(10, TimeUnit.SECONDS);
                    long t2 = System.nanoTime();
                    if (i >= 10) { // the first dials warm the JIT
                        dial.add((t1 - t0) / 1e6);
                        dialIdentify.add((t2 - t0) / 1e6);
                    }
                } finally {
                    fresh.close();
                }
            }
            System.out.printf("median of %d runs (%d MiB each): one stream %.3f GB/s, 64 streams %.3f GB/s%n",
                    runs, mib, median(one), median(many));
            System.out.printf("dial (TCP + multistream + Noise XX + Yamux): median %.2f ms; dial + identify: median %.2f ms (40 fresh hosts)%n",
                    median(dial), median(dialIdentify));
            System.out.printf("targets: one stream >= 1 GB/s: %s; 64 streams >= 1 GB/s: %s%n",
                    median(one) >= 1 ? "MET" : "NOT MET", median(many) >= 1 ? "MET" : "NOT MET");
        } finally {
            chunk.release();
            a.close();
            b.close();
        }
    }
}
