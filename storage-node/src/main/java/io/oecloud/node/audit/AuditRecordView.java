package io.oecloud.node.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * This node's audit record as the chain keeps it (audits passed and failed, standing), read every
 * {@code every} and kept, so {@code GET /v1/status} answers from memory and never waits on the chain.
 */
public final class AuditRecordView implements AutoCloseable {
    private final AuditChain chain;
    private final String address;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "oe-audit-record");
        t.setDaemon(true);
        return t;
    });
    private volatile JsonNode record;
    private volatile String error;

    public AuditRecordView(AuditChain chain, String address, Duration every) {
        this.chain = chain;
        this.address = address;
        timer.scheduleWithFixedDelay(this::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void refresh() {
        try {
            record = chain.record(address);
            error = null;
        } catch (Exception | Error e) { // a periodic task never dies
            error = e.getMessage() == null ? e.toString() : e.getMessage();
        }
    }

    /** passed, failed (timeouts, bad), poorStanding as last read; "not registered" or the last error otherwise. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        JsonNode r = record;
        if (r != null) {
            m.put("passed", r.path("auditsPassed").asLong());
            m.put("failed", r.path("auditsFailed").asLong());
            m.put("timeouts", r.path("auditTimeouts").asLong());
            m.put("bad", r.path("auditsBad").asLong());
            m.put("poorStanding", r.path("poorStanding").asBoolean());
        } else {
            m.put("record", "not registered (or not read yet)");
        }
        if (error != null) {
            m.put("error", error);
        }
        return m;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
