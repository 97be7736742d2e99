package io.meshwork.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Default traffic through the exit node by policy routing, with control, relays and peers' endpoints kept off it. */
class ExitRoutingTest {

    @TempDir
    Path state;

    @Test
    void underlayAddressesLookUpTheMainTableBeforeEverythingElseGoesToTheMesh() throws Exception {
        FakeHost host = new FakeHost(Set.of());
        HostChanges changes = new HostChanges(state, host);
        InetAddress control = InetAddress.getByName("192.0.2.10");
        ExitRouting exit = new ExitRouting(changes, "mw0", false, () -> List.of(control));
        PeerInfo peer = new PeerInfo("p", "p", "k", List.of("100.64.0.2"),
                List.of(new Endpoint("198.51.100.7:41641", "stun")), Map.of(), 0);
        exit.follow(true, List.of(peer));
        List<String> lines = host.take();
        assertEquals("ip -4 rule add to 192.0.2.10/32 lookup main priority 5270", lines.get(0));
        assertEquals("ip -4 rule add to 198.51.100.7/32 lookup main priority 5270", lines.get(1));
        assertTrue(lines.contains("ip -4 route replace default dev mw0 table 5280"), lines.toString());
        assertEquals("ip -4 rule add lookup 5280 priority 5279", lines.get(lines.indexOf(
                "ip -4 rule add lookup 5280 priority 5279")));
        assertFalse(lines.stream().anyMatch(line -> line.contains("suppress_prefixlength")), "the LAN goes too");
        assertTrue(exit.active());

        // The peer moved: its old endpoint's rule goes, the new one's comes.
        PeerInfo moved = new PeerInfo("p", "p", "k", List.of("100.64.0.2"),
                List.of(new Endpoint("203.0.113.9:41641", "stun")), Map.of(), 0);
        exit.follow(true, List.of(moved));
        assertEquals(List.of("ip -4 rule del to 198.51.100.7/32 lookup main priority 5270",
                "ip -4 rule add to 203.0.113.9/32 lookup main priority 5270"), host.take());

        exit.follow(false, List.of(moved));
        List<String> removed = host.take();
        assertTrue(removed.contains("ip -4 rule del lookup 5280 priority 5279"), removed.toString());
        assertTrue(removed.contains("ip -4 rule del to 192.0.2.10/32 lookup main priority 5270"), removed.toString());
        assertFalse(exit.active());
        assertTrue(changes.pending().isEmpty());
    }

    @Test
    void allowLanKeepsTheMainTablesSpecificRoutes() throws Exception {
        FakeHost host = new FakeHost(Set.of());
        ExitRouting exit = new ExitRouting(new HostChanges(state, host), "mw0", true, List::of);
        exit.follow(true, List.of());
        assertTrue(host.take().contains("ip -4 rule add lookup main suppress_prefixlength 0 priority 5275"));
    }
}
