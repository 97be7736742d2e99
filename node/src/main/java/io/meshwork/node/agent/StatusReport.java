package io.meshwork.node.agent;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.node.dataplane.Peer;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.node.portmap.PortMapping;
import io.meshwork.node.tunnel.TunnelStatus;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code meshwork status} shows (docs/architecture.md, "Node" and "Paths: one tunnel actor per peer"): keeps
 * what the tunnels, the endpoint discovery and the control session last reported, and assembles {@link NodeStatus}
 * from that, the peer map, the WireGuard device's peers and the relay. Updated from the actors' threads, read from
 * the local API's.
 */
final class StatusReport {

    private static final Logger log = LoggerFactory.getLogger(StatusReport.class);

    /** What the WireGuard device knows of one peer. */
    record DevicePeer(boolean session, boolean relayed, long lastHandshakeEpochMillis, InetSocketAddress endpoint,
            long rxBytes, long txBytes) {

        /** The device's peer as status reads it; null when the device has no such peer. */
        static DevicePeer of(Peer peer) {
            return peer == null ? null : new DevicePeer(peer.hasSession(), peer.viaRelay(),
                    peer.lastHandshakeEpochMillis(), peer.endpoint(), peer.rxBytes(), peer.txBytes());
        }
    }

    /** The relay as status names it: its name and how this node reaches it ("udp" or "tcp"). */
    record Relay(String name, String transport) {}

    private final Map<Key, TunnelStatus> tunnels = new ConcurrentHashMap<>();
    private volatile Map<String, Object> nat = Map.of();
    private volatile String controlState;

    /** A tunnel's latest status, or null when the tunnel stopped; a change of path state is logged. */
    void tunnelChanged(Key peer, TunnelStatus status) {
        if (status == null) {
            tunnels.remove(peer);
        } else {
            TunnelStatus previous = tunnels.put(peer, status);
            if (previous == null || previous.state() != status.state()) {
                log.info("peer {}: {}", peer.toBase64().substring(0, 8), status.reason());
            }
        }
    }

    /** The latest netcheck report fields. */
    void natReport(Map<String, Object> report) {
        nat = report;
    }

    /** The control session's state in words. */
    void controlState(String state) {
        controlState = state;
    }

    /**
     * This node and one row per peer of the peer map, ordered by hostname.
     *
     * @param overlayNote what of the overlay this host could not configure, or null
     * @param device      what the WireGuard device knows of a peer ({@link DevicePeer#of}), null for none
     * @param relay       the relay, or null without one
     * @param portMapping the gateway's mapping of the WireGuard port, or null without one
     */
    NodeStatus build(NodeIdentity identity, String overlayNote, Collection<PeerInfo> peers,
            Function<Key, DevicePeer> device, Relay relay, PortMapping portMapping) {
        return build(identity, overlayNote, peers, device, key -> relay, null, portMapping);
    }

    /**
     * As the other {@code build}, with the relay each peer's relayed traffic goes through ({@code relayOf}: the
     * peer's home relay or this node's, null without any) and this node's home relay (null without one).
     */
    NodeStatus build(NodeIdentity identity, String overlayNote, Collection<PeerInfo> peers,
            Function<Key, DevicePeer> device, Function<Key, Relay> relayOf, NodeStatus.HomeRelay home,
            PortMapping portMapping) {
        var registration = identity.registration();
        List<NodeStatus.Peer> rows = new ArrayList<>();
        for (PeerInfo info : peers) {
            Key key = Key.fromBase64(info.publicKey());
            rows.add(withTried(row(info, device.apply(key), tunnels.get(key), relayOf.apply(key)), tunnels.get(key),
                    portMapping));
        }
        rows.sort(Comparator.comparing(NodeStatus.Peer::hostname));
        NodeStatus.PortMapping mapped = portMapping == null ? null : new NodeStatus.PortMapping(
                portMapping.protocol().id(), IpLiteral.format(portMapping.external()),
                portMapping.gateway().getHostAddress(), portMapping.expires().toString());
        return new NodeStatus(new NodeStatus.Self(registration.id(), identity.hostname(), registration.overlayIps(),
                nat, controlState, overlayNote, mapped, home), rows);
    }

    /**
     * The peer's row with what was tried for a direct path while it is not direct: the tunnel's attempts, and this
     * node's port mapping (held and advertised, or none granted).
     */
    private static NodeStatus.Peer withTried(NodeStatus.Peer row, TunnelStatus tunnel, PortMapping portMapping) {
        if (tunnel == null || tunnel.tried().isEmpty() || row.path().equals("direct")) {
            return row;
        }
        List<String> tried = new ArrayList<>(tunnel.tried());
        tried.add(portMapping == null
                ? "port mapping: the gateway granted none by PCP, NAT-PMP or UPnP IGD"
                : "port mapping: " + IpLiteral.format(portMapping.external()) + " by " + portMapping.protocol().id()
                        + ", advertised; the peer's probes to it went unanswered too");
        return new NodeStatus.Peer(row.id(), row.hostname(), row.overlayIps(), row.path(), row.endpoint(), row.relay(),
                row.transport(), row.latencyMs(), row.lastHandshake(), row.rxBytes(), row.txBytes(), row.reason(),
                row.tags(), tried);
    }

    private static NodeStatus.Peer row(PeerInfo info, DevicePeer peer, TunnelStatus tunnel, Relay relay) {
        boolean session = peer != null && peer.session();
        boolean relayed = peer != null && peer.relayed();
        long handshake = peer == null ? 0 : peer.lastHandshakeEpochMillis();
        String transport = relayed && relay != null ? relay.transport() : "udp";
        Double latency = tunnel == null || tunnel.latency() == null ? null : tunnel.latency().toNanos() / 1e6;
        String reason = tunnel == null ? "starting" : tunnel.reason();
        return new NodeStatus.Peer(info.id(), info.hostname(), info.overlayIps(),
                !session ? "none" : relayed ? "relay" : "direct",
                !relayed && peer != null && peer.endpoint() != null ? IpLiteral.format(peer.endpoint()) : null,
                relayed && relay != null ? relay.name() : null, transport, latency,
                handshake == 0 ? null : Instant.ofEpochMilli(handshake).toString(),
                peer == null ? 0 : peer.rxBytes(), peer == null ? 0 : peer.txBytes(),
                session ? reason : "no WireGuard session yet; " + reason, info.tags());
    }
}
