package io.meshwork.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.net.Prefix;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a client takes from the peer map: accepted routes except its own LAN, and the exit node it asked for. */
class RouteSelectorTest {

    private static PeerInfo peer(String id, List<String> routes, boolean exit) {
        return new PeerInfo(id, "host-" + id, "k", List.of("100.64.0.9"), List.of(), Map.of(), 0, List.of(), routes,
                exit);
    }

    private static final List<Prefix> LAN = List.of(Prefix.parse("192.168.1.0/24"));

    @Test
    void acceptedRoutesGoThroughTheirRouterButNeverTheHostsOwnNetwork() {
        var selection = RouteSelector.select(List.of(peer("a", List.of("10.1.0.0/16", "192.168.0.0/16"), false)),
                new RouteSelector.Options(true, null, false), LAN, null);
        assertEquals(Map.of("a", List.of(Prefix.parse("10.1.0.0/16"))), selection.allowedIps());
        assertEquals(List.of(Prefix.parse("10.1.0.0/16")), selection.kernelRoutes());
        assertNull(selection.routes().get(0).skipped());
        assertEquals("covers this host's own network 192.168.1.0/24", selection.routes().get(1).skipped());
    }

    @Test
    void withoutAcceptRoutesNothingIsTakenButTheRoutesAreListed() {
        var selection = RouteSelector.select(List.of(peer("a", List.of("10.1.0.0/16"), false)),
                RouteSelector.Options.NONE, LAN, null);
        assertTrue(selection.allowedIps().isEmpty());
        assertTrue(selection.routes().get(0).skipped().contains("--accept-routes"));
    }

    @Test
    void theExitNodeIsTheNamedApprovedOneOrWithAutoTheCurrentWhileItStaysOne() {
        List<PeerInfo> peers = List.of(peer("a", List.of(), true), peer("b", List.of(), true),
                peer("c", List.of(), false));
        var named = RouteSelector.select(peers, new RouteSelector.Options(false, "host-b", false), LAN, null);
        assertEquals("b", named.exitNodeId());
        assertEquals(RouteSelector.DEFAULT_ROUTES, named.allowedIps().get("b"));
        assertEquals("a", RouteSelector.select(peers, new RouteSelector.Options(false, "auto", false), LAN, null)
                .exitNodeId());
        assertEquals("b", RouteSelector.select(peers, new RouteSelector.Options(false, "auto", false), LAN, "b")
                .exitNodeId(), "auto keeps the one in use");
        var notExit = RouteSelector.select(peers, new RouteSelector.Options(false, "c", false), LAN, null);
        assertNull(notExit.exitNodeId());
        assertEquals("host-c is not an approved exit node", notExit.exitNote());
        assertTrue(RouteSelector.select(List.of(), new RouteSelector.Options(false, "auto", false), LAN, null)
                .exitNote().contains("no approved exit node"));
    }
}
