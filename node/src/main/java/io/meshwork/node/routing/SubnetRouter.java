package io.meshwork.node.routing;

import io.meshwork.protocol.net.Prefix;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router side of subnet routes and exit nodes (docs/architecture.md, "Subnet routers and exit nodes"): turns
 * on IP forwarding, lets traffic in from the mesh interface and its replies back, and with SNAT masquerades traffic
 * from the mesh's overlay to the advertised routes (an exit node: to anywhere but the mesh), so hosts on the LAN
 * answer the router without a route back to the overlay. nftables when the host has {@code nft}, else iptables and
 * ip6tables. Every change goes through {@link HostChanges}, so {@code node down} and a start after a crash remove it.
 */
public final class SubnetRouter {

    private static final Logger log = LoggerFactory.getLogger(SubnetRouter.class);

    /**
     * @param interfaceName   the mesh interface
     * @param routes          the advertised prefixes
     * @param exitNode        whether the node is an exit node (forwards to anywhere)
     * @param snat            whether to masquerade the mesh's traffic leaving to the LAN or the internet
     * @param overlayPrefixes the organization's overlay prefixes: the sources masqueraded
     */
    public record Options(String interfaceName, List<Prefix> routes, boolean exitNode, boolean snat,
            List<Prefix> overlayPrefixes) {
        public Options {
            routes = List.copyOf(routes);
            overlayPrefixes = overlayPrefixes == null ? List.of() : List.copyOf(overlayPrefixes);
        }

        boolean any() {
            return exitNode || !routes.isEmpty();
        }
    }

    private SubnetRouter() {}

    /** Installs forwarding (and SNAT) for {@code options}; returns the firewall used ("nftables" or "iptables"). */
    public static String install(HostChanges changes, Options options) throws IOException {
        boolean v4 = options.exitNode() || options.routes().stream().anyMatch(Prefix::isIpv4);
        boolean v6 = options.exitNode() || options.routes().stream().anyMatch(p -> !p.isIpv4());
        if (v4) {
            changes.sysctl("/proc/sys/net/ipv4/ip_forward", "1");
        }
        if (v6) {
            try {
                changes.sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
            } catch (IOException e) {
                log.warn("routing: cannot turn on IPv6 forwarding ({}); IPv6 routes are not forwarded", e.getMessage());
                v6 = false;
            }
        }
        HostChanges.Host host = changes.host();
        if (host.has("nft")) {
            installNftables(changes, options, v4, v6);
            return "nftables";
        }
        if (host.has("iptables")) {
            if (v4) {
                installIptables(changes, options, "iptables", true);
            }
            if (v6 && host.has("ip6tables")) {
                installIptables(changes, options, "ip6tables", false);
            }
            return "iptables";
        }
        throw new IOException("neither nft nor iptables is installed: cannot forward or masquerade routed traffic");
    }

    /** The chain names of the interface: {@code MWF-IF} (forward) and {@code MWN-IF} (NAT), at most 28 characters. */
    static String chain(String kind, String interfaceName) {
        String name = kind + "-" + interfaceName;
        return name.length() > 28 ? name.substring(0, 28) : name;
    }

    static void installIptables(HostChanges changes, Options options, String tool, boolean ipv4) throws IOException {
        String itf = options.interfaceName();
        String forward = chain("MWF", itf);
        changes.apply(List.of(tool, "-w", "-N", forward), List.of(tool, "-w", "-X", forward));
        rule(changes, tool, null, forward, List.of("-i", itf, "-j", "ACCEPT"));
        rule(changes, tool, null, forward, List.of("-o", itf, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                "-j", "ACCEPT"));
        changes.apply(List.of(tool, "-w", "-I", "FORWARD", "1", "-j", forward),
                List.of(tool, "-w", "-D", "FORWARD", "-j", forward));
        if (!options.snat()) {
            return;
        }
        String nat = chain("MWN", itf);
        changes.apply(List.of(tool, "-w", "-t", "nat", "-N", nat), List.of(tool, "-w", "-t", "nat", "-X", nat));
        List<String> sources = sources(options, ipv4);
        for (String source : sources) {
            if (options.exitNode()) {
                rule(changes, tool, "nat", nat, with(source, List.of("!", "-o", itf, "-j", "MASQUERADE")));
            } else {
                for (Prefix route : options.routes()) {
                    if (route.isIpv4() == ipv4) {
                        rule(changes, tool, "nat", nat, with(source, List.of("-d", route.toString(), "!", "-o", itf,
                                "-j", "MASQUERADE")));
                    }
                }
            }
        }
        changes.apply(List.of(tool, "-w", "-t", "nat", "-A", "POSTROUTING", "-j", nat),
                List.of(tool, "-w", "-t", "nat", "-D", "POSTROUTING", "-j", nat));
    }

    /** The overlay prefixes of the family as {@code -s} matches; one empty match when none is known. */
    private static List<String> sources(Options options, boolean ipv4) {
        List<String> sources = new ArrayList<>();
        for (Prefix prefix : options.overlayPrefixes()) {
            if (prefix.isIpv4() == ipv4) {
                sources.add(prefix.toString());
            }
        }
        if (sources.isEmpty()) {
            sources.add("");
        }
        return sources;
    }

    private static List<String> with(String source, List<String> rest) {
        List<String> args = new ArrayList<>();
        if (!source.isEmpty()) {
            args.add("-s");
            args.add(source);
        }
        args.addAll(rest);
        return args;
    }

    private static void rule(HostChanges changes, String tool, String table, String chain, List<String> match)
            throws IOException {
        List<String> add = new ArrayList<>(List.of(tool, "-w"));
        List<String> delete = new ArrayList<>(List.of(tool, "-w"));
        if (table != null) {
            add.addAll(List.of("-t", table));
            delete.addAll(List.of("-t", table));
        }
        add.addAll(List.of("-A", chain));
        delete.addAll(List.of("-D", chain));
        add.addAll(match);
        delete.addAll(match);
        changes.apply(add, delete);
    }

    /** One table {@code inet meshwork-IF}: deleting it removes every rule in it. */
    static void installNftables(HostChanges changes, Options options, boolean v4, boolean v6) throws IOException {
        String itf = options.interfaceName();
        String table = "meshwork-" + itf;
        changes.apply(List.of("nft", "add", "table", "inet", table), List.of("nft", "delete", "table", "inet", table));
        changes.apply(List.of("nft", "add", "chain", "inet", table, "forward",
                "{ type filter hook forward priority 0; policy accept; }"), null);
        changes.apply(List.of("nft", "add", "rule", "inet", table, "forward", "iifname", itf, "accept"), null);
        changes.apply(List.of("nft", "add", "rule", "inet", table, "forward", "oifname", itf, "ct", "state",
                "established,related", "accept"), null);
        if (!options.snat()) {
            return;
        }
        changes.apply(List.of("nft", "add", "chain", "inet", table, "postrouting",
                "{ type nat hook postrouting priority 100; policy accept; }"), null);
        for (boolean ipv4 : new boolean[] {true, false}) {
            if (ipv4 ? !v4 : !v6) {
                continue;
            }
            String family = ipv4 ? "ip" : "ip6";
            for (String source : sources(options, ipv4)) {
                List<String> match = new ArrayList<>(List.of("nft", "add", "rule", "inet", table, "postrouting"));
                if (!source.isEmpty()) {
                    match.addAll(List.of(family, "saddr", source));
                } else {
                    match.addAll(List.of("meta", "nfproto", ipv4 ? "ipv4" : "ipv6"));
                }
                if (options.exitNode()) {
                    List<String> rule = new ArrayList<>(match);
                    rule.addAll(List.of("oifname", "!=", itf, "masquerade"));
                    changes.apply(rule, null);
                } else {
                    for (Prefix route : options.routes()) {
                        if (route.isIpv4() == ipv4) {
                            List<String> rule = new ArrayList<>(match);
                            rule.addAll(List.of(family, "daddr", route.toString(), "oifname", "!=", itf,
                                    "masquerade"));
                            changes.apply(rule, null);
                        }
                    }
                }
            }
        }
    }
}
