package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.node.tunnel.TunnelPeer;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.path.NatPolicy;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PeerFactsTest {

    private static final Map<String, Object> EASY = Map.of("udp", true, "mapping", "ENDPOINT_INDEPENDENT");

    @Test
    void aGlobalIpv6InterfaceAddressIsAPublicCandidateNotALanOne() {
        TunnelPeer facts = PeerFacts.fromPeer(peer(List.of(
                new Endpoint("10.1.0.11:41641", "local"),
                new Endpoint("[fd00::11]:41641", "local"),
                new Endpoint("[2001:db8:2::10]:41641", "local"),
                new Endpoint("198.51.100.7:5000", "stun"),
                new Endpoint("[2001:db8:2::10]:41641", "stun")), EASY));

        assertEquals(List.of(at("10.1.0.11", 41641), at("fd00::11", 41641)), facts.lan(),
                "a unique-local address stays a LAN one");
        assertEquals(List.of(at("2001:db8:2::10", 41641), at("198.51.100.7", 5000)), facts.reflexive(),
                "the global IPv6 address once, though reported as local and by STUN");
    }

    @Test
    void aPeerWithOnlyAGlobalIpv6InterfaceAddressStillTellsItsWireGuardPort() {
        TunnelPeer facts = PeerFacts.fromPeer(peer(List.of(new Endpoint("[2001:db8:2::10]:41641", "local")), EASY));

        assertEquals(List.of(), facts.lan());
        assertEquals(41641, facts.localPort());
    }

    @Test
    void localEndpointsAreLanAndEveryOtherSourceIsReflexive() {
        TunnelPeer facts = PeerFacts.fromPeer(peer(List.of(
                new Endpoint("198.51.100.7:5000", "stun"),
                new Endpoint("10.1.0.11:41641", "local"),
                new Endpoint("198.51.100.7:6000", "relay"),
                new Endpoint("198.51.100.7:33333", "control"),
                new Endpoint("192.168.1.4:41641", "local")), EASY));

        assertEquals(List.of(at("10.1.0.11", 41641), at("192.168.1.4", 41641)), facts.lan());
        assertEquals(List.of(at("198.51.100.7", 5000), at("198.51.100.7", 6000), at("198.51.100.7", 33333)),
                facts.reflexive());
        assertEquals(41641, facts.localPort(), "the first LAN endpoint's port is the peer's WireGuard port");
        assertEquals(new NatPolicy.Side(true, MappingBehavior.ENDPOINT_INDEPENDENT), facts.nat());
    }

    @Test
    void aPublicEndpointSeenByTwoSourcesIsOneCandidate() {
        TunnelPeer facts = PeerFacts.fromPeer(peer(List.of(
                new Endpoint("198.51.100.7:5000", "stun"),
                new Endpoint("198.51.100.7:5000", "control")), EASY));

        assertEquals(List.of(at("198.51.100.7", 5000)), facts.reflexive());
        assertEquals(List.of(), facts.lan());
        assertEquals(0, facts.localPort(), "no LAN endpoint: the port is unknown");
    }

    @Test
    void ipv6EndpointsInBracketsAreParsed() {
        TunnelPeer facts = PeerFacts.fromPeer(peer(List.of(
                new Endpoint("[fd00::11]:41641", "local"),
                new Endpoint("[2001:db8::7]:5000", "stun")), EASY));

        assertEquals(List.of(at("fd00::11", 41641)), facts.lan());
        assertEquals(List.of(at("2001:db8::7", 5000)), facts.reflexive());
    }

    @Test
    void malformedEndpointsAreLeftOutAndTheOthersKept() {
        List<Endpoint> endpoints = new ArrayList<>(Arrays.asList(
                new Endpoint("2001:db8::7:5000", "stun"),
                new Endpoint("198.51.100.7", "stun"),
                new Endpoint("198.51.100.7:0", "stun"),
                new Endpoint("198.51.100.7:70000", "stun"),
                new Endpoint("198.51.100.7:port", "stun"),
                new Endpoint("relay.example.com:3340", "relay"),
                new Endpoint("999.1.1.1:5000", "stun"),
                new Endpoint("", "local"),
                new Endpoint(null, "local"),
                new Endpoint("10.1.0.12:41641", null),
                null,
                new Endpoint("198.51.100.8:5000", "stun"),
                new Endpoint("10.1.0.11:41641", "local")));

        TunnelPeer facts = PeerFacts.fromPeer(peer(endpoints, EASY));

        assertEquals(List.of(at("10.1.0.11", 41641)), facts.lan());
        assertEquals(List.of(at("198.51.100.8", 5000)), facts.reflexive());
    }

    @Test
    void aPeerWithoutEndpointsOrNatReportIsUnknown() {
        TunnelPeer facts = PeerFacts.fromPeer(new PeerInfo("o-d1", "laptop", "key", List.of("100.64.0.1"), null,
                null, 0));

        assertEquals(TunnelPeer.unknown(), facts);
    }

    static Stream<Arguments> natReports() {
        Map<String, Object> nullMapping = new HashMap<>();
        nullMapping.put("udp", true);
        nullMapping.put("mapping", null);
        return Stream.of(
                Arguments.of("no report", null, true, MappingBehavior.UNKNOWN),
                Arguments.of("empty report", Map.of(), true, MappingBehavior.UNKNOWN),
                Arguments.of("symmetric", Map.of("udp", true, "mapping", "ADDRESS_AND_PORT_DEPENDENT"), true,
                        MappingBehavior.ADDRESS_AND_PORT_DEPENDENT),
                Arguments.of("address-dependent", Map.of("udp", true, "mapping", "ADDRESS_DEPENDENT"), true,
                        MappingBehavior.ADDRESS_DEPENDENT),
                Arguments.of("UDP blocked", Map.of("udp", false, "mapping", "UNKNOWN"), false,
                        MappingBehavior.UNKNOWN),
                Arguments.of("udp missing counts as reachable", Map.of("mapping", "ENDPOINT_DEPENDENT"), true,
                        MappingBehavior.ENDPOINT_DEPENDENT),
                Arguments.of("udp as text is not false", Map.of("udp", "false", "mapping", "ENDPOINT_INDEPENDENT"),
                        true, MappingBehavior.ENDPOINT_INDEPENDENT),
                Arguments.of("mapping missing", Map.of("udp", true), true, MappingBehavior.UNKNOWN),
                Arguments.of("mapping null", nullMapping, true, MappingBehavior.UNKNOWN),
                Arguments.of("mapping in lower case", Map.of("mapping", "endpoint_independent"), true,
                        MappingBehavior.UNKNOWN),
                Arguments.of("mapping as classic name", Map.of("mapping", "symmetric"), true, MappingBehavior.UNKNOWN),
                Arguments.of("mapping not text", Map.of("mapping", 3), true, MappingBehavior.UNKNOWN),
                Arguments.of("classic only", Map.of("classic", "symmetric"), true, MappingBehavior.UNKNOWN));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("natReports")
    void natReportFieldsBecomeThePolicySide(String name, Map<String, Object> nat, boolean udp,
            MappingBehavior mapping) {
        assertEquals(new NatPolicy.Side(udp, mapping), PeerFacts.natSide(nat));
        assertEquals(new NatPolicy.Side(udp, mapping), PeerFacts.fromPeer(peer(List.of(), nat)).nat());
    }

    @Test
    void selfBeforeTheFirstDiscoveryIsTheHostsAddressesAtTheListenPort() {
        TunnelPeer self = PeerFacts.forSelf(List.of(), Map.of(), 51820, List.of("10.1.0.11", "192.168.1.4"));

        assertEquals(List.of(at("10.1.0.11", 51820), at("192.168.1.4", 51820)), self.lan());
        assertEquals(List.of(), self.reflexive());
        assertEquals(51820, self.localPort());
        assertEquals(NatPolicy.Side.unknown(), self.nat());
    }

    @Test
    void selfAfterADiscoveryIsWhatItReported() {
        TunnelPeer self = PeerFacts.forSelf(List.of(new Endpoint("10.1.0.11:51820", "local"),
                        new Endpoint("203.0.113.201:40001", "stun")),
                Map.of("udp", true, "mapping", "ADDRESS_AND_PORT_DEPENDENT"), 51820, List.of("10.9.9.9"));

        assertEquals(List.of(at("10.1.0.11", 51820)), self.lan(), "the report, not the host's addresses now");
        assertEquals(List.of(at("203.0.113.201", 40001)), self.reflexive());
        assertEquals(new NatPolicy.Side(true, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT), self.nat());
    }

    @Test
    void aPeerReadFromAStreamLineGivesTheSameFacts() throws Exception {
        // The peer-map stream's JSON, read as the control client reads it: numbers and booleans in the NAT report
        // come back as Jackson's own types, unknown fields are ignored.
        String line = "{\"type\":\"upsert\",\"revision\":8,\"peers\":[{\"id\":\"o-d2\",\"hostname\":\"server\","
                + "\"publicKey\":\"key\",\"overlayIps\":[\"100.64.0.2\"],\"endpoints\":["
                + "{\"address\":\"10.2.0.5:51820\",\"source\":\"local\"},"
                + "{\"address\":\"[2001:db8::2]:40000\",\"source\":\"stun\"},"
                + "{\"address\":\"198.51.100.9:51820\",\"source\":\"control\"}],"
                + "\"nat\":{\"udp\":true,\"mapping\":\"ENDPOINT_INDEPENDENT\",\"filtering\":\"ADDRESS_DEPENDENT\","
                + "\"portPreserving\":null,\"elapsedMillis\":120},\"lastSeenMillis\":5,\"future\":1}],"
                + "\"removed\":[],\"policy\":null}";
        ObjectMapper json = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

        PeerMapEvent event = json.readValue(line, PeerMapEvent.class);
        TunnelPeer facts = PeerFacts.fromPeer(event.peers().get(0));

        assertEquals(List.of(at("10.2.0.5", 51820)), facts.lan());
        assertEquals(List.of(at("2001:db8::2", 40000), at("198.51.100.9", 51820)), facts.reflexive());
        assertEquals(new NatPolicy.Side(true, MappingBehavior.ENDPOINT_INDEPENDENT), facts.nat());
    }

    private static PeerInfo peer(List<Endpoint> endpoints, Map<String, Object> nat) {
        return new PeerInfo("o-d1", "laptop", "key", List.of("100.64.0.1"), endpoints, nat, 0);
    }

    private static InetSocketAddress at(String ip, int port) {
        return new InetSocketAddress(io.meshwork.protocol.net.IpLiteral.parse(ip), port);
    }
}
