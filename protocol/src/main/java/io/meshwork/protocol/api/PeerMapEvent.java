package io.meshwork.protocol.api;

import java.util.List;

/**
 * One line of the peer-map stream ({@code GET /api/v1/peers/stream?since=REV}, NDJSON).
 *
 * @param type     "snapshot" (the whole map: {@code peers}, and the device's {@code policy}), "upsert" (added or
 *                 changed: {@code peers}), "remove" (gone or revoked: {@code removed} ids), "policy" (the device's
 *                 inbound security policy changed: {@code policy}), or "keepalive"
 * @param revision the organization revision after this event; resume with {@code since=revision}
 * @param policy   the receiving device's whole inbound policy, on "snapshot" and "policy" events; null otherwise
 * @param overlayPrefixes on "snapshot": the organization's overlay prefixes (its IPv4 CIDR and its IPv6 ULA /64),
 *                 the prefix lengths the device configures its own addresses with; null otherwise
 */
public record PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed,
        SecurityPolicy policy, List<String> overlayPrefixes) {

    public static final String SNAPSHOT = "snapshot";
    public static final String UPSERT = "upsert";
    public static final String REMOVE = "remove";
    public static final String POLICY = "policy";
    public static final String KEEPALIVE = "keepalive";

    /** An event that carries no overlay prefixes. */
    public PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed,
            SecurityPolicy policy) {
        this(type, revision, peers, removed, policy, null);
    }

    /** An event that carries no policy. */
    public PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed) {
        this(type, revision, peers, removed, null, null);
    }
}
