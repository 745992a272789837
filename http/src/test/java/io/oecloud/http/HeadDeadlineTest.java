package io.oecloud.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The head deadline in memory: time moves by hand. */
class HeadDeadlineTest {
    private static final long DEADLINE = 1000;

    /** A connection just accepted, with {@code d} in its pipeline and time standing still. */
    private static EmbeddedChannel channel(HeadDeadline d) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(d);
        ch.pipeline().fireChannelActive(); // the first head is due from now
        return ch;
    }

    private static String written(EmbeddedChannel ch) {
        ByteBuf b = ch.readOutbound();
        try {
            return b.toString(StandardCharsets.US_ASCII);
        } finally {
            b.release();
        }
    }

    @Test
    void newConnectionSilent_answers408AtTheDeadlineOfItsStart() {
        EmbeddedChannel ch = channel(new HeadDeadline(DEADLINE));
        ch.advanceTimeBy(DEADLINE, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(written(ch).startsWith("HTTP/1.1 408 Request Timeout\r\n"));
        assertFalse(ch.isOpen());
    }

    @Test
    void partialHeadNotWholeInTime_answers408AndCloses() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(new HeadDeadline(DEADLINE));
        ch.writeInbound(Unpooled.copiedBuffer("GET / HT", StandardCharsets.US_ASCII));
        ((ByteBuf) ch.readInbound()).release();
        ch.advanceTimeBy(DEADLINE - 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertNull(ch.readOutbound(), "not yet");
        ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        String answer = written(ch);
        assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
        assertTrue(answer.contains("X-Content-Type-Options: nosniff"), answer);
        assertFalse(ch.isOpen());
    }

    @Test
    void headArrived_cancelsTheDeadline_andIdleKeepAliveIsLeftAlone() {
        HeadDeadline d = new HeadDeadline(DEADLINE);
        EmbeddedChannel ch = channel(d);
        ch.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII));
        ((ByteBuf) ch.readInbound()).release();
        d.arrived();
        d.expect(); // answered; the connection idles
        ch.advanceTimeBy(10 * DEADLINE, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertNull(ch.readOutbound());
        assertTrue(ch.isOpen(), "an idle keep-alive connection is the idle limit's business");
        ch.writeInbound(Unpooled.copiedBuffer("G", StandardCharsets.US_ASCII)); // the next head starts its deadline
        ((ByteBuf) ch.readInbound()).release();
        ch.advanceTimeBy(DEADLINE, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(written(ch).startsWith("HTTP/1.1 408"));
        assertFalse(ch.isOpen());
    }
}
