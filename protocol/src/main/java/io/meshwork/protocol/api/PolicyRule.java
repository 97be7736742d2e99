package io.meshwork.protocol.api;

import java.util.List;

/**
 * One inbound allow rule as a device enforces it: packets of {@code protocol} to a destination port in
 * {@code [fromPort, toPort]} from a source address inside one of {@code peers} are let in.
 *
 * @param protocol "tcp", "udp", "icmp" (ICMP and ICMPv6) or "any" (every IP protocol)
 * @param fromPort first destination port allowed (tcp and udp; 0 with {@code toPort} 65535 means every port)
 * @param toPort   last destination port allowed, inclusive
 * @param peers    source prefixes, "ip/len" (IPv4 or IPv6), already resolved from CIDRs and group references
 */
public record PolicyRule(String protocol, int fromPort, int toPort, List<String> peers) {

    public static final String TCP = "tcp";
    public static final String UDP = "udp";
    public static final String ICMP = "icmp";
    public static final String ANY = "any";
}
