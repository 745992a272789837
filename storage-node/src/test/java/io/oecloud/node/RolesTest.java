package io.oecloud.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The role starter: in order, closed in reverse, also when a start or a close fails. */
class RolesTest {
    private final List<String> log = new ArrayList<>();

    private AutoCloseable role(String name, boolean closeFails) {
        log.add("start " + name);
        return () -> {
            log.add("close " + name);
            if (closeFails) {
                throw new IOException(name + " would not close");
            }
        };
    }

    @Test
    void close_closesTheRolesInReverseOrderOfTheirStart_once() throws Exception {
        Roles roles = new Roles();
        roles.start("storage", () -> role("storage", false));
        roles.start("super-node", () -> role("super-node", false));
        roles.start("API", () -> role("API", false));
        roles.close();
        roles.close();
        assertEquals(List.of("start storage", "start super-node", "start API", "close API", "close super-node", "close storage"), log);
    }

    @Test
    void start_failingInTheMiddle_closesTheStartedOnesInReverse_andThrowsItsFailure() throws Exception {
        Roles roles = new Roles();
        roles.start("storage", () -> role("storage", false));
        roles.start("super-node", () -> role("super-node", false));
        IOException bind = new IOException("address in use");
        IOException thrown = assertThrows(IOException.class, () -> roles.start("API", () -> {
            throw bind;
        }));
        assertSame(bind, thrown);
        assertEquals(List.of("start storage", "start super-node", "close super-node", "close storage"), log);
        roles.close();
        assertEquals(4, log.size(), "nothing is closed twice");
    }

    @Test
    void close_failing_doesNotStopTheOthersFromClosing_andIsSuppressedInAStartFailure() throws Exception {
        Roles roles = new Roles();
        roles.start("storage", () -> role("storage", false));
        roles.start("super-node", () -> role("super-node", true));
        roles.start("gauges", () -> role("gauges", false));
        roles.close();
        assertEquals(List.of("close gauges", "close super-node", "close storage"), log.subList(3, 6));

        log.clear();
        Roles again = new Roles();
        again.start("storage", () -> role("storage", true));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> again.start("API", () -> {
            throw new IllegalStateException("no API");
        }));
        assertEquals(List.of("start storage", "close storage"), log);
        assertEquals("storage would not close", e.getSuppressed()[0].getMessage());
    }
}
