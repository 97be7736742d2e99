package io.meshwork.protocol.api;

import java.util.List;

/**
 * What a device gets when it registers: its identity in the organization and where to find the others.
 *
 * @param id              device id
 * @param organizationId  the organization it joined
 * @param token           bearer token for its later calls (peer-map stream, endpoint reports)
 * @param overlayIps      its overlay addresses (IPv4 from the organization's CIDR, then IPv6 ULA)
 * @param certificate     PEM X.509 certificate for its WireGuard key, signed by the control CA (relays check it)
 * @param caCertificate   PEM certificate of the control CA
 * @param relays          relays it may use
 * @param stunServers     STUN servers, "host:port"
 * @param observedAddress the source address control saw the request come from
 * @param status          "active", or "pending" when the key requires an administrator to approve the device first:
 *                        until then it gets no peers and no one gets it
 * @param overlayPrefixes the organization's overlay prefixes: its IPv4 CIDR (e.g. "10.77.0.0/16") and its IPv6 ULA
 *                        /64; the device configures its addresses with these prefix lengths. Null from a control
 *                        that predates the field (the node then waits for the peer-map snapshot's).
 * @param hostname        the hostname the device is registered under: the one it asked for, or, when another device
 *                        of the organization has that one, the first free of NAME-2, NAME-3, ... (null from a control
 *                        that predates unique hostnames)
 * @param tags            the tags its registration key stamped on it (a device never chooses its own); null from a
 *                        control that predates tags
 */
public record RegisterResponse(String id, String organizationId, String token, List<String> overlayIps,
        String certificate, String caCertificate, List<RelayInfo> relays, List<String> stunServers,
        String observedAddress, String status, List<String> overlayPrefixes, String hostname, List<String> tags) {

    /** A response without {@code hostname} and {@code tags}, as control sent before it had them. */
    public RegisterResponse(String id, String organizationId, String token, List<String> overlayIps,
            String certificate, String caCertificate, List<RelayInfo> relays, List<String> stunServers,
            String observedAddress, String status, List<String> overlayPrefixes) {
        this(id, organizationId, token, overlayIps, certificate, caCertificate, relays, stunServers, observedAddress,
                status, overlayPrefixes, null, null);
    }

    /** A response without {@code overlayPrefixes}, as control sent before it had them. */
    public RegisterResponse(String id, String organizationId, String token, List<String> overlayIps,
            String certificate, String caCertificate, List<RelayInfo> relays, List<String> stunServers,
            String observedAddress, String status) {
        this(id, organizationId, token, overlayIps, certificate, caCertificate, relays, stunServers, observedAddress,
                status, null);
    }
}
