package io.meshwork.node.agent;

import io.meshwork.protocol.api.Endpoint;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Which of a peer's advertised endpoints to send WireGuard to, and why (pure). A peer behind the same public IP as
 * us is on our LAN (or behind our NAT): its local address, since NATs rarely hairpin. Otherwise its STUN-reflexive
 * address, which both sides' simultaneous handshakes open through endpoint-independent NATs; then what a relay
 * saw; then its local address.
 */
public final class EndpointChoice {

    public record Choice(String address, String reason) {}

    private EndpointChoice() {}

    public static Optional<Choice> choose(List<Endpoint> peerEndpoints, Collection<String> ownPublicIps) {
        if (peerEndpoints == null || peerEndpoints.isEmpty()) {
            return Optional.empty();
        }
        boolean sameNat = peerEndpoints.stream()
                .filter(e -> e.source().equals("stun"))
                .anyMatch(e -> ownPublicIps.contains(host(e.address())));
        if (sameNat) {
            Optional<Endpoint> local = first(peerEndpoints, "local");
            if (local.isPresent()) {
                return Optional.of(new Choice(local.get().address(), "same public IP as this node: LAN address"));
            }
        }
        for (String source : List.of("stun", "relay", "local")) {
            Optional<Endpoint> endpoint = first(peerEndpoints, source);
            if (endpoint.isPresent()) {
                return Optional.of(new Choice(endpoint.get().address(), switch (source) {
                    case "stun" -> "STUN-reflexive address";
                    case "relay" -> "address a relay observed";
                    default -> "local address (no public endpoint known)";
                }));
            }
        }
        return Optional.empty();
    }

    private static Optional<Endpoint> first(List<Endpoint> endpoints, String source) {
        return endpoints.stream().filter(e -> e.source().equals(source)).findFirst();
    }

    /** The IP part of "ip:port" or "[v6]:port". */
    static String host(String address) {
        int colon = address.lastIndexOf(':');
        String host = colon > 0 ? address.substring(0, colon) : address;
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }
}
