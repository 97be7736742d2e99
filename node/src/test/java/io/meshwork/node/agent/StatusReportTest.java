package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.meshwork.node.local.NodeStatus;
import io.meshwork.node.portmap.PortMapping;
import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.portmap.PortMapProtocol;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusReportTest {

    private static final NodeIdentity SELF = new NodeIdentity("http://control.invalid", "self-host",
            Key.generatePrivate().toBase64(), new RegisterResponse("d-self", "o1", "token",
                    List.of("100.64.0.1", "fd00::1"), null, null, List.of(), List.of(), null, "active"));
    private static final StatusReport.Relay RELAY = new StatusReport.Relay("relay-eu", "tcp");

    private final StatusReport report = new StatusReport();
    private final Map<Key, StatusReport.DevicePeer> device = new HashMap<>();

    private static PeerInfo peer(String id, String hostname, Key key) {
        return new PeerInfo(id, hostname, key.toBase64(), List.of("100.64.0." + id.length()), List.of(), Map.of(), 0);
    }

    private static Key key() {
        return Key.generatePrivate().publicKey();
    }

    private static TunnelStatus tunnel(TunnelStatus.State state, Duration latency, String reason) {
        return new TunnelStatus(state, null, latency, reason, 0, 0, 0);
    }

    private NodeStatus build(List<PeerInfo> peers, StatusReport.Relay relay) {
        return report.build(SELF, null, peers, device::get, relay, null);
    }

    @Test
    void selfCarriesTheRegistrationAndWhatDiscoveryAndControlLastSaid() {
        assertEquals(new NodeStatus.Self("d-self", "self-host", List.of("100.64.0.1", "fd00::1"), Map.of(), null,
                null), build(List.of(), null).self());

        report.natReport(Map.of("udp", true, "mapping", "endpoint-independent"));
        report.controlState("connected");
        NodeStatus.Self self = report.build(SELF, "IPv4 only", List.of(), device::get, null, null).self();
        assertEquals(Map.of("udp", true, "mapping", "endpoint-independent"), self.nat());
        assertEquals("connected", self.control());
        assertEquals("IPv4 only", self.overlay());
    }

    @Test
    void selfCarriesThePortMapping() throws Exception {
        PortMapping mapping = new PortMapping(PortMapProtocol.NAT_PMP, java.net.InetAddress.getByName("10.1.0.1"),
                new InetSocketAddress("192.0.3.201", 51820), 51820, Instant.parse("2026-11-25T05:00:00Z"));
        NodeStatus.Self self = report.build(SELF, null, List.of(), device::get, null, mapping).self();
        assertEquals(new NodeStatus.PortMapping("nat-pmp", "192.0.3.201:51820", "10.1.0.1", "2026-11-25T05:00:00Z"),
                self.portMapping());
        assertNull(build(List.of(), null).self().portMapping());
    }

    @Test
    void peersAreSortedByHostname() {
        List<PeerInfo> peers = List.of(peer("d3", "charlie", key()), peer("d1", "alpha", key()),
                peer("d2", "bravo", key()));
        assertEquals(List.of("alpha", "bravo", "charlie"),
                build(peers, null).peers().stream().map(NodeStatus.Peer::hostname).toList());
    }

    @Test
    void aPeerWithoutASessionSaysSoBeforeItsTunnelsReason() {
        Key known = key();
        Key unknown = key();
        device.put(known, new StatusReport.DevicePeer(false, true, 0, null, 0, 148));
        report.tunnelChanged(known, tunnel(TunnelStatus.State.PROBING, null, "relayed: probing 2 endpoints"));

        List<NodeStatus.Peer> rows = build(List.of(peer("d1", "a", known), peer("d2", "b", unknown)), RELAY).peers();

        NodeStatus.Peer waiting = rows.get(0);
        assertEquals("none", waiting.path());
        assertEquals("no WireGuard session yet; relayed: probing 2 endpoints", waiting.reason());
        assertNull(waiting.lastHandshake());
        assertEquals(148, waiting.txBytes());
        NodeStatus.Peer starting = rows.get(1);
        assertEquals("none", starting.path());
        assertEquals("no WireGuard session yet; starting", starting.reason(), "no tunnel status yet");
        assertEquals(0, starting.rxBytes());
    }

    @Test
    void aRelayedPeerNamesTheRelayAndItsTransport() {
        Key key = key();
        long handshake = Instant.parse("2024-05-01T10:00:00Z").toEpochMilli();
        device.put(key, new StatusReport.DevicePeer(true, true, handshake, new InetSocketAddress("192.0.2.7", 51820),
                1000, 2000));
        report.tunnelChanged(key, tunnel(TunnelStatus.State.RELAYED, Duration.ofMillis(42), "relayed: no answer"));

        NodeStatus.Peer row = build(List.of(peer("d1", "a", key)), RELAY).peers().get(0);

        assertEquals(new NodeStatus.Peer("d1", "a", List.of("100.64.0.2"), "relay", null, "relay-eu", "tcp", 42.0,
                "2024-05-01T10:00:00Z", 1000, 2000, "relayed: no answer"), row);
    }

    @Test
    void eachRelayedPeerNamesTheRelayItsTrafficGoesThroughAndSelfTheHomeRelay() {
        Key nearby = key();
        Key abroad = key();
        for (Key key : List.of(nearby, abroad)) {
            device.put(key, new StatusReport.DevicePeer(true, true, 1, null, 0, 0));
        }
        NodeStatus.HomeRelay home = new NodeStatus.HomeRelay("relay-eu", 11.5, "udp", Map.of("relay-eu", 11.5));
        NodeStatus status = report.build(SELF, null, List.of(peer("d1", "a", nearby), peer("d2", "b", abroad)),
                device::get, key -> key.equals(abroad) ? new StatusReport.Relay("relay-us", "udp") : RELAY, home,
                null);
        assertEquals("relay-eu", status.peers().get(0).relay());
        assertEquals("tcp", status.peers().get(0).transport());
        assertEquals("relay-us", status.peers().get(1).relay(), "the peer's home relay");
        assertEquals(home, status.self().homeRelay());
        assertNull(build(List.of(), RELAY).self().homeRelay());
    }

    @Test
    void aDirectPeerShowsItsEndpointAndUdpWhateverTheRelayUses() {
        Key key = key();
        device.put(key, new StatusReport.DevicePeer(true, false, 1, new InetSocketAddress("2001:db8::7", 41641),
                5, 6));
        report.tunnelChanged(key, tunnel(TunnelStatus.State.DIRECT, Duration.ofMillis(3), "direct: it answered"));

        NodeStatus.Peer row = build(List.of(peer("d1", "a", key)), RELAY).peers().get(0);

        assertEquals("direct", row.path());
        assertEquals("[2001:db8::7]:41641", row.endpoint());
        assertNull(row.relay());
        assertEquals("udp", row.transport());
        assertEquals("direct: it answered", row.reason());
    }

    @Test
    void aStoppedTunnelIsForgotten() {
        Key key = key();
        device.put(key, new StatusReport.DevicePeer(true, true, 1, null, 0, 0));
        report.tunnelChanged(key, tunnel(TunnelStatus.State.RELAYED, Duration.ofMillis(9), "relayed"));
        report.tunnelChanged(key, null);

        NodeStatus.Peer row = build(List.of(peer("d1", "a", key)), null).peers().get(0);

        assertEquals("starting", row.reason());
        assertNull(row.latencyMs());
        assertNull(row.relay(), "no relay, no relay name");
        assertEquals("udp", row.transport());
    }
}
