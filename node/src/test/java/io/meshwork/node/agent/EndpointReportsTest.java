package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.node.netcheck.ServerProbe;
import io.meshwork.node.portmap.PortMapping;
import io.meshwork.node.tunnel.TunnelPeer;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.nat.ClassicNatType;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.nat.NatReport;
import io.meshwork.protocol.path.NatPolicy;
import io.meshwork.protocol.portmap.PortMapProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EndpointReportsTest {

    private static final InetSocketAddress STUN = new InetSocketAddress("203.0.113.10", 3478);

    @Test
    void aNetcheckReportsLocalThenStunEndpointsAndTheReportsFields() {
        NetcheckResult result = result(new NatReport(true,
                List.of(new InetSocketAddress("198.51.100.7", 40001), new InetSocketAddress("198.51.100.7", 40002)),
                MappingBehavior.ADDRESS_AND_PORT_DEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT,
                Optional.of(false), Optional.empty(), false, ClassicNatType.SYMMETRIC));

        EndpointDiscovery.Discovered discovered = EndpointReports.fromNetcheck(List.of("10.1.0.11"), 51820, result);

        assertEquals(List.of(new Endpoint("10.1.0.11:51820", "local"), new Endpoint("198.51.100.7:40001", "stun"),
                new Endpoint("198.51.100.7:40002", "stun")), discovered.endpoints());
        assertEquals(Set.of("198.51.100.7"), discovered.publicIps());
        Map<String, Object> nat = discovered.nat();
        assertEquals(true, nat.get("udp"));
        assertEquals("ADDRESS_AND_PORT_DEPENDENT", nat.get("mapping"));
        assertEquals("ADDRESS_AND_PORT_DEPENDENT", nat.get("filtering"));
        assertEquals(false, nat.get("portPreserving"));
        assertEquals(true, nat.containsKey("hairpin") && nat.get("hairpin") == null, "unknown is null: " + nat);
        assertEquals("symmetric", nat.get("classic"));
        assertEquals(List.of("198.51.100.7:40001", "198.51.100.7:40002"), nat.get("publicEndpoints"));
    }

    @Test
    void aPreliminaryDiscoveryHasTheFirstMappingAndNoNatReportWhichPeersReadAsUnknown() {
        EndpointDiscovery.Discovered early = EndpointReports.preliminary(List.of("10.1.0.11"), 51820,
                new InetSocketAddress("198.51.100.7", 40001));
        assertEquals(List.of(new Endpoint("10.1.0.11:51820", "local"), new Endpoint("198.51.100.7:40001", "stun")),
                early.endpoints());
        assertEquals(Map.of(), early.nat());
        assertEquals(Set.of("198.51.100.7"), early.publicIps());
        TunnelPeer asPeer = PeerFacts.fromPeer(new PeerInfo("o-d2", "desk", "key", List.of("100.64.0.2"),
                early.endpoints(), early.nat(), 0L));
        assertEquals(List.of(new InetSocketAddress("198.51.100.7", 40001)), asPeer.reflexive());
        assertEquals(NatPolicy.Side.unknown(), asPeer.nat());

        EndpointDiscovery.Discovered behindLan = EndpointReports.preliminary(List.of("10.1.0.11"), 51820,
                new InetSocketAddress("192.168.1.1", 40001));
        assertEquals(List.of(new Endpoint("10.1.0.11:51820", "local")), behindLan.endpoints(),
                "a private address STUN saw is not reported");
    }

    @Test
    void whatANodeReportsIsWhatItsPeersReadBack() {
        NetcheckResult result = result(new NatReport(true, List.of(new InetSocketAddress("2001:db8::7", 40001)),
                MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_DEPENDENT, Optional.of(true),
                Optional.of(false), false, ClassicNatType.RESTRICTED_CONE));
        EndpointDiscovery.Discovered discovered = EndpointReports.fromNetcheck(List.of("10.1.0.11"), 51820, result);

        TunnelPeer asPeer = PeerFacts.fromPeer(new PeerInfo("o-d1", "laptop", "key", List.of("100.64.0.1"),
                discovered.endpoints(), discovered.nat(), 0));
        TunnelPeer asSelf = PeerFacts.forSelf(discovered.endpoints(), discovered.nat(), 51820, List.of("10.1.0.11"));

        assertEquals(List.of(new InetSocketAddress("10.1.0.11", 51820)), asPeer.lan());
        assertEquals(List.of(new InetSocketAddress("2001:db8::7", 40001)), asPeer.reflexive());
        assertEquals(51820, asPeer.localPort());
        assertEquals(new NatPolicy.Side(true, MappingBehavior.ENDPOINT_INDEPENDENT), asPeer.nat());
        assertEquals(asSelf, asPeer, "a node and its peers see the same facts of it");
    }

    @Test
    void udpBlockedIsReportedAsSuchAndReadBackAsUnreachable() {
        NetcheckResult result = result(new NatReport(false, List.of(), MappingBehavior.UNKNOWN,
                FilteringBehavior.UNKNOWN, Optional.empty(), Optional.empty(), false, ClassicNatType.BLOCKED));

        EndpointDiscovery.Discovered discovered = EndpointReports.fromNetcheck(List.of("10.1.0.11"), 51820, result);

        assertEquals(List.of(new Endpoint("10.1.0.11:51820", "local")), discovered.endpoints());
        assertEquals(Set.of(), discovered.publicIps());
        assertEquals(new NatPolicy.Side(false, MappingBehavior.UNKNOWN), PeerFacts.natSide(discovered.nat()));
    }

    @Test
    void theIpv6ReflexiveEndpointIsAStunEndpointAfterTheOthers() {
        EndpointDiscovery.Discovered discovered = EndpointReports.withoutStun(List.of("10.1.0.11", "2001:db8:2::10"),
                41641);

        EndpointDiscovery.Discovered withReflexive = EndpointReports.withIpv6Reflexive(discovered,
                Optional.of(new InetSocketAddress("2001:db8:2::10", 41641)));

        assertEquals(List.of(new Endpoint("10.1.0.11:41641", "local"), new Endpoint("[2001:db8:2::10]:41641", "local"),
                new Endpoint("[2001:db8:2::10]:41641", "stun")), withReflexive.endpoints());
        assertEquals(discovered.publicIps(), withReflexive.publicIps(), "public IPs name the IPv4 NAT");
        assertEquals(discovered, EndpointReports.withIpv6Reflexive(discovered, Optional.empty()));
        assertEquals(discovered, EndpointReports.withIpv6Reflexive(discovered,
                Optional.of(new InetSocketAddress("fe80::1", 41641))), "a link-local address is no endpoint");
    }

    @Test
    void withoutStunOnlyTheLocalEndpointsAndNoReport() {
        EndpointDiscovery.Discovered discovered = EndpointReports.withoutStun(List.of("10.1.0.11", "fd00::11"), 41641);

        assertEquals(List.of(new Endpoint("10.1.0.11:41641", "local"), new Endpoint("[fd00::11]:41641", "local")),
                discovered.endpoints());
        assertEquals(Map.of(), discovered.nat());
        assertEquals(Set.of(), discovered.publicIps());
    }

    @Test
    void onlyEndpointsControlTakesAreReported() {
        NetcheckResult result = result(new NatReport(true,
                List.of(new InetSocketAddress("10.9.0.1", 40001), new InetSocketAddress("198.51.100.7", 40002)),
                MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT, Optional.empty(),
                Optional.empty(), false, ClassicNatType.FULL_CONE));

        EndpointDiscovery.Discovered discovered = EndpointReports.fromNetcheck(
                List.of("127.0.0.1", "169.254.3.4", "0.0.0.0", "10.1.0.11"), 51820, result);

        assertEquals(List.of(new Endpoint("10.1.0.11:51820", "local"), new Endpoint("198.51.100.7:40002", "stun")),
                discovered.endpoints(), "no loopback, link-local or unspecified interface, no private STUN mapping");
        assertEquals(Set.of("10.9.0.1", "198.51.100.7"), discovered.publicIps());
    }

    @Test
    void atMostSixteenEndpointsTheStunOnesFirstAndNatListsOfSixteen() {
        List<InetSocketAddress> mapped = java.util.stream.IntStream.range(0, 20)
                .mapToObj(i -> new InetSocketAddress("198.51.100.7", 40000 + i)).toList();
        NetcheckResult result = result(new NatReport(true, mapped, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT,
                FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, Optional.empty(), Optional.empty(), false,
                ClassicNatType.SYMMETRIC));
        List<String> locals = java.util.stream.IntStream.range(1, 21).mapToObj(i -> "10.1.0." + i).toList();

        EndpointDiscovery.Discovered many = EndpointReports.fromNetcheck(locals, 51820, result);
        assertEquals(16, many.endpoints().size());
        assertTrue(many.endpoints().stream().allMatch(endpoint -> endpoint.source().equals("stun")));
        assertEquals(16, ((List<?>) many.nat().get("publicEndpoints")).size());

        NetcheckResult two = result(new NatReport(true, mapped.subList(0, 2), MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ENDPOINT_INDEPENDENT, Optional.empty(), Optional.empty(), false,
                ClassicNatType.FULL_CONE));
        List<Endpoint> endpoints = EndpointReports.fromNetcheck(locals, 51820, two).endpoints();
        assertEquals(16, endpoints.size());
        assertEquals(new Endpoint("10.1.0.1:51820", "local"), endpoints.get(0));
        assertEquals(List.of("stun", "stun"), endpoints.subList(14, 16).stream().map(Endpoint::source).toList());
    }

    @Test
    void thePortMappingComesFirstAndReplacesTheSameStunEndpoint() throws Exception {
        NetcheckResult result = result(new NatReport(true, List.of(new InetSocketAddress("192.0.3.201", 51820)),
                MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, Optional.empty(),
                Optional.empty(), false, ClassicNatType.PORT_RESTRICTED_CONE));
        EndpointDiscovery.Discovered plain = EndpointReports.fromNetcheck(List.of("10.1.0.11"), 51820, result);
        EndpointDiscovery.Discovered mapped = EndpointReports.withPortMapping(plain, Optional.of(mapping("192.0.3.201")));
        assertEquals(List.of(new Endpoint("192.0.3.201:51820", "portmap"), new Endpoint("10.1.0.11:51820", "local")),
                mapped.endpoints(), "a STUN endpoint equal to the mapping is the mapping");
        assertEquals(plain.nat(), mapped.nat());

        EndpointDiscovery.Discovered elsewhere = EndpointReports.withPortMapping(plain, Optional.of(mapping("198.51.100.9")));
        assertEquals(List.of("portmap", "local", "stun"), elsewhere.endpoints().stream().map(Endpoint::source).toList());
        assertTrue(elsewhere.publicIps().contains("198.51.100.9"));

        assertEquals(plain, EndpointReports.withPortMapping(plain, Optional.empty()));
        // A gateway behind another NAT maps to a private address: no peer can be sent there.
        assertEquals(plain, EndpointReports.withPortMapping(plain, Optional.of(mapping("100.64.0.7"))));

        List<String> locals = java.util.stream.IntStream.range(1, 21).mapToObj(i -> "10.1.0." + i).toList();
        EndpointDiscovery.Discovered full = EndpointReports.withPortMapping(
                EndpointReports.fromNetcheck(locals, 51820, result), Optional.of(mapping("198.51.100.9")));
        assertEquals(16, full.endpoints().size());
        assertEquals("portmap", full.endpoints().get(0).source());
    }

    private static PortMapping mapping(String external) throws Exception {
        return new PortMapping(PortMapProtocol.PCP, InetAddress.getByName("10.1.0.1"),
                new InetSocketAddress(external, 51820), 51820, Instant.parse("2026-11-25T05:00:00Z"));
    }

    private static NetcheckResult result(NatReport report) {
        return new NetcheckResult(report, List.of(new InetSocketAddress("10.1.0.11", 51820)),
                List.of(new ServerProbe(STUN, report.publicEndpoints().stream().findFirst(), Optional.empty(),
                        report.udpReachable() ? Optional.of(Duration.ofMillis(12)) : Optional.empty())),
                Duration.ofMillis(850));
    }
}
