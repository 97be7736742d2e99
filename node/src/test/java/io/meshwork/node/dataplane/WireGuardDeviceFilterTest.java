package io.meshwork.node.dataplane;

import static io.meshwork.node.filter.Packets.ipv4;
import static io.meshwork.node.filter.Packets.tcp;
import static io.meshwork.node.filter.Packets.udp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.meshwork.node.filter.PacketFilter;
import io.meshwork.node.filter.PolicyException;
import io.meshwork.protocol.api.PolicyRule;
import io.meshwork.protocol.api.SecurityPolicy;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two devices over an in-memory network ({@link TwoDevicesTest}); B enforces a security policy on what A sends it. */
class WireGuardDeviceFilterTest extends TwoDevicesTest {

    private static final String A = "10.0.0.1";
    private static final String B = "10.0.0.2";

    WireGuardDeviceFilterTest() {
        super("wgfa", "wgfb", false);
    }

    @BeforeEach
    void bFilters() throws PolicyException {
        SecurityPolicy dnsOnly = new SecurityPolicy(true, List.of("dns"),
                List.of(new PolicyRule("udp", 53, 53, List.of(A + "/32"))));
        b.setPacketFilter(PacketFilter.forPolicy(dnsOnly, null));
    }

    /** Sends from A and returns what reached B's interface within {@code millis}, or null. */
    private byte[] aToB(byte[] packet, long millis) throws InterruptedException {
        tunA.fromOs.add(packet);
        return tunB.toOs.poll(millis, TimeUnit.MILLISECONDS);
    }

    @Test
    void inboundPacketsNoRuleAllowsAreDroppedAndCounted() throws Exception {
        byte[] query = ipv4(A, B, 17, udp(40000, 53));
        assertArrayEquals(query, aToB(query, 5000), "the rule lets dns in");
        assertNull(aToB(ipv4(A, B, 17, udp(40000, 54)), 300), "another port");
        assertNull(aToB(ipv4(A, B, 6, tcp(40000, 22)), 300), "another protocol");
        assertEquals(2, b.dropped(DropReason.FILTERED));
        assertEquals(0, a.dropped(DropReason.FILTERED), "A filters nothing");
        assertArrayEquals(query, aToB(query, 5000), "the session is unharmed");
    }

    @Test
    void repliesToFlowsBStartedPass() throws Exception {
        assertArrayEquals(ipv4(A, B, 17, udp(1, 53)), aToB(ipv4(A, B, 17, udp(1, 53)), 5000));
        byte[] request = ipv4(B, A, 6, tcp(50000, 8080));
        tunB.fromOs.add(request);
        assertArrayEquals(request, tunA.toOs.poll(5, TimeUnit.SECONDS), "outbound is never filtered");
        byte[] reply = ipv4(A, B, 6, tcp(8080, 50000));
        assertArrayEquals(reply, aToB(reply, 5000), "the reply to B's connection passes");
        assertNull(aToB(ipv4(A, B, 6, tcp(8080, 50001)), 300), "a connection B did not start does not");
        assertEquals(1, b.dropped(DropReason.FILTERED));
    }

    @Test
    void malformedPacketsInsideTheTunnelAreFiltered() throws Exception {
        assertArrayEquals(ipv4(A, B, 17, udp(1, 53)), aToB(ipv4(A, B, 17, udp(1, 53)), 5000));
        byte[] truncatedTcp = ipv4(A, B, 6, Arrays.copyOf(tcp(1, 53), 10));
        assertNull(aToB(truncatedTcp, 300));
        assertEquals(1, b.dropped(DropReason.FILTERED));
    }

    @Test
    void withoutAFilterEverythingPassesAgain() throws Exception {
        assertNull(aToB(ipv4(A, B, 6, tcp(40000, 22)), 1000));
        b.setPacketFilter(null);
        byte[] ssh = ipv4(A, B, 6, tcp(40000, 22));
        assertArrayEquals(ssh, aToB(ssh, 5000));
        assertEquals(1, b.dropped(DropReason.FILTERED));
    }
}
