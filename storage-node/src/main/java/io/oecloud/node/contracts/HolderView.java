package io.oecloud.node.contracts;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The holder side of paid storage as last computed ({@link Coverage}), read-only, for the status:
 * the chain period it was computed for, live contracts listing this node, the blocks and bytes
 * they cover, the blocks and bytes admitted provisionally, pins dropped since the node started,
 * when it was read, and the last failure since (null when the last read worked).
 */
public record HolderView(long period, int contracts, int coveredBlocks, long coveredBytes, int provisionalBlocks,
                         long provisionalBytes, long dropped, Instant readAt, String error) {
    static final HolderView NOT_READ = new HolderView(-1, 0, 0, 0, 0, 0, 0, null, null);

    /** The same figures, read again at {@code at} (a pass that found nothing changed), the error cleared. */
    HolderView readAt(Instant at) {
        return new HolderView(period, contracts, coveredBlocks, coveredBytes, provisionalBlocks, provisionalBytes, dropped, at, null);
    }

    HolderView withError(String why) {
        return new HolderView(period, contracts, coveredBlocks, coveredBytes, provisionalBlocks, provisionalBytes, dropped, readAt,
                why);
    }

    /** As a status map (what {@code GET /v1/status} can show under "holder"). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (readAt == null) {
            m.put("state", "not read yet");
        } else {
            m.put("period", period);
            m.put("contractsHeld", contracts);
            m.put("coveredBlocks", coveredBlocks);
            m.put("coveredBytes", coveredBytes);
            m.put("provisionalBlocks", provisionalBlocks);
            m.put("provisionalBytes", provisionalBytes);
            m.put("droppedPins", dropped);
            m.put("readAt", readAt.toString());
        }
        if (error != null) {
            m.put("error", error);
        }
        return m;
    }
}
