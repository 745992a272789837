package io.oecloud.node.proving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.oecloud.node.proving.ProvingRole.Standing;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/**
 * The first step of {@link ProvingRole}'s tick, as {@link ProvingRole#standing} decides it from the
 * node's record (the fields chain-bridge's {@code /storage-node} query answers): register when the
 * chain does not know the node, top up when penalties left it inactive, and, once it unregistered,
 * answer the committed periods without committing new roots, topping up or registering again.
 */
class ProvingRoleStandingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BigInteger MIN = BigInteger.valueOf(1_000_000);

    private static JsonNode record(String collateral, boolean active, boolean leaving) {
        var n = JSON.createObjectNode().put("collateral", collateral).put("active", active).put("leaving", leaving)
                .put("withdrawing", leaving ? "900000" : "0");
        if (leaving) {
            n.put("withdrawAt", 60);
        } else {
            n.putNull("withdrawAt");
        }
        return n;
    }

    @Test
    void notRegistered_registers_unlessItLeft() {
        assertEquals(Standing.REGISTER, ProvingRole.standing(null, false, MIN));
        assertEquals(Standing.LEFT, ProvingRole.standing(null, true, MIN), "a node that left is not registered again by the role");
    }

    @Test
    void registered_provesOrTopsUp() {
        assertEquals(Standing.PROVE, ProvingRole.standing(record("1000000", true, false), false, MIN));
        assertEquals(Standing.TOP_UP, ProvingRole.standing(record("900000", false, false), false, MIN));
        assertEquals(Standing.PROVE, ProvingRole.standing(record("1000000", false, false), false, BigInteger.valueOf(900_000)),
                "inactive but holding the target: nothing to top up");
    }

    @Test
    void leaving_isNeitherToppedUpNorRegistered_andStillAnswers() {
        // a leaving node is inactive with 0 collateral: without the rule it would look like one to top up
        assertEquals(Standing.LEAVING, ProvingRole.standing(record("0", false, true), false, MIN));
        assertEquals(Standing.LEAVING, ProvingRole.standing(record("0", false, true), true, MIN));
    }

    @Test
    void aRecordWithoutTheLeavingField_isRead_asNotLeaving() {
        JsonNode old = JSON.createObjectNode().put("collateral", "1000000").put("active", true);
        assertEquals(Standing.PROVE, ProvingRole.standing(old, false, MIN));
    }
}
