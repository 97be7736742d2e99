package io.meshwork.control.http;

import java.util.Map;

/** Bodies of admin API requests. Unknown fields are rejected. */
final class Requests {

    private Requests() {}

    record CreateOrganization(String name, String ipv4Cidr) {}

    /** {@code tags}: stamped on every device the key registers. */
    record CreateKey(Boolean reusable, Long expiresInSeconds, Boolean approvalRequired, java.util.List<String> tags,
            AutoApprove autoApproveRoutes) {}

    /** Routes approved without an administrator: those inside {@code routes}, and an exit node when {@code exitNode}. */
    record AutoApprove(java.util.List<String> routes, Boolean exitNode) {}

    /**
     * {@code POST /api/v1/devices/{id}/routes}: prefixes the device advertises, to approve and to reject, and approved
     * ones it is to be the primary router of now ({@code primary}: a router that came back takes its prefixes back
     * only when asked).
     */
    record ReviewRoutes(java.util.List<String> approve, java.util.List<String> reject, java.util.List<String> primary) {}

    /** {@code PUT /api/v1/organizations/{id}/route-approvers}: by tag, the routes its devices have approved. */
    record RouteApprovers(Map<String, AutoApprove> tags) {}

    /** {@code tags}: the device's whole set of tags, replacing the one it has. */
    /** {@code relayAllowed}: whether the device may run a relay for its organization; null leaves it. */
    record PatchDevice(String hostname, Map<String, String> metadata, java.util.List<String> tags,
            Boolean relayAllowed) {}

    /**
     * A node's relay as the node advertises it ({@code POST /api/v1/devices/self/relay}): its name and region
     * (optional), where it listens ("host:port"), and its STUN servers (optional).
     */
    record NodeRelayAdvertisement(String name, String region, String udp, String tcp, java.util.List<String> stun) {}

    record CreateRelayToken(String name, String region) {}

    /** {@code tlsSha256}: hex SHA-256 of the DER of the TCP listener's TLS leaf certificate; absent for plain TCP. */
    record RelayAdvertisement(String udp, String tcp, java.util.List<String> stun, String tlsSha256) {}

    record RelayHealth(int udpClients, int tcpClients, boolean healthy) {}

    record Observation(String deviceId, String publicKey, String transport, String address) {}

    record RelayObservations(java.util.List<Observation> observations) {}
}
