package io.meshwork.node.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code meshwork status}: this node and, for each peer, the path in use and why. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show this node (with the port mapping its gateway holds, if any) and each peer: path "
                + "(direct ip:port or relay), latency, last handshake, bytes, and why the path is what it is.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:status shown", "3:no agent running with this state directory"})
public final class StatusCommand implements Callable<Integer> {

    @Mixin
    StateDirectoryOption state = new StateDirectoryOption();

    @Option(names = "--json", description = "Print the status as one JSON document.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        NodeStatus status;
        try {
            status = new LocalApiClient(state.resolve()).status();
        } catch (LocalApiClient.LocalApiException e) {
            spec.commandLine().getErr().println("meshwork status: " + e.getMessage());
            return ExitCodes.NO_AGENT;
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(status));
        } else {
            out.print(render(status, Instant.now()));
        }
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * The resolver in one line ("dns: resolvconf, laptop.meshwork.internal at 100.100.100.100, upstream 192.0.2.53;
     * 120 queries, 8 forwarded, 0 dropped"), then why the host does not use it and the names of peers whose
     * hostnames are not DNS labels as they are.
     */
    static String dnsLine(NodeStatus.Dns dns) {
        StringBuilder text = new StringBuilder("dns: ").append(dns.mode()).append(", ").append(dns.name())
                .append(" at ").append(String.join(", ", dns.resolver())).append(", upstream ")
                .append(dns.upstreams().isEmpty() ? "none" : String.join(", ", dns.upstreams()))
                .append("; ").append(dns.queries()).append(" queries, ").append(dns.forwarded())
                .append(" forwarded, ").append(dns.dropped()).append(" dropped\n");
        if (dns.note() != null) {
            text.append("dns: ").append(dns.note()).append('\n');
        }
        if (dns.names() != null) {
            dns.names().forEach((hostname, name) -> text.append("dns: ").append(hostname).append(" is ")
                    .append(name).append('\n'));
        }
        return text.toString();
    }

    /**
     * Whether this node relays for its organization, in one line: "relay service: relaying at 203.0.113.20:3340 for
     * this organization, 2 clients (2 udp, 0 tcp)", or "relay service: not relaying: why".
     */
    static String relayServiceLine(NodeStatus.RelayService relay) {
        if ("relaying".equals(relay.state())) {
            return "relay service: relaying at " + relay.address() + " for this organization, " + relay.clients()
                    + (relay.clients() == 1 ? " client" : " clients") + " (" + relay.udpClients() + " udp, "
                    + relay.tcpClients() + " tcp)\n";
        }
        return "relay service: not relaying (" + relay.state() + "): " + relay.detail() + "\n";
    }

    /**
     * Subnet routes and exit nodes in plain lines: what this node advertises and what control approved, how it
     * forwards, the exit node in use, and per route of the peer map the router in use or why it is not taken.
     */
    static String routeLines(NodeStatus.Routes routes) {
        StringBuilder text = new StringBuilder();
        if (!routes.advertised().isEmpty()) {
            text.append("advertising: ").append(String.join(", ", routes.advertised()));
            if (routes.approved() == null) {
                text.append(" (control has not answered yet)");
            } else {
                text.append("; approved: ").append(routes.approved().isEmpty() ? "none"
                        : String.join(", ", routes.approved()));
                if (!routes.pending().isEmpty()) {
                    text.append("; waiting for approval: ").append(String.join(", ", routes.pending()));
                }
                if (!routes.primary().isEmpty()) {
                    text.append("; primary router for ").append(String.join(", ", routes.primary()));
                }
            }
            text.append('\n');
        }
        if (routes.forwarding() != null) {
            text.append("forwarding: ").append(routes.forwarding()).append('\n');
        }
        if (routes.exitNode() != null) {
            text.append("exit node: ").append(routes.exitNode()).append('\n');
        } else if (routes.exitNote() != null) {
            text.append("exit node: none (").append(routes.exitNote()).append(")\n");
        }
        for (NodeStatus.Route route : routes.routes()) {
            text.append("route ").append(route.prefix()).append(" via ").append(route.router());
            if (route.skipped() != null) {
                text.append(": not used, ").append(route.skipped());
            }
            text.append('\n');
        }
        return text.toString();
    }

    /** The human view: a header line for this node, then one aligned row per peer. */
    static String render(NodeStatus status, Instant now) {
        StringBuilder text = new StringBuilder();
        NodeStatus.Self self = status.self();
        text.append(self.hostname()).append("  ").append(String.join(", ", self.overlayIps()))
                .append("  id ").append(self.id());
        Object classic = self.nat() == null ? null : self.nat().get("classic");
        text.append("  NAT: ").append(classic == null ? "not probed yet" : classic).append('\n');
        if (self.overlay() != null) {
            text.append("overlay: ").append(self.overlay()).append('\n');
        }
        if (self.homeRelay() != null) {
            text.append("home relay: ").append(homeRelay(self.homeRelay())).append('\n');
        }
        if (self.portMapping() != null) {
            text.append("port mapping: ").append(portMapping(self.portMapping(), now)).append('\n');
        }
        if (self.control() != null && !self.control().equals("connected")) {
            text.append("control: ").append(self.control()).append('\n');
        }
        if (status.dns() != null) {
            text.append(dnsLine(status.dns()));
        }
        if (status.relayService() != null) {
            text.append(relayServiceLine(status.relayService()));
        }
        if (status.routes() != null) {
            text.append(routeLines(status.routes()));
        }
        if (status.peers().isEmpty()) {
            return text.append("no peers yet\n").toString();
        }
        // A TAGS column only when some peer has tags (docs/api.md, "Security groups").
        boolean tags = status.peers().stream().anyMatch(peer -> !peer.tags().isEmpty());
        List<String[]> rows = new ArrayList<>();
        rows.add(tags ? new String[] {"PEER", "TAGS", "OVERLAY IP", "PATH", "LATENCY", "HANDSHAKE", "RX", "TX", "WHY"}
                : new String[] {"PEER", "OVERLAY IP", "PATH", "LATENCY", "HANDSHAKE", "RX", "TX", "WHY"});
        for (NodeStatus.Peer peer : status.peers()) {
            String[] row = new String[] {
                peer.hostname(),
                peer.overlayIps().isEmpty() ? "-" : peer.overlayIps().get(0),
                path(peer),
                peer.latencyMs() == null ? "-" : String.format("%.1f ms", peer.latencyMs()),
                ago(peer.lastHandshake(), now),
                bytes(peer.rxBytes()),
                bytes(peer.txBytes()),
                peer.reason() == null ? "" : peer.reason()
            };
            if (tags) {
                String[] tagged = new String[row.length + 1];
                tagged[0] = row[0];
                tagged[1] = peer.tags().isEmpty() ? "-" : String.join(",", peer.tags());
                System.arraycopy(row, 1, tagged, 2, row.length - 1);
                row = tagged;
            }
            rows.add(row);
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length - 1; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 2) + "s", row[i]));
            }
            text.append(line.toString().stripTrailing()).append('\n');
        }
        text.append(triedLines(status.peers()));
        return text.toString();
    }

    /** Below the table, for each peer not direct: what was tried for a direct path and why it failed. */
    static String triedLines(List<NodeStatus.Peer> peers) {
        StringBuilder text = new StringBuilder();
        for (NodeStatus.Peer peer : peers) {
            if (peer.tried().isEmpty() || peer.path().equals("direct")) {
                continue;
            }
            text.append("tried for ").append(peer.hostname()).append(":\n");
            peer.tried().forEach(line -> text.append("  ").append(line).append('\n'));
        }
        return text.toString();
    }

    /** "relay-eu 12.3 ms (udp); others: relay-us 96.0 ms", latency and transport as far as known. */
    static String homeRelay(NodeStatus.HomeRelay home) {
        StringBuilder text = new StringBuilder(String.valueOf(home.name()));
        List<String> details = new ArrayList<>();
        if (home.latencyMs() != null) {
            details.add(String.format(java.util.Locale.ROOT, "%.1f ms", home.latencyMs()));
        }
        if (home.transport() != null) {
            details.add(home.transport());
        } else {
            details.add("connecting");
        }
        text.append(" (").append(String.join(", ", details)).append(')');
        if (home.latencies() != null) {
            List<String> others = new ArrayList<>();
            home.latencies().forEach((name, millis) -> {
                if (!name.equals(home.name()) && millis != null) {
                    others.add(String.format(java.util.Locale.ROOT, "%s %.1f ms", name, millis));
                }
            });
            if (!others.isEmpty()) {
                text.append("; others: ").append(String.join(", ", others));
            }
        }
        return text.toString();
    }

    /** "PCP 192.0.3.201:51820 via gateway 10.1.0.1, expires in 1h59m". */
    static String portMapping(NodeStatus.PortMapping mapping, Instant now) {
        String protocol = switch (String.valueOf(mapping.protocol())) {
            case "pcp" -> "PCP";
            case "nat-pmp" -> "NAT-PMP";
            case "upnp" -> "UPnP-IGD";
            default -> String.valueOf(mapping.protocol());
        };
        String expires;
        try {
            long seconds = Math.max(0, Duration.between(now, Instant.parse(mapping.expires())).toSeconds());
            expires = seconds >= 3600 ? seconds / 3600 + "h" + (seconds % 3600) / 60 + "m"
                    : seconds >= 120 ? seconds / 60 + "m" : seconds + "s";
        } catch (DateTimeParseException | NullPointerException e) {
            expires = String.valueOf(mapping.expires());
        }
        return protocol + " " + mapping.external() + " via gateway " + mapping.gateway() + ", expires in " + expires;
    }

    private static String path(NodeStatus.Peer peer) {
        return switch (peer.path()) {
            case "direct" -> "direct " + peer.endpoint();
            case "relay" -> "relay " + peer.relay() + " (" + peer.transport() + ")";
            default -> "none";
        };
    }

    private static String ago(String isoTime, Instant now) {
        if (isoTime == null) {
            return "never";
        }
        try {
            Duration age = Duration.between(Instant.parse(isoTime), now);
            long seconds = Math.max(0, age.toSeconds());
            return seconds < 120 ? seconds + "s ago" : seconds / 60 + "m ago";
        } catch (DateTimeParseException e) {
            return isoTime;
        }
    }

    static String bytes(long count) {
        if (count < 1024) {
            return count + " B";
        }
        String units = "KMGTPE";
        int exponent = (int) (Math.log(count) / Math.log(1024));
        return String.format("%.1f %siB", count / Math.pow(1024, exponent), units.charAt(exponent - 1));
    }
}
