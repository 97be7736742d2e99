package io.meshwork.node.agent;

import io.meshwork.protocol.net.IpLiteral;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.protocol.api.Endpoint;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EndpointChoiceTest {

    private static final Endpoint LOCAL = new Endpoint("10.1.0.11:41641", "local");
    private static final Endpoint STUN_HOME = new Endpoint("203.0.113.201:41641", "stun");
    private static final Endpoint STUN_AWAY = new Endpoint("198.51.100.7:5000", "stun");
    private static final Endpoint RELAY_SEEN = new Endpoint("198.51.100.7:6000", "relay");
    private static final Endpoint CONTROL_SEEN = new Endpoint("198.51.100.7:33333", "control");
    private static final Endpoint STUN_V6 = new Endpoint("[2001:db8::7]:5000", "stun");
    private static final Endpoint NO_SOURCE = new Endpoint("198.51.100.9:7000", null);
    private static final Endpoint UNKNOWN_SOURCE = new Endpoint("198.51.100.9:8000", "carrier-pigeon");
    private static final Endpoint STUN_NO_ADDRESS = new Endpoint(null, "stun");
    private static final Endpoint LOCAL_NO_ADDRESS = new Endpoint(null, "local");
    private static final Endpoint NO_SOURCE_NO_ADDRESS = new Endpoint(null, null);
    private static final Endpoint STUN_NOT_AN_ADDRESS = new Endpoint("stun.example.com:3478", "stun");
    private static final Endpoint PORTMAP_AWAY = new Endpoint("192.0.3.201:51820", "portmap");
    private static final Endpoint PORTMAP_HOME = new Endpoint("203.0.113.201:51820", "portmap");
    /** Our own public IP, but reported with no source: not evidence of sharing a NAT. */
    private static final Endpoint NO_SOURCE_HOME = new Endpoint("203.0.113.201:41641", null);

    /** Lists.of refuses nulls; control's lists may hold them. */
    private static List<Endpoint> withNulls(Endpoint... endpoints) {
        return Arrays.asList(endpoints);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("same public IP: the LAN address", List.of(STUN_HOME, LOCAL), Set.of("203.0.113.201"),
                        "10.1.0.11:41641"),
                Arguments.of("elsewhere: STUN-reflexive", List.of(LOCAL, STUN_AWAY), Set.of("203.0.113.201"),
                        "198.51.100.7:5000"),
                Arguments.of("a port mapping before STUN", List.of(LOCAL, STUN_AWAY, PORTMAP_AWAY),
                        Set.of("203.0.113.201"), "192.0.3.201:51820"),
                Arguments.of("a port mapping on our public IP: the LAN address", List.of(PORTMAP_HOME, LOCAL),
                        Set.of("203.0.113.201"), "10.1.0.11:41641"),
                Arguments.of("no STUN answer: what a relay saw", List.of(LOCAL, RELAY_SEEN), Set.of("203.0.113.201"),
                        "198.51.100.7:6000"),
                Arguments.of("only a local address", List.of(LOCAL), Set.of(), "10.1.0.11:41641"),
                Arguments.of("control's view is TCP, never a WireGuard endpoint", List.of(CONTROL_SEEN), Set.of(), null),
                Arguments.of("our own probe has not answered: no LAN shortcut", List.of(STUN_HOME, LOCAL), Set.of(),
                        "203.0.113.201:41641"),
                Arguments.of("same NAT but no local address known", List.of(STUN_HOME), Set.of("203.0.113.201"),
                        "203.0.113.201:41641"),
                Arguments.of("IPv6 STUN endpoint", List.of(STUN_V6), Set.of("2001:db8::1"), "[2001:db8::7]:5000"),
                Arguments.of("nothing reported", List.of(), Set.of("203.0.113.201"), null),
                Arguments.of("no list at all", null, Set.of("203.0.113.201"), null),
                Arguments.of("own public IPs not known yet", List.of(STUN_AWAY), null, "198.51.100.7:5000"),
                // Missing and unknown sources: the least preferred kind, chosen only when nothing else is there.
                Arguments.of("only a missing source: last resort", withNulls(NO_SOURCE), Set.of(), "198.51.100.9:7000"),
                Arguments.of("only an unknown source: last resort", List.of(UNKNOWN_SOURCE), Set.of(),
                        "198.51.100.9:8000"),
                Arguments.of("missing source after STUN", withNulls(NO_SOURCE, STUN_AWAY), Set.of(),
                        "198.51.100.7:5000"),
                Arguments.of("unknown source after a relay's view", List.of(UNKNOWN_SOURCE, RELAY_SEEN), Set.of(),
                        "198.51.100.7:6000"),
                Arguments.of("unknown and missing sources after a local address",
                        withNulls(UNKNOWN_SOURCE, NO_SOURCE, LOCAL), Set.of(), "10.1.0.11:41641"),
                Arguments.of("missing before unknown: list order among equals", withNulls(NO_SOURCE, UNKNOWN_SOURCE),
                        Set.of(), "198.51.100.9:7000"),
                Arguments.of("a missing source is no evidence of a shared NAT", withNulls(NO_SOURCE_HOME, LOCAL),
                        Set.of("203.0.113.201"), "10.1.0.11:41641"),
                Arguments.of("control's view still never, even beside unknown kinds",
                        withNulls(CONTROL_SEEN, NO_SOURCE_NO_ADDRESS), Set.of(), null),
                // Missing addresses, entries and unparseable addresses are passed over.
                Arguments.of("STUN without an address: the next kind", withNulls(STUN_NO_ADDRESS, RELAY_SEEN),
                        Set.of("203.0.113.201"), "198.51.100.7:6000"),
                Arguments.of("same NAT but the local address is missing", withNulls(STUN_HOME, LOCAL_NO_ADDRESS),
                        Set.of("203.0.113.201"), "203.0.113.201:41641"),
                Arguments.of("a null entry among the endpoints", withNulls(null, STUN_AWAY, null), Set.of(),
                        "198.51.100.7:5000"),
                Arguments.of("a name is not an address", withNulls(STUN_NOT_AN_ADDRESS, UNKNOWN_SOURCE), Set.of(),
                        "198.51.100.9:8000"),
                Arguments.of("nothing usable at all", withNulls(null, NO_SOURCE_NO_ADDRESS, STUN_NO_ADDRESS,
                        STUN_NOT_AN_ADDRESS, CONTROL_SEEN), Set.of("203.0.113.201"), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void picksTheEndpointToSendTo(String why, List<Endpoint> endpoints, Set<String> ownPublicIps, String expected) {
        Optional<EndpointChoice.Choice> choice = EndpointChoice.choose(endpoints, ownPublicIps);
        assertEquals(Optional.ofNullable(expected), choice.map(c -> IpLiteral.format(c.address())), why);
        choice.ifPresent(c -> assertEquals(false, c.reason().isBlank()));
    }
}
