package io.meshwork.protocol.api;

import java.util.List;

/**
 * {@code POST /api/v1/devices/self/routes}: the subnet routes a node offers (prefixes on its LAN), whether it offers
 * itself as an exit node ({@code 0.0.0.0/0} and {@code ::/0}), and whether it can forward now. A router sends it at
 * start and then every few seconds while it offers anything: control counts a router whose last report is more than
 * 10 s old, or says {@code healthy: false}, as offline when it picks the primary router of a prefix. An empty
 * report withdraws what the node offered.
 *
 * @param routes   IPv4 or IPv6 prefixes, {@code 192.168.10.0/24}; never a default route (that is {@code exitNode})
 * @param exitNode whether the node offers itself as an exit node; null is false
 * @param healthy  whether the node's forwarding is in place; null is true
 */
public record RouteAdvertisement(List<String> routes, Boolean exitNode, Boolean healthy) {

    /** The two prefixes an exit node offers. */
    public static final List<String> EXIT_ROUTES = List.of("0.0.0.0/0", "::/0");
}
