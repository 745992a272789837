package io.oecloud.testkit;

import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

/**
 * Netty's leak reports, collected on demand: what {@link NettyLeakExtension} checks after every test
 * class, and what a test calls to check a leak of its own making.
 *
 * <p>Netty finds a leak when the garbage collector clears an object it tracks that was never
 * released, and reports it the next time it tracks another one; {@link #collect()} runs the
 * collector and makes every detector look. A leak found so is only as prompt as the collector: one
 * left by an earlier test class can surface in a later one, and the access records of each report
 * (paranoid level: every buffer, every retain, release and touch) say where it came from.
 */
public final class NettyLeaks {
    /**
     * A hint for a leak made on purpose, to test that leaks are seen ({@code buf.touch(NettyLeaks.DELIBERATE)}):
     * its report goes to Netty's log as usual but never fails a class.
     */
    public static final String DELIBERATE = "oe-testkit: a deliberate leak, to test leak detection";

    private static volatile long trackedAtLastCheck;

    private NettyLeaks() {}

    /**
     * Whether Netty builds its leak detectors through {@link RecordingLeakDetector}: when not, nothing
     * is recorded (the system property {@code io.netty.customResourceLeakDetector} was not set before
     * Netty first built a detector).
     */
    public static boolean wired() {
        return Wiring.WIRED;
    }

    /** The answer of {@link #wired()}, found once (asking builds a detector). */
    private static final class Wiring {
        static final boolean WIRED =
                ResourceLeakDetectorFactory.instance().newResourceLeakDetector(Wiring.class) instanceof RecordingLeakDetector;
    }

    /**
     * Runs the garbage collector, makes every detector report what it finds, and returns the reports
     * made since the last call (which are then forgotten), deliberate leaks left out. Skips the
     * collector when nothing was tracked since the last call.
     */
    public static List<String> collect() {
        long tracked = RecordingLeakDetector.TRACKED.sum();
        if (tracked != trackedAtLastCheck || !RecordingLeakDetector.REPORTS.isEmpty()) {
            // Two rounds: a leak's tracker is cleared by one collection, but an object that held the
            // only reference to a leaked buffer may itself need one to go first.
            for (int round = 0; round < 2; round++) {
                collectGarbage();
                for (RecordingLeakDetector<?> d : RecordingLeakDetector.ALL) {
                    d.poll();
                }
            }
            trackedAtLastCheck = RecordingLeakDetector.TRACKED.sum();
        }
        List<String> out = new ArrayList<>();
        for (String r; (r = RecordingLeakDetector.REPORTS.poll()) != null; ) {
            if (!r.contains(DELIBERATE)) {
                out.add(r);
            }
        }
        return out;
    }

    /**
     * {@link #collect()}, failing when it finds a leak.
     *
     * @param where what ran (a test class), for the message
     * @throws AssertionError listing every report
     */
    public static void assertNone(String where) {
        List<String> leaks = collect();
        if (!leaks.isEmpty()) {
            throw new AssertionError("Netty reported " + leaks.size() + " leaked resource(s) while " + where
                    + " ran (or, found by the garbage collector only now, before; the records say where each was last used):\n"
                    + String.join("\n\n", leaks));
        }
    }

    /**
     * One full collection, and its cleared references handed to their queues: waits (up to a second)
     * until a reference of its own is enqueued, which the JVM does for all cleared references of a
     * collection on one thread, in one batch.
     */
    private static void collectGarbage() {
        ReferenceQueue<Object> q = new ReferenceQueue<>();
        WeakReference<Object> probe = new WeakReference<>(new Object(), q);
        System.gc();
        try {
            q.remove(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        probe.clear();
    }
}
