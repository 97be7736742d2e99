package io.meshwork.node.routing;

import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.net.Prefix;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of subnet routes and exit nodes: follows the peer map's routes ({@link RouteSelector}), puts the
 * subnet routes it takes on the mesh interface ({@code ip route replace PREFIX dev IF}), and, with an exit node,
 * sends the host's default traffic through the mesh interface by policy routing ({@link ExitRouting}) while the
 * node's own traffic (control, relays, STUN, peers' endpoints) stays on the original path. Every change goes
 * through {@link HostChanges}.
 */
public final class ClientRoutes {

    private static final Logger log = LoggerFactory.getLogger(ClientRoutes.class);

    private final HostChanges changes;
    private final String interfaceName;
    private final RouteSelector.Options options;
    private final Supplier<List<Prefix>> connected;
    private final ExitRouting exit;
    private final Set<Prefix> installed = new LinkedHashSet<>();
    private volatile RouteSelector.Selection selection = RouteSelector.Selection.NONE;

    public ClientRoutes(HostChanges changes, String interfaceName, RouteSelector.Options options,
            Supplier<List<Prefix>> connected, ExitRouting exit) {
        this.changes = changes;
        this.interfaceName = interfaceName;
        this.options = options;
        this.connected = connected;
        this.exit = exit;
    }

    public RouteSelector.Options options() {
        return options;
    }

    /** What the node takes from the peer map now. */
    public RouteSelector.Selection selection() {
        return selection;
    }

    /** Takes the routes of {@code peers}; answers by peer id the prefixes its AllowedIPs gain. */
    public synchronized Map<String, List<Prefix>> follow(Collection<PeerInfo> peers) {
        RouteSelector.Selection next = RouteSelector.select(peers, options, connected.get(), selection.exitNodeId());
        RouteSelector.Selection before = selection;
        selection = next;
        for (RouteSelector.RouteUse use : next.routes()) {
            if (use.skipped() != null && before.routes().stream().noneMatch(use::equals)) {
                log.info("route {} through {}: not taken, {}", use.prefix(), use.router(), use.skipped());
            }
        }
        Set<Prefix> wanted = new LinkedHashSet<>(next.kernelRoutes());
        for (Prefix gone : new ArrayList<>(installed)) {
            if (!wanted.contains(gone)) {
                changes.revert(deleteRoute(gone));
                installed.remove(gone);
                log.info("route {} removed from {}", gone, interfaceName);
            }
        }
        for (Prefix prefix : wanted) {
            if (!installed.contains(prefix)) {
                try {
                    changes.apply(List.of("ip", family(prefix), "route", "replace", prefix.toString(), "dev",
                            interfaceName), deleteRoute(prefix));
                    installed.add(prefix);
                    log.info("route {} through {} on {}", prefix, routerOf(next, prefix), interfaceName);
                } catch (IOException e) {
                    log.warn("routing: cannot route {} on {}: {}", prefix, interfaceName, e.getMessage());
                }
            }
        }
        if (exit != null) {
            exit.follow(next.exitNodeId() != null, peers);
        }
        if (options.exitNode() != null && !java.util.Objects.equals(before.exitNodeId(), next.exitNodeId())) {
            if (next.exitNodeId() != null) {
                log.info("exit node: {}", peers.stream().filter(p -> p.id().equals(next.exitNodeId()))
                        .map(PeerInfo::hostname).findFirst().orElse(next.exitNodeId()));
            } else {
                log.warn("exit node: none in use ({})", next.exitNote());
            }
        }
        return next.allowedIps();
    }

    private static String routerOf(RouteSelector.Selection selection, Prefix prefix) {
        return selection.routes().stream().filter(use -> use.prefix().equals(prefix.toString()))
                .map(RouteSelector.RouteUse::router).findFirst().orElse("?");
    }

    private List<String> deleteRoute(Prefix prefix) {
        return List.of("ip", family(prefix), "route", "del", prefix.toString(), "dev", interfaceName);
    }

    static String family(Prefix prefix) {
        return prefix.isIpv4() ? "-4" : "-6";
    }
}
