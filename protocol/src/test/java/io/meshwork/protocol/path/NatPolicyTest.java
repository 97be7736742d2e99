package io.meshwork.protocol.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.path.NatPolicy.Side;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NatPolicyTest {

    @ParameterizedTest(name = "{0}/{1} vs {2}/{3}: predict={4}")
    @CsvSource({
            "true, ENDPOINT_INDEPENDENT,       true, ENDPOINT_INDEPENDENT,       false, direct path is expected",
            "true, ENDPOINT_INDEPENDENT,       true, ADDRESS_AND_PORT_DEPENDENT, true,  port prediction",
            "true, UNKNOWN,                    true, ADDRESS_DEPENDENT,          true,  port prediction",
            "true, ENDPOINT_INDEPENDENT,       true, ENDPOINT_DEPENDENT,         true,  port prediction",
            "true, ADDRESS_AND_PORT_DEPENDENT, true, ENDPOINT_INDEPENDENT,       false, the peer's NAT filters loosely",
            "true, ADDRESS_AND_PORT_DEPENDENT, true, ADDRESS_DEPENDENT,          false, both NATs map per destination",
            "false, ENDPOINT_INDEPENDENT,      true, ENDPOINT_INDEPENDENT,       false, this node's UDP",
            "true, ENDPOINT_INDEPENDENT,       false, UNKNOWN,                   false, the peer's UDP",
            "true, UNKNOWN,                    true, UNKNOWN,                    false, this node's NAT is not classified",
            "true, ENDPOINT_INDEPENDENT,       true, UNKNOWN,                    false, the peer's NAT is not classified",
    })
    void plansByMappingOnBothSides(boolean selfUdp, MappingBehavior self, boolean peerUdp, MappingBehavior peer,
            boolean predict, String words) {
        NatPolicy.Plan plan = NatPolicy.plan(new Side(selfUdp, self), new Side(peerUdp, peer));
        assertEquals(predict, plan.predictPorts());
        assertTrue(plan.expectation().contains(words), plan.expectation());
    }
}
