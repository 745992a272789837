package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WarmupTest {
    @Test
    void warmUp_runsEveryKernelOverWholeAndUnevenSegments_withoutError() throws Exception {
        // the cipher refuses a repeated key and nonce, the codec an inconsistent shard set: both would throw
        Warmup.run(4, 2, 1 << 20, 3);
        Warmup.run(10, 4, (1 << 20) + 7, 2);
    }

    @Test
    void warmUpThread_endsOnItsOwn() throws Exception {
        Thread t = Warmup.start(2, 1, 256 << 10);
        assertTrue(t.isDaemon(), "never keeps a stopping node alive");
        t.join(120_000);
        assertFalse(t.isAlive(), "the warm-up is bounded");
    }
}
