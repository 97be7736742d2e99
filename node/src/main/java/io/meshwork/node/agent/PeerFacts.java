package io.meshwork.node.agent;

import io.meshwork.protocol.net.HostPort;
import io.meshwork.node.tunnel.TunnelPeer;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.net.AddressClass;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.path.NatPolicy;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a tunnel knows of a device, read from what the device reported to control: its endpoints by source
 * ("local" ones are LAN candidates; "portmap", "stun", "relay" and "control" ones are public, reflexive candidates)
 * and the NAT report's {@code udp} and {@code mapping} fields. The peer map is input from the network: an endpoint
 * that does not parse is left out and a NAT field that does not parse counts as unknown, never an error that would
 * cost the other endpoints.
 */
public final class PeerFacts {

    private static final Logger log = LoggerFactory.getLogger(PeerFacts.class);
    /** The source of an interface address; every other source is an address seen from outside. */
    static final String LOCAL = "local";

    private PeerFacts() {
    }

    /** What the peer map says of a peer, as its tunnel needs it. */
    public static TunnelPeer fromPeer(PeerInfo info) {
        List<InetSocketAddress> lan = new ArrayList<>();
        List<InetSocketAddress> reflexive = new ArrayList<>();
        split(info.endpoints() == null ? List.of() : info.endpoints(), lan, reflexive);
        // The LAN endpoints carry the peer's WireGuard port: port prediction's first guess. A global IPv6 address
        // is no LAN endpoint but is an interface address all the same, at the WireGuard port.
        int localPort = lan.isEmpty() ? reflexive.stream().filter(PeerFacts::isGlobalIpv6)
                .mapToInt(InetSocketAddress::getPort).findFirst().orElse(0) : lan.get(0).getPort();
        return new TunnelPeer(lan, reflexive, localPort, natSide(info.nat()));
    }

    /**
     * This node as its tunnels see it, from its latest report. Before the first discovery ({@code endpoints}
     * empty) the host's own addresses at the listen port stand in for it.
     */
    public static TunnelPeer forSelf(List<Endpoint> endpoints, Map<String, Object> nat, int listenPort,
            List<String> localAddresses) {
        List<InetSocketAddress> lan = new ArrayList<>();
        List<InetSocketAddress> reflexive = new ArrayList<>();
        split(endpoints.isEmpty() ? EndpointReports.local(localAddresses, listenPort) : endpoints, lan, reflexive);
        return new TunnelPeer(lan, reflexive, listenPort, natSide(nat));
    }

    /**
     * The NAT side of a netcheck report's fields: UDP counts as reachable unless {@code udp} is false, the
     * mapping is the {@link MappingBehavior} named by {@code mapping} or unknown.
     */
    public static NatPolicy.Side natSide(Map<String, Object> nat) {
        if (nat == null || nat.isEmpty()) {
            return NatPolicy.Side.unknown();
        }
        boolean udp = !Boolean.FALSE.equals(nat.get("udp"));
        MappingBehavior mapping;
        try {
            mapping = MappingBehavior.valueOf(String.valueOf(nat.get("mapping")));
        } catch (IllegalArgumentException e) {
            mapping = MappingBehavior.UNKNOWN;
        }
        return new NatPolicy.Side(udp, mapping);
    }

    /**
     * Whether a "local" endpoint is a global IPv6 address: reachable across the internet through at most a stateful
     * firewall, so a public candidate rather than a LAN one (docs/architecture.md, "IPv6 paths").
     */
    static boolean isGlobalIpv6(InetSocketAddress address) {
        return address.getAddress() instanceof java.net.Inet6Address
                && AddressClass.of(address.getAddress()) == AddressClass.PUBLIC;
    }

    private static void split(List<Endpoint> endpoints, List<InetSocketAddress> lan,
            List<InetSocketAddress> reflexive) {
        for (Endpoint endpoint : endpoints) {
            if (endpoint == null || endpoint.address() == null || endpoint.source() == null) {
                log.debug("ignoring incomplete endpoint {}", endpoint);
                continue;
            }
            InetSocketAddress address;
            try {
                address = HostPort.parseEndpoint(endpoint.address());
            } catch (IllegalArgumentException e) {
                log.debug("ignoring endpoint {}: {}", endpoint.address(), e.getMessage());
                continue;
            }
            if (endpoint.source().equals(LOCAL) && !isGlobalIpv6(address)) {
                lan.add(address);
            } else if (!reflexive.contains(address)) {
                reflexive.add(address);
            }
        }
    }
}
