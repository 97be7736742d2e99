package io.meshwork.control.http.views;

import io.meshwork.control.relay.RelayDirectory;
import java.time.Duration;
import java.util.List;

/**
 * An enrolled relay in {@code GET /api/v1/relays}, with its last health report; {@code healthy} is false too when
 * the relay missed {@value RelayDirectory#MISSED_HEARTBEATS} heartbeats. {@code organizationId} and
 * {@code deviceId} name the organization and device of a node's relay (which only that organization's devices are
 * handed); null for a relay enrolled with a token.
 */
public record RelayView(String id, String name, String udp, String tcp, List<String> stun, int udpClients,
        int tcpClients, boolean healthy, long enrolledMillis, long lastHeartbeatMillis, String tlsSha256,
        String region, String organizationId, String deviceId) {

    public static RelayView of(RelayDirectory.RelayRecord relay, long nowMillis, Duration heartbeat) {
        return new RelayView(relay.id(), relay.name(), relay.udp(), relay.tcp(), relay.stun(), relay.udpClients(),
                relay.tcpClients(), relay.healthyAt(nowMillis, heartbeat), relay.enrolledMillis(), relay.lastHeartbeatMillis(),
                relay.tlsSha256(), relay.region(), relay.organizationId(), relay.deviceId());
    }
}
