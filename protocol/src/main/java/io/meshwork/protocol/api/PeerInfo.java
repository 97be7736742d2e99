package io.meshwork.protocol.api;

import java.util.List;
import java.util.Map;

/**
 * One device as its peers see it in the peer map. {@code tags}: the device's tags, which security groups name it
 * by (docs/api.md, "Security groups"); empty, never null (a map from a control that predates them reads as empty).
 * {@code routes}: the approved subnet routes (prefixes on the device's LAN) this device is the primary router for,
 * which peers that accept routes send to it; empty, never null. {@code exitNode}: whether the device is an approved
 * exit node (it offers {@code 0.0.0.0/0} and {@code ::/0}). Both absent in maps from a control that predates them.
 * {@code homeRelay}: the name of the relay the device reported as its home (docs/architecture.md, "Relay selection
 * and failover"), where its peers send it relayed traffic; null when it reported none (older nodes).
 */
public record PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps,
        List<Endpoint> endpoints, Map<String, Object> nat, long lastSeenMillis, List<String> tags,
        List<String> routes, boolean exitNode, String homeRelay) {

    public PeerInfo {
        tags = tags == null ? List.of() : List.copyOf(tags);
        routes = routes == null ? List.of() : List.copyOf(routes);
    }

    /** A peer that routes nothing. */
    public PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps, List<Endpoint> endpoints,
            Map<String, Object> nat, long lastSeenMillis, List<String> tags, String homeRelay) {
        this(id, hostname, publicKey, overlayIps, endpoints, nat, lastSeenMillis, tags, List.of(), false, homeRelay);
    }

    /** A peer without a home relay. */
    public PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps, List<Endpoint> endpoints,
            Map<String, Object> nat, long lastSeenMillis, List<String> tags, List<String> routes, boolean exitNode) {
        this(id, hostname, publicKey, overlayIps, endpoints, nat, lastSeenMillis, tags, routes, exitNode, null);
    }

    /** A peer that routes nothing, without a home relay. */
    public PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps, List<Endpoint> endpoints,
            Map<String, Object> nat, long lastSeenMillis, List<String> tags) {
        this(id, hostname, publicKey, overlayIps, endpoints, nat, lastSeenMillis, tags, List.of(), false, null);
    }

    /** A peer without tags. */
    public PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps, List<Endpoint> endpoints,
            Map<String, Object> nat, long lastSeenMillis) {
        this(id, hostname, publicKey, overlayIps, endpoints, nat, lastSeenMillis, List.of());
    }
}
