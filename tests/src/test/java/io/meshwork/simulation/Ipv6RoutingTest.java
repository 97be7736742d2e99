package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** IPv6 on the virtual network: routed /64s of dual-stack sites behind their gateways' stateful firewalls. */
class Ipv6RoutingTest {

    private final DiscreteEventScheduler scheduler = new DiscreteEventScheduler(11);
    private final VirtualNetwork network = new VirtualNetwork(scheduler);

    private static InetSocketAddress ipv6(Host host, int port) {
        return new InetSocketAddress(host.ipv6Address().orElseThrow(), port);
    }

    @Test
    void aDualStackHostHasAGlobalAddressInItsSitesOwnPrefix() {
        Host home = NatPreset.DUAL_STACK.build(network, "home").addHost("home");
        Host office = NatPreset.DUAL_STACK.build(network, "office").addHost("office");
        Host v4only = NatPreset.SYMMETRIC_RANDOM.build(network, "v4").addHost("v4");
        assertTrue(home.ipv6Address().orElseThrow() instanceof Inet6Address);
        assertEquals("2001:db8:0:1:0:0:0:1", home.ipv6Address().orElseThrow().getHostAddress());
        assertEquals("2001:db8:0:2:0:0:0:1", office.ipv6Address().orElseThrow().getHostAddress());
        assertFalse(v4only.ipv6Address().isPresent(), "other kinds stay IPv4-only");
    }

    @Test
    void theFirewallAdmitsOnlyRepliesToFlowsOpenedFromInside() {
        Host inside = NatPreset.DUAL_STACK.build(network, "home").addHost("inside");
        Host server = network.addPublicHost("server");
        network.addIpv6(server);
        ProbeSocket in = ProbeSocket.open(inside, 51820, scheduler);
        ProbeSocket out = ProbeSocket.open(server, 4000, scheduler);
        ProbeSocket otherPort = ProbeSocket.open(server, 4001, scheduler);

        out.send("unsolicited", ipv6(inside, 51820));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), in.texts(), "nothing gets in before the inside host sent");
        assertEquals(1, network.droppedByFirewalls());

        in.send("hello", ipv6(server, 4000));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("hello"), out.texts(), "sent from the host's own IPv6 address, untranslated");
        out.send("reply", ipv6(inside, 51820));
        otherPort.send("from another port", ipv6(inside, 51820));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("reply"), in.texts(), "the flow's own endpoint only (address and port)");
        assertEquals(2, network.droppedByFirewalls());

        scheduler.advance(Duration.ofSeconds(121));
        out.send("too late", ipv6(inside, 51820));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("reply"), in.texts(), "the flow expired");
    }

    @Test
    void aHostWithoutIpv6CannotSendToIpv6AndAnIpv4OnlySiteHasNoIpv6Route() {
        Host inside = NatPreset.DUAL_STACK.build(network, "home").addHost("inside");
        Host v4only = NatPreset.PORT_RESTRICTED_CONE.build(network, "v4").addHost("v4");
        Host server = network.addPublicHost("server");
        network.addIpv6(server);
        ProbeSocket v4 = ProbeSocket.open(v4only, 51820, scheduler);
        ProbeSocket out = ProbeSocket.open(server, 4000, scheduler);
        network.removeIpv6(inside);
        ProbeSocket in = ProbeSocket.open(inside, 51820, scheduler);

        in.send("no source", ipv6(server, 4000));
        v4.send("no source either", ipv6(server, 4000));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), out.texts());
        assertEquals(1, in.transport().droppedDatagrams());
        assertEquals(1, v4.transport().droppedDatagrams());
    }
}
