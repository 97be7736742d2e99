package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.control.relay.RelayDirectory.RelayRecord;
import io.meshwork.protocol.api.RelayInfo;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RelaysForDevicesTest {

    private static RelayRecord relay(String name, String udp, List<String> stun, boolean healthy) {
        return beatAt(name, udp, stun, healthy, 0);
    }

    private static RelayRecord beatAt(String name, String udp, List<String> stun, boolean healthy,
            long lastHeartbeatMillis) {
        return new RelayRecord("id-" + name, name, udp, null, stun, 0, 0, healthy, 0, lastHeartbeatMillis, null, null);
    }

    @Test
    void aRelayThatMissedThreeHeartbeatsIsWithdrawnAndListedAgainAfterItsNextOne() {
        Duration heartbeat = Duration.ofSeconds(10);
        List<RelayInfo> configured = List.of(new RelayInfo("static", "198.51.100.9:3340", null));
        RelayRecord quiet = beatAt("quiet", "203.0.113.5:3340", List.of("203.0.113.5:3478"), true, 100_000);
        RelayRecord steady = beatAt("steady", "203.0.113.7:3340", List.of(), true, 125_000);

        // Exactly three heartbeats after its last report it still counts.
        RelaysForDevices atLimit = RelaysForDevices.of(configured, List.of(), List.of(quiet, steady), 130_000,
                heartbeat);
        assertEquals(List.of("static", "quiet", "steady"), atLimit.relays().stream().map(RelayInfo::name).toList());
        assertEquals(List.of("203.0.113.5:3478", "198.51.100.9:3340", "203.0.113.7:3340"), atLimit.stunServers());

        // A moment later it is withdrawn, with its STUN servers; configured relays never are.
        RelaysForDevices stale = RelaysForDevices.of(configured, List.of(), List.of(quiet, steady), 130_001,
                heartbeat);
        assertEquals(List.of("static", "steady"), stale.relays().stream().map(RelayInfo::name).toList());
        assertEquals(List.of("198.51.100.9:3340", "203.0.113.7:3340"), stale.stunServers());
        assertFalse(quiet.healthyAt(130_001, heartbeat));

        // Its next heartbeat lists it again.
        RelayRecord back = beatAt("quiet", "203.0.113.5:3340", List.of("203.0.113.5:3478"), true, 140_000);
        assertTrue(back.healthyAt(140_000, heartbeat));
        assertEquals(atLimit, RelaysForDevices.of(configured, List.of(), List.of(back, steady), 140_000, heartbeat));
    }

    @Test
    void aRelayReportingItselfUnhealthyIsNotHealthyHoweverRecentItsReport() {
        RelayRecord down = beatAt("down", "203.0.113.5:3340", List.of(), false, 1_000);
        assertFalse(down.healthyAt(1_000, Duration.ofSeconds(10)));
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
