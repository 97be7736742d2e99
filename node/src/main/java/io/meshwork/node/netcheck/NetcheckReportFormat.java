package io.meshwork.node.netcheck;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshwork.node.portmap.PortMapProbe;
import io.meshwork.node.relay.HomeRelays;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.nat.NatReport;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.portmap.PortMapProtocol;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Renders a {@link NetcheckResult} for people (aligned text) and for scripts (a JSON document whose
 * field names and value spellings are stable: mapping and filtering as the enum names of
 * {@code MappingBehavior}/{@code FilteringBehavior}, classic as the lower-case RFC 3489 name, addresses
 * as {@code ip:port} with IPv6 in brackets, unknown booleans as null).
 */
public final class NetcheckReportFormat {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private NetcheckReportFormat() {
    }

    public static String address(InetSocketAddress address) {
        return IpLiteral.format(address);
    }

    public static String json(NetcheckResult result) {
        return write(tree(result));
    }

    /**
     * The report with what the default gateway answered of the port-mapping protocols
     * (docs/architecture.md, "Port mapping"): {@code portMapping} holds the gateway (null without a default route),
     * a boolean per protocol ({@code pcp}, {@code natPmp}, {@code upnp}) and the external address NAT-PMP named (or
     * null). It is not part of the NAT report a node sends control.
     */
    public static String json(NetcheckResult result, Optional<PortMapProbe.Answers> portMapping) {
        ObjectNode root = tree(result);
        ObjectNode mapping = root.putObject("portMapping");
        PortMapProbe.Answers answers = portMapping.orElse(null);
        mapping.put("gateway", answers == null ? null : answers.gateway().getHostAddress());
        mapping.put("pcp", answers != null && answers.answered().contains(PortMapProtocol.PCP));
        mapping.put("natPmp", answers != null && answers.answered().contains(PortMapProtocol.NAT_PMP));
        mapping.put("upnp", answers != null && answers.answered().contains(PortMapProtocol.UPNP));
        mapping.put("externalAddress", answers == null || answers.externalAddress() == null ? null
                : answers.externalAddress().getHostAddress());
        return write(root);
    }

    /** The readable report with a line saying which port-mapping protocols the default gateway answered. */
    public static String text(NetcheckResult result, Optional<PortMapProbe.Answers> portMapping) {
        String report = text(result);
        String line;
        if (portMapping.isEmpty()) {
            line = "no default gateway to ask";
        } else {
            PortMapProbe.Answers answers = portMapping.get();
            line = "gateway " + answers.gateway().getHostAddress() + (answers.answered().isEmpty()
                    ? " answers none of PCP, NAT-PMP, UPnP-IGD"
                    : " answers " + answers.answered().stream().map(PortMapProtocol::displayName)
                            .collect(Collectors.joining(", "))
                            + (answers.externalAddress() == null ? ""
                                    : " (external address " + answers.externalAddress().getHostAddress() + ")"));
        }
        StringBuilder out = new StringBuilder();
        line(out, "Port mapping", line);
        int servers = report.indexOf("Servers:\n");
        return report.substring(0, servers) + out + report.substring(servers);
    }

    /**
     * The readable relay section (docs/cli.md, "netcheck"): every relay control listed with its measured round trip,
     * the one this node would make its home marked; empty when no relay is known.
     */
    public static String relaysText(List<RelayInfo> relays, Map<String, Duration> latencies) {
        if (relays.isEmpty()) {
            return "";
        }
        String home = HomeRelays.wouldBeHome(relays, latencies).orElse(null);
        int width = relays.stream().mapToInt(relay -> String.valueOf(relay.name()).length()).max().orElse(0);
        StringBuilder out = new StringBuilder("Relays:\n");
        for (RelayInfo relay : relays) {
            Duration latency = latencies.get(relay.name());
            out.append("  ").append(String.format(Locale.ROOT, "%-" + width + "s  ", relay.name()))
                    .append(latency == null ? "no answer" : HomeRelays.millis(latency))
                    .append(relay.region() == null ? "" : "  " + relay.region())
                    .append(relay.name().equals(home) ? "  (home)" : "").append('\n');
        }
        return out.toString();
    }

    /**
     * The JSON report with {@code relays}: {@code [{name, region, latencyMs, home}]} ({@code latencyMs} null for a
     * relay that did not answer; {@code home} true for the one this node would make its home).
     */
    public static String json(String report, List<RelayInfo> relays, Map<String, Duration> latencies) {
        if (relays.isEmpty()) {
            return report;
        }
        ObjectNode root;
        try {
            root = (ObjectNode) JSON.readTree(report);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the report was written here", e);
        }
        String home = HomeRelays.wouldBeHome(relays, latencies).orElse(null);
        ArrayNode list = root.putArray("relays");
        for (RelayInfo relay : relays) {
            ObjectNode entry = list.addObject();
            entry.put("name", relay.name());
            entry.put("region", relay.region());
            Duration latency = latencies.get(relay.name());
            if (latency == null) {
                entry.putNull("latencyMs");
            } else {
                entry.put("latencyMs", latency.toNanos() / 1e6);
            }
            entry.put("home", relay.name().equals(home));
        }
        return write(root);
    }

    private static String write(ObjectNode root) {
        try {
            return JSON.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values always serialises", e);
        }
    }

    private static ObjectNode tree(NetcheckResult result) {
        NatReport report = result.report();
        ObjectNode root = JSON.createObjectNode();
        root.put("udp", report.udpReachable());
        ArrayNode endpoints = root.putArray("publicEndpoints");
        report.publicEndpoints().forEach(endpoint -> endpoints.add(address(endpoint)));
        root.put("mapping", report.mapping().name());
        root.put("filtering", report.filtering().name());
        putOptional(root, "portPreserving", report.portPreserving());
        putOptional(root, "hairpin", report.hairpin());
        root.put("noNat", report.noNat());
        root.put("classic", report.classic().displayName());
        ArrayNode local = root.putArray("localEndpoints");
        result.localEndpoints().forEach(endpoint -> local.add(address(endpoint)));
        ArrayNode servers = root.putArray("servers");
        for (ServerProbe probe : result.servers()) {
            ObjectNode server = servers.addObject();
            server.put("server", address(probe.server()));
            server.put("answered", probe.mapped().isPresent());
            server.put("mapped", probe.mapped().map(NetcheckReportFormat::address).orElse(null));
            server.put("otherAddress", probe.otherAddress().map(NetcheckReportFormat::address).orElse(null));
            if (probe.roundTrip().isPresent()) {
                server.put("rttMillis", probe.roundTrip().get().toNanos() / 1e6);
            } else {
                server.putNull("rttMillis");
            }
        }
        root.put("elapsedMillis", result.elapsed().toMillis());
        return root;
    }

    private static void putOptional(ObjectNode node, String field, Optional<Boolean> value) {
        if (value.isPresent()) {
            node.put(field, value.get());
        } else {
            node.putNull(field);
        }
    }

    public static String text(NetcheckResult result) {
        NatReport report = result.report();
        StringBuilder out = new StringBuilder();
        line(out, "UDP", report.udpReachable() ? "reachable" : "blocked: no STUN server answered");
        line(out, "Public endpoints", list(report.publicEndpoints()));
        line(out, "Local endpoints", list(result.localEndpoints()));
        line(out, "NAT", report.noNat() ? "none (" + report.classic().displayName() + ")" : report.classic().displayName());
        line(out, "Mapping", words(report.mapping().name()));
        line(out, "Filtering", words(report.filtering().name()));
        line(out, "Port preserving", yesNo(report.portPreserving()));
        line(out, "Hairpin", yesNo(report.hairpin()));
        out.append("Servers:\n");
        for (ServerProbe probe : result.servers()) {
            out.append("  ").append(address(probe.server())).append("  ");
            if (probe.mapped().isEmpty()) {
                out.append("no answer\n");
                continue;
            }
            out.append("sees ").append(address(probe.mapped().get()));
            probe.roundTrip().ifPresent(rtt -> out.append(String.format(Locale.ROOT, ", %.1f ms", rtt.toNanos() / 1e6)));
            out.append(probe.otherAddress().map(other -> ", RFC 5780 alternate " + address(other))
                    .orElse(", no alternate address")).append('\n');
        }
        out.append(String.format(Locale.ROOT, "Probed in %.1f s%n", result.elapsed().toMillis() / 1000.0));
        return out.toString();
    }

    private static void line(StringBuilder out, String label, String value) {
        out.append(String.format(Locale.ROOT, "%-17s %s%n", label + ":", value));
    }

    private static String list(List<InetSocketAddress> addresses) {
        return addresses.isEmpty() ? "none"
                : addresses.stream().map(NetcheckReportFormat::address).collect(Collectors.joining(", "));
    }

    private static String words(String enumName) {
        return enumName.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static String yesNo(Optional<Boolean> value) {
        return value.map(yes -> yes ? "yes" : "no").orElse("unknown");
    }
}
