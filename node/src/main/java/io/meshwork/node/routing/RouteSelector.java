package io.meshwork.node.routing;

import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.net.Prefix;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which routes a client takes from its peer map (docs/architecture.md, "Subnet routers and exit nodes"): with
 * {@code --accept-routes}, every approved route of a peer (its primary router) unless the prefix overlaps one of this
 * host's own connected networks (the LAN the node sits on is never taken over); with {@code --exit-node}, the
 * default routes through the named approved exit node, or with {@code auto} through one of them (the current one
 * while it stays an exit node, else the first by hostname). Pure: the caller applies what it answers.
 */
public final class RouteSelector {

    /** The default routes an exit node carries. */
    public static final List<Prefix> DEFAULT_ROUTES = List.of(Prefix.parse("0.0.0.0/0"), Prefix.parse("::/0"));

    /**
     * @param acceptRoutes whether to take peers' subnet routes
     * @param exitNode     null (no exit node), "auto", or a peer's id or hostname
     * @param allowLan     whether the LAN stays reachable directly while an exit node carries the rest
     */
    public record Options(boolean acceptRoutes, String exitNode, boolean allowLan) {
        public static final Options NONE = new Options(false, null, false);

        public boolean any() {
            return acceptRoutes || exitNode != null;
        }
    }

    /**
     * One route of the peer map as this node uses it.
     *
     * @param prefix   the route
     * @param routerId the peer that is its primary router
     * @param router   that peer's hostname
     * @param skipped  why this node does not use it, or null when it does
     */
    public record RouteUse(String prefix, String routerId, String router, String skipped) {}

    /**
     * What to apply.
     *
     * @param allowedIps   by peer id: the prefixes its AllowedIPs gain beyond its overlay addresses
     * @param kernelRoutes the subnet routes to put on the mesh interface
     * @param routes       every route in the peer map, used or skipped, by prefix
     * @param exitNodeId   the exit node in use, or null
     * @param exitNote     why no exit node is in use although one was asked for, or null
     */
    public record Selection(Map<String, List<Prefix>> allowedIps, List<Prefix> kernelRoutes, List<RouteUse> routes,
            String exitNodeId, String exitNote) {
        public static final Selection NONE = new Selection(Map.of(), List.of(), List.of(), null, null);
    }

    private RouteSelector() {}

    /**
     * @param peers      the peer map as applied
     * @param connected  this host's connected networks (not the mesh interface's)
     * @param currentExit the exit node in use now (kept with "auto" while it still is one), or null
     */
    public static Selection select(Collection<PeerInfo> peers, Options options, List<Prefix> connected,
            String currentExit) {
        List<PeerInfo> ordered = new ArrayList<>(peers);
        ordered.sort(Comparator.comparing((PeerInfo p) -> p.hostname() == null ? "" : p.hostname())
                .thenComparing(PeerInfo::id));
        Map<String, List<Prefix>> allowed = new LinkedHashMap<>();
        List<Prefix> kernel = new ArrayList<>();
        List<RouteUse> uses = new ArrayList<>();
        Map<String, String> taken = new LinkedHashMap<>();
        for (PeerInfo peer : ordered) {
            for (String text : peer.routes()) {
                Prefix prefix;
                try {
                    prefix = Prefix.parse(text);
                } catch (RuntimeException e) {
                    continue;
                }
                String skipped = null;
                if (!options.acceptRoutes()) {
                    skipped = "not accepting routes (--accept-routes)";
                } else if (taken.containsKey(prefix.toString())) {
                    skipped = "routed through " + taken.get(prefix.toString());
                } else {
                    for (Prefix own : connected) {
                        if (overlaps(prefix, own)) {
                            skipped = "covers this host's own network " + own;
                            break;
                        }
                    }
                }
                uses.add(new RouteUse(prefix.toString(), peer.id(), peer.hostname(), skipped));
                if (skipped == null) {
                    taken.put(prefix.toString(), peer.hostname());
                    allowed.computeIfAbsent(peer.id(), id -> new ArrayList<>()).add(prefix);
                    kernel.add(prefix);
                }
            }
        }
        String exitId = null;
        String exitNote = null;
        if (options.exitNode() != null) {
            List<PeerInfo> exits = ordered.stream().filter(PeerInfo::exitNode).toList();
            PeerInfo chosen = null;
            if (options.exitNode().equals("auto")) {
                chosen = exits.stream().filter(p -> p.id().equals(currentExit)).findFirst()
                        .orElse(exits.isEmpty() ? null : exits.get(0));
                if (chosen == null) {
                    exitNote = "no approved exit node in the peer map";
                }
            } else {
                PeerInfo named = ordered.stream().filter(p -> p.id().equals(options.exitNode())
                        || options.exitNode().equalsIgnoreCase(p.hostname())).findFirst().orElse(null);
                if (named == null) {
                    exitNote = options.exitNode() + " is not in the peer map";
                } else if (!named.exitNode()) {
                    exitNote = named.hostname() + " is not an approved exit node";
                } else {
                    chosen = named;
                }
            }
            if (chosen != null) {
                exitId = chosen.id();
                allowed.computeIfAbsent(chosen.id(), id -> new ArrayList<>()).addAll(DEFAULT_ROUTES);
            }
        }
        return new Selection(allowed, kernel, uses, exitId, exitNote);
    }

    /** Whether two prefixes of one family share an address. */
    static boolean overlaps(Prefix a, Prefix b) {
        return a.isIpv4() == b.isIpv4() && (a.contains(b) || b.contains(a));
    }

    /**
     * This host's connected networks: each address of an interface that is up, but loopback, link-local and the
     * mesh interface {@code meshInterface}, with its prefix length.
     */
    public static List<Prefix> connectedNetworks(String meshInterface) {
        List<Prefix> networks = new ArrayList<>();
        try {
            var interfaces = NetworkInterface.getNetworkInterfaces();
            while (interfaces != null && interfaces.hasMoreElements()) {
                NetworkInterface itf = interfaces.nextElement();
                if (!itf.isUp() || itf.isLoopback() || itf.getName().equals(meshInterface)) {
                    continue;
                }
                for (InterfaceAddress address : itf.getInterfaceAddresses()) {
                    InetAddress ip = address.getAddress();
                    if (ip.isLinkLocalAddress() || ip.isLoopbackAddress()) {
                        continue;
                    }
                    try {
                        networks.add(new Prefix(ip instanceof java.net.Inet6Address v6 && v6.getScopeId() != 0
                                ? InetAddress.getByAddress(v6.getAddress()) : ip, address.getNetworkPrefixLength()));
                    } catch (RuntimeException | java.net.UnknownHostException e) {
                        // an address the prefix type cannot hold: not a network a route could cover
                    }
                }
            }
        } catch (SocketException e) {
            return List.of();
        }
        return networks;
    }
}
