package io.meshwork.control.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshwork admin dns}: an organization's DNS domain and custom records (docs/cli.md; the API in docs/api.md,
 * "DNS"). Each subcommand is one API call, its JSON answer printed.
 */
@Command(name = "dns", mixinStandardHelpOptions = true,
        description = {"An organization's DNS: its domain (devices are HOSTNAME.DOMAIN) and custom records.",
            "Changes reach every node's resolver on the peer-map stream."})
final class AdminDnsCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ParentCommand
    AdminCommand admin;

    @Spec
    CommandSpec spec;

    @Command(name = "get", description = "Show the domain and every custom record.")
    int get(@Parameters(paramLabel = "ORG") String organization) {
        return admin.call(spec, "GET", base(organization) + "/dns", null);
    }

    @Command(name = "domain", description = "Set the domain (default meshwork.internal), e.g. corp.internal.")
    int domain(@Parameters(paramLabel = "ORG") String organization,
            @Parameters(paramLabel = "DOMAIN") String domain) {
        return admin.call(spec, "PATCH", base(organization), JSON.createObjectNode().put("dnsDomain", domain));
    }

    @Command(name = "records", description = "List the custom records.")
    int records(@Parameters(paramLabel = "ORG") String organization) {
        return admin.call(spec, "GET", base(organization) + "/dns/records", null);
    }

    @Command(name = "add", description = {"Add a record: NAME relative to the domain (www) or absolute under it;",
        "TYPE A, AAAA, CNAME, TXT or SRV; VALUE an address, a target name, a text, or \"PRIO WEIGHT PORT TARGET\"."})
    int add(@Parameters(paramLabel = "ORG") String organization, @Parameters(paramLabel = "NAME") String name,
            @Parameters(paramLabel = "TYPE") String type, @Parameters(paramLabel = "VALUE") String value,
            @Option(names = "--ttl", paramLabel = "SECONDS", description = "TTL (default 60).") Integer ttl) {
        ObjectNode body = JSON.createObjectNode().put("name", name).put("type", type).put("value", value);
        if (ttl != null) {
            body.put("ttl", ttl);
        }
        return admin.call(spec, "POST", base(organization) + "/dns/records", body);
    }

    @Command(name = "delete", description = "Delete the record RECORD (its id), or every record of --name [--type].")
    int delete(@Parameters(paramLabel = "ORG") String organization,
            @Parameters(paramLabel = "RECORD", arity = "0..1") String record,
            @Option(names = "--name", paramLabel = "NAME") String name,
            @Option(names = "--type", paramLabel = "TYPE") String type) {
        if ((record == null) == (name == null)) {
            spec.commandLine().getErr().println("meshwork admin dns delete: give a RECORD id or --name NAME");
            return 2;
        }
        String path = base(organization) + "/dns/records" + (record != null ? "/" + encode(record)
                : "?name=" + encode(name) + (type == null ? "" : "&type=" + encode(type)));
        return admin.call(spec, "DELETE", path, null);
    }

    private static String base(String organization) {
        return "/api/v1/organizations/" + encode(organization);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
