package io.meshwork.node.agent;

import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.api.Endpoint;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Which of a peer's advertised endpoints to send WireGuard to, and why (pure). A peer behind the same public IP as
 * us is on our LAN (or behind our NAT): its local address, since NATs rarely hairpin. Otherwise the port mapping its
 * gateway made for it, which lets anyone in; then its STUN-reflexive address, which both sides' simultaneous
 * handshakes open through endpoint-independent NATs; then what a relay
 * saw; then its local address; then, as a last resort, an address whose source is missing or one this node does
 * not know (a newer control may report kinds this node has never heard of).
 *
 * <p>The endpoints come from control, which relays what other devices reported: entries, addresses and sources
 * may be missing or malformed. Such an entry is passed over, never an exception, since the caller is a tunnel
 * that must go on with the remaining endpoints.
 */
public final class EndpointChoice {

    /** @param address the endpoint to send to, always a parsed IP literal and port */
    public record Choice(InetSocketAddress address, String reason) {}

    private static final String STUN = "stun";
    private static final String PORTMAP = EndpointReports.PORTMAP;
    private static final String RELAY = "relay";
    /**
     * Control's view of a device is the source address of its TCP connection to control: its port is not the
     * WireGuard socket's, so it is never sent to.
     */
    private static final String CONTROL = "control";
    /** Known sources from most to least preferred; a missing or unknown source ranks after all of them. */
    private static final List<String> PREFERENCE = List.of(PORTMAP, STUN, RELAY, PeerFacts.LOCAL);
    private static final int UNKNOWN_RANK = PREFERENCE.size();

    private EndpointChoice() {}

    public static Optional<Choice> choose(List<Endpoint> peerEndpoints, Collection<String> ownPublicIps) {
        if (peerEndpoints == null) {
            return Optional.empty();
        }
        boolean sameNat = ownPublicIps != null && peerEndpoints.stream()
                .filter(e -> e != null && (STUN.equals(e.source()) || PORTMAP.equals(e.source())) && usable(e) != null)
                .anyMatch(e -> ownPublicIps.contains(host(e.address())));
        if (sameNat) {
            Optional<InetSocketAddress> local = best(peerEndpoints, PeerFacts.LOCAL);
            if (local.isPresent()) {
                return Optional.of(new Choice(local.get(), "same public IP as this node: LAN address"));
            }
        }
        for (int rank = 0; rank <= UNKNOWN_RANK; rank++) {
            Optional<InetSocketAddress> endpoint = best(peerEndpoints, rank);
            if (endpoint.isPresent()) {
                return Optional.of(new Choice(endpoint.get(), switch (rank) {
                    case 0 -> "port mapping of its gateway";
                    case 1 -> "STUN-reflexive address";
                    case 2 -> "address a relay observed";
                    case 3 -> "local address (no public endpoint known)";
                    default -> "address of a missing or unknown source (nothing better known)";
                }));
            }
        }
        return Optional.empty();
    }

    private static Optional<InetSocketAddress> best(List<Endpoint> endpoints, String source) {
        return best(endpoints, PREFERENCE.indexOf(source));
    }

    /** The first usable endpoint whose source has {@code rank}. */
    private static Optional<InetSocketAddress> best(List<Endpoint> endpoints, int rank) {
        for (Endpoint endpoint : endpoints) {
            if (endpoint != null && rank(endpoint.source()) == rank) {
                InetSocketAddress address = usable(endpoint);
                if (address != null) {
                    return Optional.of(address);
                }
            }
        }
        return Optional.empty();
    }

    /** The rank of a source in {@link #PREFERENCE}; -1 for control's view, which is never used. */
    private static int rank(String source) {
        if (CONTROL.equals(source)) {
            return -1;
        }
        int known = source == null ? -1 : PREFERENCE.indexOf(source);
        return known >= 0 ? known : UNKNOWN_RANK;
    }

    /** The endpoint's address when it is an IP literal and port, else null. */
    private static InetSocketAddress usable(Endpoint endpoint) {
        if (endpoint.address() == null) {
            return null;
        }
        try {
            return HostPort.parseEndpoint(endpoint.address());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The IP part of "ip:port" or "[v6]:port". */
    static String host(String address) {
        int colon = address.lastIndexOf(':');
        String host = colon > 0 ? address.substring(0, colon) : address;
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }
}
