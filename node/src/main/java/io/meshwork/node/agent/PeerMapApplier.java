package io.meshwork.node.agent;

import io.meshwork.protocol.net.Prefix;
import io.meshwork.node.dataplane.AllowedIps;
import io.meshwork.node.dataplane.Peer;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.filter.PacketFilter;
import io.meshwork.node.filter.PolicyException;
import io.meshwork.node.tunnel.TunnelSupervisor;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.net.AddressClass;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies peer-map events from control to the WireGuard device and the tunnels: the security policy first (so a
 * peer that arrives in the same event never meets the old policy), then upserts and removals, record by record.
 * "relays" events (the relays and STUN servers control lists now) go to their consumer.
 *
 * <p>A record that cannot be applied (no id, a key that is not a Curve25519 key, an overlay address that does not
 * parse) is skipped with one warning naming it; the rest of the event still applies, and nothing of the bad record
 * is half-applied: it is checked whole before anything changes. An event without a type or lists is taken as
 * empty. So a bad line from control never stops the node following revocations (see docs/architecture.md, "Node").
 */
final class PeerMapApplier {

    private static final Logger log = LoggerFactory.getLogger(PeerMapApplier.class);
    static final int PERSISTENT_KEEPALIVE_SECONDS = 25;

    /** A peer record that passed every check: its key and allowed IPs parsed. */
    private record Checked(PeerInfo info, Key key, List<Prefix> allowedIps) {}

    private final String selfId;
    private final WireGuardDevice device;
    private final Consumer<TunnelSupervisor.Command> tunnels;
    private final Consumer<List<String>> overlayPrefixes;
    private final Consumer<PeerMapEvent> relays;
    private final Map<String, PeerInfo> peers = new ConcurrentHashMap<>();
    /** By peer id: the routes its AllowedIPs hold beyond its overlay addresses (subnet routes, default routes). */
    private final Map<String, List<Prefix>> routedThrough = new ConcurrentHashMap<>();
    /** Picks the routes to take from the peer map and puts them on the host; none until {@link #routing}. */
    private volatile ClientRouting routing;

    /**
     * Where this node's routes through peers go (docs/architecture.md, "Subnet routers and exit nodes"): told the
     * peer map after every change, it answers which prefixes each peer's AllowedIPs gain, and installs them.
     */
    interface ClientRouting {
        Map<String, List<Prefix>> follow(java.util.Collection<PeerInfo> peers);
    }

    void routing(ClientRouting routing) {
        this.routing = routing;
    }

    /** A peer's home relay name longer than control accepts is ignored (the peer is then reached as one without). */
    static final int MAX_RELAY_NAME = 64;

    /** An applier that leaves "relays" events aside. */

    PeerMapApplier(String selfId, WireGuardDevice device, Consumer<TunnelSupervisor.Command> tunnels,
            Consumer<List<String>> overlayPrefixes) {
        this(selfId, device, tunnels, overlayPrefixes, event -> { });
    }

    /**
     * @param selfId          this device's id: its own record is never a peer
     * @param tunnels         where tunnel changes go (the tunnel supervisor)
     * @param overlayPrefixes told the organization's overlay prefixes from every snapshot that carries them
     * @param relays          handed every "relays" event (the live relay list and STUN servers), on the caller's
     *                        thread
     */
    PeerMapApplier(String selfId, WireGuardDevice device, Consumer<TunnelSupervisor.Command> tunnels,
            Consumer<List<String>> overlayPrefixes, Consumer<PeerMapEvent> relays) {
        this.selfId = selfId;
        this.device = device;
        this.tunnels = tunnels;
        this.overlayPrefixes = overlayPrefixes;
        this.relays = relays;
    }

    /** The peers as applied, by device id (a live view). */
    Map<String, PeerInfo> peers() {
        return peers;
    }

    /** Applies one event; never throws for what the event holds. */
    synchronized void apply(PeerMapEvent event) {
        if (event == null) {
            return;
        }
        applyPolicy(event);
        List<PeerInfo> records = event.peers() == null ? List.of() : event.peers();
        String type = event.type() == null ? "" : event.type();
        switch (type) {
            case PeerMapEvent.SNAPSHOT -> {
                if (event.overlayPrefixes() != null) {
                    organizationPrefixes(event.overlayPrefixes());
                    overlayPrefixes.accept(event.overlayPrefixes());
                }
                List<Checked> checked = check(records, event.revision());
                Set<String> present = new LinkedHashSet<>();
                checked.forEach(peer -> present.add(peer.info().id()));
                for (String id : List.copyOf(peers.keySet())) {
                    if (!present.contains(id)) {
                        remove(id);
                    }
                }
                checked.forEach(this::upsert);
            }
            case PeerMapEvent.UPSERT -> check(records, event.revision()).forEach(this::upsert);
            case PeerMapEvent.REMOVE -> {
                if (event.removed() != null) {
                    event.removed().forEach(this::remove);
                }
            }
            default -> { }
        }
        switch (type) {
            case PeerMapEvent.SNAPSHOT, PeerMapEvent.UPSERT, PeerMapEvent.REMOVE -> followRoutes();
            case PeerMapEvent.RELAYS -> {
                // An event without the lists says nothing: the node keeps the ones it has.
                if (event.relays() != null || event.stunServers() != null) {
                    try {
                        relays.accept(event);
                    } catch (RuntimeException e) {
                        log.warn("cannot follow the relay list from control at revision {}: {}", event.revision(),
                                e.toString());
                    }
                }
            }
            default -> { }
        }
    }

    /** The peers' AllowedIPs gain (and lose) the routes the node takes through them, and the host routes them. */
    private void followRoutes() {
        ClientRouting current = routing;
        if (current == null) {
            return;
        }
        Map<String, List<Prefix>> wanted;
        try {
            wanted = current.follow(peers.values());
        } catch (RuntimeException e) {
            log.warn("routing: cannot follow the peer map's routes: {}", e.toString());
            return;
        }
        java.util.Set<String> ids = new java.util.TreeSet<>(routedThrough.keySet());
        ids.addAll(wanted.keySet());
        for (String id : ids) {
            List<Prefix> now = wanted.getOrDefault(id, List.of());
            if (!now.equals(routedThrough.getOrDefault(id, List.of()))) {
                PeerInfo info = peers.get(id);
                if (now.isEmpty()) {
                    routedThrough.remove(id);
                } else {
                    routedThrough.put(id, List.copyOf(now));
                }
                if (info != null) {
                    Peer peer = device.peer(Key.fromBase64(info.publicKey()));
                    if (peer != null) {
                        device.clearAllowedIps(peer);
                        for (String ip : info.overlayIps()) {
                            device.addAllowedIp(peer, Prefix.parseAddressOrPrefix(ip));
                        }
                        now.forEach(prefix -> device.addAllowedIp(peer, prefix));
                    }
                }
            }
        }
    }

    private void applyPolicy(PeerMapEvent event) {
        if (event.policy() == null) {
            return;
        }
        try {
            device.setPacketFilter(PacketFilter.forPolicy(event.policy(), device.packetFilter()));
            log.info("security policy at revision {}: {}", event.revision(),
                    event.policy().enforced() ? "groups " + event.policy().groups() : "open (no group applies)");
        } catch (PolicyException | RuntimeException e) {
            log.error("cannot enforce the security policy from control ({}); letting in replies only", e.getMessage());
            device.setPacketFilter(PacketFilter.repliesOnly(device.packetFilter()));
        }
    }

    /** The records that can be applied, in order; one warning per record that cannot. Skips this device. */
    private List<Checked> check(List<PeerInfo> records, long revision) {
        List<Checked> checked = new ArrayList<>(records.size());
        for (PeerInfo info : records) {
            try {
                Checked peer = check(info);
                if (!peer.info().id().equals(selfId)) {
                    checked.add(peer);
                }
            } catch (IllegalArgumentException | NullPointerException e) {
                log.warn("skipping a peer record from control at revision {} ({}): {}", revision, describe(info),
                        e.getMessage());
            }
        }
        return checked;
    }

    /**
     * The organization's overlay prefixes, as control handed them (registration, then every snapshot): a peer's
     * overlay addresses must lie inside them. Empty until known (an identity from before control sent them).
     */
    private volatile List<Prefix> organization = List.of();

    /** Takes the organization's overlay prefixes; ones that do not parse are left out (with a warning). */
    void organizationPrefixes(List<String> prefixes) {
        List<Prefix> parsed = new ArrayList<>();
        for (String prefix : prefixes == null ? List.<String>of() : prefixes) {
            try {
                parsed.add(Prefix.parse(prefix));
            } catch (RuntimeException e) {
                log.warn("ignoring the overlay prefix {} from control: {}", prefix, e.getMessage());
            }
        }
        organization = List.copyOf(parsed);
    }

    private Checked check(PeerInfo info) {
        if (info == null) {
            throw new IllegalArgumentException("the record is null");
        }
        if (info.id() == null || info.id().isBlank()) {
            throw new IllegalArgumentException("it has no id");
        }
        if (info.publicKey() == null) {
            throw new IllegalArgumentException("it has no public key");
        }
        Key key = Key.fromBase64(info.publicKey());
        List<Prefix> allowedIps = new ArrayList<>();
        for (String ip : info.overlayIps() == null ? List.<String>of() : info.overlayIps()) {
            if (ip == null) {
                throw new IllegalArgumentException("it has a null overlay address");
            }
            Prefix prefix = Prefix.parseAddressOrPrefix(ip);
            if (prefix.length() != prefix.address().getAddress().length * 8) {
                // A peer's overlay addresses are single addresses: a prefix would let it claim others' traffic.
                throw new IllegalArgumentException("overlay address " + ip + " is a prefix, not one address");
            }
            List<Prefix> inside = organization;
            if (!inside.isEmpty() && inside.stream().noneMatch(org -> org.contains(prefix))) {
                // Routes come through their own feature: a peer record routes only its own overlay addresses.
                throw new IllegalArgumentException("overlay address " + ip + " is outside the organization's "
                        + inside);
            }
            allowedIps.add(prefix);
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (Endpoint endpoint : info.endpoints() == null ? List.<Endpoint>of() : info.endpoints()) {
            String refusal = refusal(endpoint, organization);
            if (refusal == null) {
                endpoints.add(endpoint);
            } else {
                log.debug("skipping endpoint {} of peer {}: {}", endpoint, info.id(), refusal);
            }
        }
        List<String> routes = new ArrayList<>();
        for (String route : info.routes()) {
            String refusal = routeRefusal(route, organization);
            if (refusal == null) {
                routes.add(Prefix.parse(route).toString());
            } else {
                log.warn("skipping route {} of peer {}: {}", route, info.id(), refusal);
            }
        }
        PeerInfo normalized = new PeerInfo(info.id(), info.hostname() == null ? info.id() : info.hostname(),
                info.publicKey(), info.overlayIps() == null ? List.of() : info.overlayIps(),
                List.copyOf(endpoints), info.nat(), info.lastSeenMillis(), info.tags(), routes, info.exitNode(),
                info.homeRelay() == null || info.homeRelay().length() > MAX_RELAY_NAME ? null : info.homeRelay());
        return new Checked(normalized, key, allowedIps);
    }

    /**
     * Why a peer must not be sent to {@code endpoint}, or null when it may: it must parse as ip:port, be of a class
     * a peer may be reached at ({@link AddressClass#usableAs}: never loopback, unspecified, multicast or link-local;
     * private only as a LAN address), and not lie inside the overlay (a tunnel through the tunnel).
     */
    static String refusal(Endpoint endpoint, List<Prefix> overlay) {
        if (endpoint == null || endpoint.address() == null) {
            return "no address";
        }
        String refusal = AddressClass.endpointRefusal(endpoint.address(), endpoint.source());
        if (refusal != null) {
            return refusal;
        }
        InetSocketAddress address = HostPort.parseEndpoint(endpoint.address());
        for (Prefix prefix : overlay) {
            if (prefix.contains(address.getAddress())) {
                return "it is an overlay address";
            }
        }
        return null;
    }

    /**
     * Why a peer's subnet route must not be taken, or null when it may: it must be a prefix with its length, not a
     * default route (an exit node says {@code exitNode}), and not overlap the organization's overlay.
     */
    static String routeRefusal(String route, List<Prefix> overlay) {
        Prefix prefix;
        try {
            prefix = Prefix.parse(route);
        } catch (RuntimeException e) {
            return "not a prefix";
        }
        if (prefix.length() == 0) {
            return "a default route (exit nodes say exitNode)";
        }
        for (Prefix own : overlay) {
            if (own.isIpv4() == prefix.isIpv4() && (own.contains(prefix) || prefix.contains(own))) {
                return "it overlaps the overlay " + own;
            }
        }
        return null;
    }

    private static String describe(PeerInfo info) {
        if (info == null) {
            return "null";
        }
        return "id " + info.id() + ", hostname " + info.hostname();
    }

    private void upsert(Checked checked) {
        PeerInfo info = checked.info();
        Peer peer = device.addPeer(checked.key());
        if (peer == null) {
            log.warn("skipping peer {}: its key is this device's own", info.id());
            return;
        }
        PeerInfo previous = peers.put(info.id(), info);
        if (previous == null) {
            log.info("peer {} ({}) is in the peer map", info.hostname(), info.id());
        }
        if (previous != null && !previous.publicKey().equals(info.publicKey())) {
            // The device got a new key: the old WireGuard peer goes with its tunnel.
            tunnels.accept(new TunnelSupervisor.PeerRemoved(Key.fromBase64(previous.publicKey())));
        }
        if (previous == null || !previous.overlayIps().equals(info.overlayIps())
                || !previous.publicKey().equals(info.publicKey())) {
            device.clearAllowedIps(peer);
            checked.allowedIps().forEach(prefix -> device.addAllowedIp(peer, prefix));
            routedThrough.getOrDefault(info.id(), List.of()).forEach(prefix -> device.addAllowedIp(peer, prefix));
        }
        device.pinPath(peer, true);
        device.setPersistentKeepalive(peer, PERSISTENT_KEEPALIVE_SECONDS);
        tunnels.accept(new TunnelSupervisor.PeerUpserted(checked.key(), PeerFacts.fromPeer(info)));
    }

    private void remove(String id) {
        if (id == null) {
            return;
        }
        PeerInfo info = peers.remove(id);
        routedThrough.remove(id);
        if (info != null) {
            log.info("peer {} ({}) left the peer map", info.hostname(), info.id());
            // The tunnel drops the WireGuard peer and its keys as it stops.
            tunnels.accept(new TunnelSupervisor.PeerRemoved(Key.fromBase64(info.publicKey())));
        }
    }
}
