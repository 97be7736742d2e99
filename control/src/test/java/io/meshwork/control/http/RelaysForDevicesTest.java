package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshwork.control.relay.RelayDirectory.RelayRecord;
import io.meshwork.protocol.api.RelayInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

class RelaysForDevicesTest {

    private static RelayRecord relay(String name, String udp, List<String> stun, boolean healthy) {
        return new RelayRecord("id-" + name, name, udp, null, stun, 0, 0, healthy, 0, 0, null, null);
    }

    @Test
    void aRelaysStunServersReachDevicesWithoutAnyConfiguredServer() {
        RelaysForDevices answer = RelaysForDevices.of(List.of(), List.of(),
                List.of(relay("r1", "203.0.113.5:3340", List.of("203.0.113.5:3478", "203.0.113.6:3478"), true)));
        assertEquals(List.of("203.0.113.5:3478", "203.0.113.6:3478"), answer.stunServers());
        assertEquals(List.of("r1"), answer.relays().stream().map(RelayInfo::name).toList());
    }

    @Test
    void configuredServersComeFirstThenRfc5780RelaysThenRelayPorts() {
        RelaysForDevices answer = RelaysForDevices.of(
                List.of(new RelayInfo("static", "198.51.100.9:3340", null)),
                List.of("stun.example.net:3478"),
                List.of(relay("a-plain", "203.0.113.7:3340", List.of(), true),
                        relay("b-stun", "203.0.113.5:3340", List.of("203.0.113.5:3478"), true),
                        relay("c-again", "203.0.113.8:3340", List.of("stun.example.net:3478"), true)));
        assertEquals(List.of("stun.example.net:3478", "203.0.113.5:3478", "198.51.100.9:3340", "203.0.113.7:3340"),
                answer.stunServers());
        assertEquals(List.of("static", "a-plain", "b-stun", "c-again"),
                answer.relays().stream().map(RelayInfo::name).toList());
    }

    @Test
    void unhealthyRelaysHandOutNeitherThemselvesNorTheirStunServers() {
        RelaysForDevices answer = RelaysForDevices.of(List.of(), List.of(),
                List.of(relay("down", "203.0.113.5:3340", List.of("203.0.113.5:3478"), false)));
        assertEquals(List.of(), answer.stunServers());
        assertEquals(List.of(), answer.relays());
    }
}
