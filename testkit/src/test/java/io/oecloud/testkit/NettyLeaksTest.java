package io.oecloud.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The leak check on leaks made on purpose. Each test takes the reports it provoked, so this class
 * itself ends clean and the build passes; {@link NettyLeakExtension} runs the same check after it.
 */
class NettyLeaksTest {
    @BeforeEach
    void clean() {
        assertEquals(List.of(), NettyLeaks.collect(), "nothing leaked before the test");
    }

    /** Allocates a buffer, writes to it and drops it unreleased: a method of its own, so no local keeps it. */
    private static void leak(Object hint) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        if (hint != null) {
            b.touch(hint);
        }
        b.writeInt(23);
    }

    @Test
    void wired_bySurefiresProperties() {
        assertTrue(NettyLeaks.wired(), "the parent pom sets io.netty.customResourceLeakDetector");
    }

    @Test
    void aBufferNeverReleased_isReported_withWhereItWasAllocated() {
        leak(null);
        List<String> leaks = NettyLeaks.collect();
        assertEquals(1, leaks.size(), leaks.toString());
        assertTrue(leaks.get(0).contains("ByteBuf.release() was not called"), leaks.get(0));
        assertTrue(leaks.get(0).contains("NettyLeaksTest.leak"), "the records name the allocation: " + leaks.get(0));
        assertEquals(List.of(), NettyLeaks.collect(), "a report is taken once");
    }

    @Test
    void assertNone_onALeak_failsNamingWhatRan() {
        leak(null);
        AssertionError e = assertThrows(AssertionError.class, () -> NettyLeaks.assertNone("LeakyTest"));
        assertTrue(e.getMessage().startsWith("Netty reported 1 leaked resource(s) while LeakyTest ran"), e.getMessage());
        assertTrue(e.getMessage().contains("NettyLeaksTest.leak"), e.getMessage());
    }

    @Test
    void aDeliberateLeak_isLeftOut_anotherBesideItIsNot() {
        leak(NettyLeaks.DELIBERATE);
        leak("an ordinary hint");
        List<String> leaks = NettyLeaks.collect();
        assertEquals(1, leaks.size(), leaks.toString());
        assertTrue(leaks.get(0).contains("an ordinary hint"), leaks.get(0));
    }

    @Test
    void releasedBuffers_areNotReported() {
        for (int i = 0; i < 1000; i++) {
            ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64).writeLong(i);
            b.retain().release();
            b.release();
        }
        NettyLeaks.assertNone("releasedBuffers_areNotReported");
    }
}
