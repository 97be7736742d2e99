package io.meshwork.protocol.api;

import java.util.List;

/**
 * One line of the peer-map stream ({@code GET /api/v1/peers/stream?since=REV}, NDJSON).
 *
 * @param type     "snapshot" (the whole map: {@code peers}, and the device's {@code policy}), "upsert" (added or
 *                 changed: {@code peers}), "remove" (gone or revoked: {@code removed} ids), "policy" (the device's
 *                 inbound security policy changed: {@code policy}), "relays" (the relays and STUN servers devices
 *                 use: {@code relays} and {@code stunServers}), "dns" (the organization's DNS domain and custom
 *                 records: {@code dns}), or "keepalive"
 * @param revision the organization revision after this event; resume with {@code since=revision}. A "relays", "dns" or
 *                 "keepalive" event carries the stream's current revision and does not advance it.
 * @param policy   the receiving device's whole inbound policy, on "snapshot" and "policy" events; null otherwise
 * @param overlayPrefixes on "snapshot": the organization's overlay prefixes (its IPv4 CIDR and its IPv6 ULA /64),
 *                 the prefix lengths the device configures its own addresses with; null otherwise
 * @param relays   on "relays": the whole list of relays devices may use now, as in {@link RegisterResponse#relays};
 *                 null otherwise
 * @param stunServers on "relays": the whole list of STUN servers ("host:port"), as in
 *                 {@link RegisterResponse#stunServers}; null otherwise
 * @param dns      on "dns": the organization's DNS domain and custom records, whole; null otherwise
 */
public record PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed,
        SecurityPolicy policy, List<String> overlayPrefixes, List<RelayInfo> relays, List<String> stunServers,
        DnsConfig dns) {

    public static final String SNAPSHOT = "snapshot";
    public static final String UPSERT = "upsert";
    public static final String REMOVE = "remove";
    public static final String POLICY = "policy";
    public static final String RELAYS = "relays";
    public static final String KEEPALIVE = "keepalive";
    public static final String DNS = "dns";

    /** An event that carries no DNS settings. */
    public PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed,
            SecurityPolicy policy, List<String> overlayPrefixes, List<RelayInfo> relays, List<String> stunServers) {
        this(type, revision, peers, removed, policy, overlayPrefixes, relays, stunServers, null);
    }

    /** An event that carries no relay list. */
    public PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed,
            SecurityPolicy policy, List<String> overlayPrefixes) {
        this(type, revision, peers, removed, policy, overlayPrefixes, null, null);
    }

    /** An event that carries no overlay prefixes. */
    public PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed,
            SecurityPolicy policy) {
        this(type, revision, peers, removed, policy, null);
    }

    /** An event that carries no policy. */
    public PeerMapEvent(String type, long revision, List<PeerInfo> peers, List<String> removed) {
        this(type, revision, peers, removed, null, null);
    }

    /** A "relays" event at the stream's {@code revision}. */
    public static PeerMapEvent relays(long revision, List<RelayInfo> relays, List<String> stunServers) {
        return new PeerMapEvent(RELAYS, revision, List.of(), List.of(), null, null, relays, stunServers);
    }

    /** A "dns" event at the stream's {@code revision}. */
    public static PeerMapEvent dns(long revision, DnsConfig dns) {
        return new PeerMapEvent(DNS, revision, List.of(), List.of(), null, null, null, null, dns);
    }
}
