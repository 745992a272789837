package io.oecloud.testkit;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakTracker;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Netty's leak detector, keeping what it reports so that {@link NettyLeaks} can fail a test class on
 * it. Netty builds one detector per resource type ({@code ByteBuf}, {@code HashedWheelTimer}, ...)
 * through {@code ResourceLeakDetectorFactory}, which loads this class by name from the system
 * property {@code io.netty.customResourceLeakDetector} (the parent pom's surefire configuration sets
 * it, with {@code io.netty.leakDetection.level=paranoid}: every buffer is tracked). Reports still go
 * to Netty's log as well.
 *
 * @param <T> the resource type
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {
    /** Every detector Netty built through this class. */
    static final List<RecordingLeakDetector<?>> ALL = new CopyOnWriteArrayList<>();
    /** Reports not yet taken by {@link NettyLeaks#collect()}. */
    static final Queue<String> REPORTS = new ConcurrentLinkedQueue<>();
    /** Resources tracked since the start: when it has not moved, a class allocated nothing to check. */
    static final LongAdder TRACKED = new LongAdder();
    private static final Object POLL = new Object();

    /** The constructor Netty's factory calls. */
    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        ALL.add(this);
    }

    /** The constructor older factories call ({@code maxActive} is ignored by Netty as well). */
    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    @Override
    public ResourceLeakTracker<T> track(T obj) {
        TRACKED.increment();
        return super.track(obj);
    }

    /** Always: Netty asks its logger, and a test must see leaks whatever the logging setup. */
    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        REPORTS.add(resourceType + ".release() was not called before it was garbage-collected." + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        REPORTS.add(resourceType + ".release() was not called before it was garbage-collected (no access records).");
        super.reportUntracedLeak(resourceType);
    }

    /** Reports what the garbage collector has queued: Netty looks at its queue whenever it tracks an object. */
    @SuppressWarnings("unchecked")
    void poll() {
        ResourceLeakDetector<Object> any = (ResourceLeakDetector<Object>) (ResourceLeakDetector<?>) this;
        ResourceLeakTracker<Object> t = any.trackForcibly(POLL);
        t.close(POLL);
    }
}
