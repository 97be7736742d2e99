package io.meshwork.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshwork admin routes}: subnet routes and exit nodes (docs/cli.md, "Subnet routers and exit nodes"; the API
 * in docs/api.md, "Subnet routes and exit nodes"): list what devices advertise, approve and reject it, and set which
 * tags' devices have their routes approved without an administrator.
 */
@Command(name = "routes", mixinStandardHelpOptions = true,
        description = {"Subnet routes and exit nodes: what devices advertise waits for approval here.",
            "An exit node is approved as 0.0.0.0/0 and ::/0 (or --exit-node)."})
final class AdminRoutesCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ParentCommand
    AdminCommand admin;

    @Spec
    CommandSpec spec;

    @Command(name = "list", description = {"List the devices of ORG that advertise routes: what they advertise,",
        "what is approved and pending, the prefixes each is the primary router of, and whether it is online."})
    int list(@Parameters(paramLabel = "ORG") String organization,
            @Option(names = "--json", description = "Print control's answer as JSON.") boolean json) {
        return admin.call(spec, "GET", "/api/v1/organizations/" + AdminCommand.segment(organization)
                + "/devices?limit=1000", null, json, answer -> {
                    if (!json) {
                        table(answer, spec.commandLine().getOut());
                    }
                });
    }

    /** One block per device with routes; "no device advertises routes" when none does. */
    static void table(JsonNode answer, PrintWriter out) {
        int shown = 0;
        for (JsonNode device : answer.path("devices")) {
            JsonNode routes = device.path("routes");
            if (routes.isMissingNode() || routes.isNull()) {
                continue;
            }
            shown++;
            out.printf("%s  %s  %s%s%n", device.path("hostname").asText(), device.path("id").asText(),
                    routes.path("online").asBoolean() ? "online" : "offline",
                    routes.path("exitNode").asBoolean() ? "  exit node" : "");
            out.printf("  advertised: %s%n", joined(routes.path("advertised")));
            out.printf("  approved:   %s%n", joined(routes.path("approved")));
            out.printf("  pending:    %s%n", joined(routes.path("pending")));
            out.printf("  primary:    %s%n", joined(routes.path("primary")));
        }
        if (shown == 0) {
            out.println("no device advertises routes");
        }
        out.flush();
    }

    private static String joined(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(node -> texts.add(node.asText()));
        return texts.isEmpty() ? "-" : String.join(" ", texts);
    }

    @Command(name = "approve", description = "Approve prefixes DEVICE advertises; they join the peer map.")
    int approve(@Parameters(index = "0", paramLabel = "DEVICE") String device,
            @Parameters(index = "1..*", arity = "0..*", paramLabel = "CIDR") List<String> prefixes,
            @Option(names = "--exit-node", description = "Approve it as an exit node (0.0.0.0/0 and ::/0).")
            boolean exitNode) {
        return review(device, "approve", prefixes, exitNode);
    }

    @Command(name = "reject", description = "Reject prefixes DEVICE advertises; they leave the peer map.")
    int reject(@Parameters(index = "0", paramLabel = "DEVICE") String device,
            @Parameters(index = "1..*", arity = "0..*", paramLabel = "CIDR") List<String> prefixes,
            @Option(names = "--exit-node", description = "Reject it as an exit node (0.0.0.0/0 and ::/0).")
            boolean exitNode) {
        return review(device, "reject", prefixes, exitNode);
    }

    @Command(name = "primary", description = {"Make DEVICE the primary router of approved prefixes it advertises now",
        "(a router that came back does not take its prefixes back by itself)."})
    int primary(@Parameters(index = "0", paramLabel = "DEVICE") String device,
            @Parameters(index = "1..*", arity = "1..*", paramLabel = "CIDR") List<String> prefixes) {
        return review(device, "primary", prefixes, false);
    }

    private int review(String device, String field, List<String> prefixes, boolean exitNode) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode array = body.putArray(field);
        if (prefixes != null) {
            prefixes.forEach(array::add);
        }
        if (exitNode) {
            array.add("0.0.0.0/0").add("::/0");
        }
        if (array.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a CIDR or --exit-node");
        }
        return admin.call(spec, "POST", "/api/v1/devices/" + AdminCommand.segment(device) + "/routes", body);
    }

    @Command(name = "approvers", description = "Show the tags whose devices' routes are approved without an administrator.")
    int approvers(@Parameters(paramLabel = "ORG") String organization) {
        return admin.call(spec, "GET", path(organization), null);
    }

    @Command(name = "auto-approve", description = {"Approve, without an administrator, the routes inside CIDRs of devices",
        "with tag TAG (and exit nodes with --exit-node); with neither, TAG approves nothing any more."})
    int autoApprove(@Parameters(index = "0", paramLabel = "ORG") String organization,
            @Parameters(index = "1", paramLabel = "TAG") String tag,
            @Parameters(index = "2..*", arity = "0..*", paramLabel = "CIDR") List<String> prefixes,
            @Option(names = "--exit-node", description = "Exit nodes too.") boolean exitNode) {
        JsonNode[] current = new JsonNode[1];
        int read = admin.call(spec, "GET", path(organization), null, false, answer -> current[0] = answer);
        if (read != 0) {
            return read;
        }
        ObjectNode body = JSON.createObjectNode();
        ObjectNode tags = body.putObject("tags");
        current[0].path("tags").fields().forEachRemaining(entry -> tags.set(entry.getKey(), entry.getValue()));
        if ((prefixes == null || prefixes.isEmpty()) && !exitNode) {
            tags.remove(tag);
        } else {
            ObjectNode approver = tags.putObject(tag);
            ArrayNode routes = approver.putArray("routes");
            if (prefixes != null) {
                prefixes.forEach(routes::add);
            }
            approver.put("exitNode", exitNode);
        }
        return admin.call(spec, "PUT", path(organization), body);
    }

    private static String path(String organization) {
        return "/api/v1/organizations/" + AdminCommand.segment(organization) + "/route-approvers";
    }
}
