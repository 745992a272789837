package io.oecloud.node.audit;

import io.netty.buffer.ByteBuf;
import io.oecloud.chain.ledger.Audits.Outcome;
import io.oecloud.dht.Host;
import io.oecloud.dht.P2pStream;
import io.oecloud.dht.PeerId;
import io.oecloud.dht.StreamHandler;
import io.oecloud.node.pb.AuditProto.AuditRequest;
import io.oecloud.node.pb.AuditProto.AuditResponse;
import io.oecloud.wire.LengthPrefix;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The auditor's side of {@code /oe/proof/1.0.0}: asks a node for a random verified slice and
 * judges the answer against the root the node committed on the chain and a deadline. The deadline
 * runs from the moment the stream is open (so dialing does not count against the node) to the
 * moment the whole answer is in; an answer after it is a TIMEOUT whatever it holds. Never fails:
 * every failure is a verdict.
 */
public final class AuditClient {
    private final Host host;

    public AuditClient(Host host) {
        this.host = host;
    }

    /** A verdict, how long the answer took (ms, -1 when none came), and why. */
    public record Result(Outcome outcome, long millis, String detail) {}

    /**
     * A request for period {@code period} under a root of {@code count} entries, drawn from
     * {@code rnd} (the auditor's own randomness: a SecureRandom in the role).
     */
    public static AuditRequest request(Random rnd, long period, long count, int chunks) {
        long entry = Math.floorMod(rnd.nextLong(), count);
        return AuditRequest.newBuilder().setPeriod(period).setEntry(entry).setChunkPick(rnd.nextLong())
                .setChunkCount(chunks).build();
    }

    /** Audits {@code target} with {@code r} against (root, count), allowing {@code deadlineMillis} for the answer. */
    public CompletableFuture<Result> audit(PeerId target, AuditRequest r, byte[] root, long count, long deadlineMillis) {
        CompletableFuture<Result> result = new CompletableFuture<>();
        long[] opened = {0};
        host.newStream(target, AuditProtocol.PROTOCOL_ID, new StreamHandler() {
            private ByteBuf buf;

            @Override
            public void onOpen(P2pStream s) {
                opened[0] = System.nanoTime();
                s.eventLoop().schedule(() -> {
                    if (result.complete(new Result(Outcome.TIMEOUT, -1, "no verified answer within " + deadlineMillis + " ms"))) {
                        s.reset();
                    }
                }, deadlineMillis, TimeUnit.MILLISECONDS);
                byte[] m = r.toByteArray();
                ByteBuf out = s.alloc().buffer(5 + m.length);
                LengthPrefix.writeUvarint(out, m.length);
                out.writeBytes(m);
                s.write(out);
                s.closeWrite();
            }

            @Override
            public void onData(P2pStream s, ByteBuf in) {
                try {
                    if (result.isDone()) {
                        return;
                    }
                    if (buf == null) {
                        buf = s.alloc().buffer(4096);
                    }
                    buf.writeBytes(in);
                    int len = LengthPrefix.frameLength(buf, 5, AuditProtocol.MAX_RESPONSE);
                    if (len == LengthPrefix.INCOMPLETE) {
                        return;
                    }
                    byte[] m = new byte[len];
                    buf.readBytes(m);
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened[0]);
                    AuditProtocol.Judged j = AuditProtocol.judge(r, root, count, AuditResponse.parseFrom(m));
                    result.complete(ms > deadlineMillis ? new Result(Outcome.TIMEOUT, ms, "answered after " + ms + " ms, the deadline is "
                            + deadlineMillis + " ms (" + j.outcome().word() + ": " + j.detail() + ")") : new Result(j.outcome(), ms, j.detail()));
                } catch (Exception e) { // an oversized or unparsable answer: the bytes do not verify
                    result.complete(new Result(Outcome.BAD, -1, "malformed answer: " + e.getMessage()));
                    s.reset();
                } finally {
                    in.release();
                }
            }

            @Override
            public void onClose(P2pStream s, Throwable error) {
                if (buf != null) {
                    buf.release();
                    buf = null;
                }
                result.complete(new Result(Outcome.TIMEOUT, -1, "the stream closed without an answer"
                        + (error == null ? "" : ": " + error.getMessage())));
            }
        }).whenComplete((s, e) -> {
            if (e != null) {
                result.complete(new Result(Outcome.TIMEOUT, -1, "could not reach " + target + ": " + e.getMessage()));
            }
        });
        // a stream that never opens (dial, negotiation) is bounded by the host's own timeouts; this is the last resort
        return result.completeOnTimeout(new Result(Outcome.TIMEOUT, -1, "no stream within " + (deadlineMillis + 30_000) + " ms"),
                deadlineMillis + 30_000, TimeUnit.MILLISECONDS);
    }
}
