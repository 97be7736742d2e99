package io.meshwork.protocol.api;

import java.util.List;
import java.util.Map;

/**
 * One device as its peers see it in the peer map. {@code tags}: the device's tags, which security groups name it
 * by (docs/api.md, "Security groups"); empty, never null (a map from a control that predates them reads as empty).
 */
public record PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps,
        List<Endpoint> endpoints, Map<String, Object> nat, long lastSeenMillis, List<String> tags) {

    public PeerInfo {
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    /** A peer without tags. */
    public PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps, List<Endpoint> endpoints,
            Map<String, Object> nat, long lastSeenMillis) {
        this(id, hostname, publicKey, overlayIps, endpoints, nat, lastSeenMillis, List.of());
    }
}
