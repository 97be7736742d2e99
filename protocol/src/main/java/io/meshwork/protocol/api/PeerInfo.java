package io.meshwork.protocol.api;

import java.util.List;
import java.util.Map;

/** One device as its peers see it in the peer map. */
public record PeerInfo(String id, String hostname, String publicKey, List<String> overlayIps,
        List<Endpoint> endpoints, Map<String, Object> nat, long lastSeenMillis) {}
