package io.meshwork.node.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.local.NodeStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Routes in {@code meshwork status}: what is advertised and approved, the exit node, and each route's router. */
class StatusRouteLinesTest {

    private static final NodeStatus.Self SELF = new NodeStatus.Self("d-1", "gw", List.of("100.64.0.1"), Map.of());

    @Test
    void saysWhatIsAdvertisedApprovedPendingAndWhichRouterEachRouteUses() {
        NodeStatus.Routes routes = new NodeStatus.Routes(List.of("192.168.10.0/24", "0.0.0.0/0", "::/0"),
                List.of("192.168.10.0/24"), List.of("0.0.0.0/0", "::/0"), List.of("192.168.10.0/24"),
                "iptables with SNAT", "exit-1", null, List.of(
                        new NodeStatus.Route("10.5.0.0/16", "office", null),
                        new NodeStatus.Route("192.168.1.0/24", "home", "covers this host's own network 192.168.1.0/24")));
        String text = StatusCommand.render(new NodeStatus(SELF, List.of(), null, null, routes), Instant.EPOCH);
        assertTrue(text.contains("advertising: 192.168.10.0/24, 0.0.0.0/0, ::/0; approved: 192.168.10.0/24; "
                + "waiting for approval: 0.0.0.0/0, ::/0; primary router for 192.168.10.0/24\n"), text);
        assertTrue(text.contains("forwarding: iptables with SNAT\n"), text);
        assertTrue(text.contains("exit node: exit-1\n"), text);
        assertTrue(text.contains("route 10.5.0.0/16 via office\n"), text);
        assertTrue(text.contains("route 192.168.1.0/24 via home: not used, covers this host's own network "
                + "192.168.1.0/24\n"), text);
    }

    @Test
    void saysWhyNoExitNodeIsInUseAndNothingWithoutRoutes() {
        NodeStatus.Routes routes = new NodeStatus.Routes(List.of(), null, null, List.of(), null, null,
                "no approved exit node in the peer map", List.of());
        String text = StatusCommand.render(new NodeStatus(SELF, List.of(), null, null, routes), Instant.EPOCH);
        assertTrue(text.contains("exit node: none (no approved exit node in the peer map)\n"), text);
        String none = StatusCommand.render(new NodeStatus(SELF, List.of(), null, null, null), Instant.EPOCH);
        assertFalse(none.contains("route"), none);
    }
}
