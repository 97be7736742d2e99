package io.meshwork.protocol.nat;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the NAT in front of a socket does, in RFC 4787 / RFC 5780 terms and by its RFC 3489 name.
 *
 * @param udpReachable at least one STUN server answered
 * @param publicEndpoints distinct mapped addresses the servers reported, first seen first
 * @param portPreserving the public port equals the local port; empty when no server answered
 * @param hairpin a packet to our own public endpoint came back; empty when not measured
 * @param noNat a server saw us at one of our own local addresses
 */
public record NatReport(
        boolean udpReachable,
        List<InetSocketAddress> publicEndpoints,
        MappingBehavior mapping,
        FilteringBehavior filtering,
        Optional<Boolean> portPreserving,
        Optional<Boolean> hairpin,
        boolean noNat,
        ClassicNatType classic) {

    public NatReport {
        publicEndpoints = List.copyOf(publicEndpoints);
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(filtering, "filtering");
        Objects.requireNonNull(portPreserving, "portPreserving");
        Objects.requireNonNull(hairpin, "hairpin");
        Objects.requireNonNull(classic, "classic");
    }
}
