package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.protocol.api.Endpoint;
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

    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("same public IP: the LAN address", List.of(STUN_HOME, LOCAL), Set.of("203.0.113.201"),
                        "10.1.0.11:41641"),
                Arguments.of("elsewhere: STUN-reflexive", List.of(LOCAL, STUN_AWAY), Set.of("203.0.113.201"),
                        "198.51.100.7:5000"),
                Arguments.of("no STUN answer: what a relay saw", List.of(LOCAL, RELAY_SEEN), Set.of("203.0.113.201"),
                        "198.51.100.7:6000"),
                Arguments.of("only a local address", List.of(LOCAL), Set.of(), "10.1.0.11:41641"),
                Arguments.of("control's view is TCP, never a WireGuard endpoint", List.of(CONTROL_SEEN), Set.of(), null),
                Arguments.of("our own probe has not answered: no LAN shortcut", List.of(STUN_HOME, LOCAL), Set.of(),
                        "203.0.113.201:41641"),
                Arguments.of("same NAT but no local address known", List.of(STUN_HOME), Set.of("203.0.113.201"),
                        "203.0.113.201:41641"),
                Arguments.of("IPv6 STUN endpoint", List.of(STUN_V6), Set.of("2001:db8::1"), "[2001:db8::7]:5000"),
                Arguments.of("nothing reported", List.of(), Set.of("203.0.113.201"), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void picksTheEndpointToSendTo(String why, List<Endpoint> endpoints, Set<String> ownPublicIps, String expected) {
        Optional<EndpointChoice.Choice> choice = EndpointChoice.choose(endpoints, ownPublicIps);
        assertEquals(Optional.ofNullable(expected), choice.map(EndpointChoice.Choice::address), why);
        choice.ifPresent(c -> assertEquals(false, c.reason().isBlank()));
    }
}
