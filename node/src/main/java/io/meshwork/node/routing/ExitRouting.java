package io.meshwork.node.routing;

import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.net.HostPort;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's default traffic through an exit node, by policy routing: table {@value #TABLE} holds a default route on
 * the mesh interface, and a rule at priority {@value #LOOKUP_PRIORITY} sends every packet there, after rules that
 * keep the node's own traffic on the original path: a rule per address the node talks to underneath the mesh
 * (control, relays, STUN servers, every peer's endpoints) looking up the main table, and with
 * {@code --exit-node-allow-lan} one that lets the main table's specific routes (the LAN, the overlay) win
 * ({@code suppress_prefixlength 0}). Every rule goes through {@link HostChanges}.
 */
public final class ExitRouting {

    private static final Logger log = LoggerFactory.getLogger(ExitRouting.class);
    static final int TABLE = 5280;
    static final int BYPASS_PRIORITY = 5270;
    static final int LAN_PRIORITY = 5275;
    static final int LOOKUP_PRIORITY = 5279;
    /** At most this many underlay addresses keep their own rule. */
    static final int MAX_BYPASS = 1024;

    private final HostChanges changes;
    private final String interfaceName;
    private final boolean allowLan;
    /** Control, relays and STUN servers: the addresses the node reaches underneath the mesh besides peers. */
    private final Supplier<List<InetAddress>> infrastructure;
    private final List<List<String>> base = new ArrayList<>();
    private final Set<InetAddress> bypassed = new LinkedHashSet<>();
    private boolean active;

    public ExitRouting(HostChanges changes, String interfaceName, boolean allowLan,
            Supplier<List<InetAddress>> infrastructure) {
        this.changes = changes;
        this.interfaceName = interfaceName;
        this.allowLan = allowLan;
        this.infrastructure = infrastructure;
    }

    /** Whether default traffic goes through the exit node now. */
    public synchronized boolean active() {
        return active;
    }

    /** Turns the exit routing on or off and keeps the underlay rules in step with {@code peers}' endpoints. */
    public synchronized void follow(boolean on, Collection<PeerInfo> peers) {
        try {
            if (on) {
                // The addresses first: the default route only once nothing the node needs would follow it.
                bypass(underlay(peers));
                if (!active) {
                    install();
                }
            } else if (active) {
                remove();
            }
        } catch (IOException e) {
            log.warn("exit node: cannot route through the mesh: {}; default traffic stays on the original path",
                    e.getMessage());
            remove();
        }
    }

    void follow(boolean on) {
        follow(on, List.of());
    }

    private void install() throws IOException {
        apply(List.of("ip", "-4", "route", "replace", "default", "dev", interfaceName, "table", "" + TABLE),
                List.of("ip", "-4", "route", "del", "default", "dev", interfaceName, "table", "" + TABLE));
        try {
            apply(List.of("ip", "-6", "route", "replace", "default", "dev", interfaceName, "table", "" + TABLE),
                    List.of("ip", "-6", "route", "del", "default", "dev", interfaceName, "table", "" + TABLE));
        } catch (IOException e) {
            log.debug("exit node: no IPv6 default route through the mesh: {}", e.getMessage());
        }
        for (String family : List.of("-4", "-6")) {
            try {
                if (allowLan) {
                    apply(rule(family, "add", List.of("lookup", "main", "suppress_prefixlength", "0"), LAN_PRIORITY),
                            rule(family, "del", List.of("lookup", "main", "suppress_prefixlength", "0"), LAN_PRIORITY));
                }
                apply(rule(family, "add", List.of("lookup", "" + TABLE), LOOKUP_PRIORITY),
                        rule(family, "del", List.of("lookup", "" + TABLE), LOOKUP_PRIORITY));
            } catch (IOException e) {
                if (family.equals("-4")) {
                    throw e;
                }
                log.debug("exit node: no IPv6 rules: {}", e.getMessage());
            }
        }
        active = true;
        log.info("exit node: default traffic goes through {}{}", interfaceName,
                allowLan ? " (the LAN stays direct)" : "");
    }

    private void remove() {
        for (int i = base.size() - 1; i >= 0; i--) {
            changes.revert(base.get(i));
        }
        base.clear();
        for (InetAddress address : List.copyOf(bypassed)) {
            changes.revert(bypassRule(address, "del"));
        }
        bypassed.clear();
        if (active) {
            log.info("exit node: default traffic is back on the original path");
        }
        active = false;
    }

    private void apply(List<String> command, List<String> undo) throws IOException {
        changes.apply(command, undo);
        base.add(undo);
    }

    private static List<String> rule(String family, String verb, List<String> what, int priority) {
        List<String> command = new ArrayList<>(List.of("ip", family, "rule", verb));
        command.addAll(what);
        command.addAll(List.of("priority", "" + priority));
        return command;
    }

    /** The addresses to keep on the original path: control, relays, STUN servers and every peer endpoint. */
    private Set<InetAddress> underlay(Collection<PeerInfo> peers) {
        Set<InetAddress> addresses = new LinkedHashSet<>(infrastructure.get());
        for (PeerInfo peer : peers) {
            for (Endpoint endpoint : peer.endpoints()) {
                try {
                    addresses.add(HostPort.parseEndpoint(endpoint.address()).getAddress());
                } catch (RuntimeException e) {
                    // an endpoint that does not parse was never used
                }
            }
        }
        return addresses;
    }

    private void bypass(Set<InetAddress> wanted) throws IOException {
        for (InetAddress gone : List.copyOf(bypassed)) {
            if (!wanted.contains(gone)) {
                changes.revert(bypassRule(gone, "del"));
                bypassed.remove(gone);
            }
        }
        for (InetAddress address : wanted) {
            if (!bypassed.contains(address) && bypassed.size() < MAX_BYPASS) {
                changes.apply(bypassRule(address, "add"), bypassRule(address, "del"));
                bypassed.add(address);
            }
        }
    }

    private static List<String> bypassRule(InetAddress address, String verb) {
        boolean v4 = address instanceof Inet4Address;
        return rule(v4 ? "-4" : "-6", verb, List.of("to", address.getHostAddress() + (v4 ? "/32" : "/128"),
                "lookup", "main"), BYPASS_PRIORITY);
    }
}
