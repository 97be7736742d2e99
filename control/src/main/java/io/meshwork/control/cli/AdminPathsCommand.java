package io.meshwork.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code meshwork admin paths ORG}: the paths the organization's devices last reported
 * ({@code GET /api/v1/organizations/{id}/paths}) as a table, one row per device and peer, hostnames from the device
 * listing; {@code --json} prints the API's answer as it is.
 */
@Command(name = "paths", mixinStandardHelpOptions = true,
        description = {"Show how each device of an organization reaches each peer, as its node last reported it:",
            "path (direct, relay or none), latency, relay, and why (the same the console's map draws)."})
final class AdminPathsCommand implements java.util.concurrent.Callable<Integer> {

    /** Reasons are cut to this many characters in the table. */
    private static final int REASON_WIDTH = 60;

    @ParentCommand
    AdminCommand admin;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ORG", description = "The organization's id.")
    String organization;

    @Option(names = "--json", description = "Print the API's answer as JSON instead of a table.")
    boolean json;

    @Override
    public Integer call() {
        String base = "/api/v1/organizations/" + AdminCommand.segment(organization);
        if (json) {
            return admin.call(spec, "GET", base + "/paths", null);
        }
        Map<String, String> hostnames = new HashMap<>();
        int listed = admin.call(spec, "GET", base + "/devices?limit=1000", null, false, page -> {
            for (JsonNode device : page.path("devices")) {
                hostnames.put(device.path("id").asText(), device.path("hostname").asText());
            }
        });
        if (listed != 0) {
            return listed;
        }
        return admin.call(spec, "GET", base + "/paths", null, false,
                paths -> print(spec.commandLine().getOut(), paths, hostnames));
    }

    /** One row per device and peer: DEVICE, PEER, PATH, LATENCY, RELAY, WHY. */
    static void print(PrintWriter out, JsonNode paths, Map<String, String> hostnames) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"DEVICE", "PEER", "PATH", "LATENCY", "RELAY", "WHY"});
        for (JsonNode device : paths.path("devices")) {
            String from = hostnames.getOrDefault(device.path("deviceId").asText(), device.path("deviceId").asText());
            for (JsonNode peer : device.path("peers")) {
                // Nodes write the reasons and relay names: no control characters reach the terminal.
                String reason = printable(peer.path("reason").asText(""));
                rows.add(new String[] {from,
                        hostnames.getOrDefault(peer.path("peerId").asText(), peer.path("peerId").asText()),
                        peer.path("path").asText(),
                        peer.hasNonNull("latencyMillis")
                                ? String.format(Locale.ROOT, "%.1f ms", peer.path("latencyMillis").asDouble()) : "-",
                        peer.hasNonNull("relay") ? printable(peer.path("relay").asText()) : "-",
                        reason.length() <= REASON_WIDTH ? reason : reason.substring(0, REASON_WIDTH - 1) + "…"});
            }
        }
        if (rows.size() == 1) {
            out.println("no device of this organization has reported its paths");
            out.flush();
            return;
        }
        int[] widths = new int[6];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }

    private static String printable(String text) {
        return text.replaceAll("\\p{Cntrl}", "?");
    }
}
