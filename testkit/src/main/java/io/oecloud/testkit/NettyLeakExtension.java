package io.oecloud.testkit;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked buffer (or any resource it tracks), as Netty's own
 * {@code LeakPresenceExtension} does: the check runs after the class's {@code @AfterAll} methods,
 * so resources a class keeps across its tests are not leaks while it runs.
 *
 * <p>Registered for every test class of the modules that use Netty through JUnit's extension
 * auto-detection ({@code META-INF/services}, enabled in the parent pom's surefire configuration,
 * which also sets the leak detector and the paranoid level): a module gets it by depending on this
 * kit in test scope.
 */
public final class NettyLeakExtension implements BeforeAllCallback, AfterAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        if (!NettyLeaks.wired()) {
            throw new IllegalStateException("Netty's leak reports do not reach the test: run with "
                    + "-Dio.netty.customResourceLeakDetector=" + RecordingLeakDetector.class.getName()
                    + " (the parent pom's surefire configuration sets it); level now " + ResourceLeakDetector.getLevel());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        NettyLeaks.assertNone(context.getDisplayName());
    }
}
