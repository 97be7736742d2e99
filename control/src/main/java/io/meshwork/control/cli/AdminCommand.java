package io.meshwork.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshwork.protocol.tls.CertificatePin;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code meshwork admin}: the admin API from the command line (organizations, registration keys, devices). Prints
 * what control answers as indented JSON; an error answer goes to stderr with its status and message.
 */
@Command(name = "admin", mixinStandardHelpOptions = true,
        description = {"Manage organizations, registration keys and devices through the control plane's admin API.",
            "The admin token comes from --token or MESHWORK_ADMIN_TOKEN; the control URL from --control or "
                    + "MESHWORK_CONTROL_URL (default http://127.0.0.1:8080); control's certificate pin from "
                    + "--control-pin or MESHWORK_CONTROL_PIN (without one, https:// URLs are checked against the "
                    + "JDK's trust store)."},
        subcommands = {AdminCommand.Organizations.class, AdminCommand.Keys.class, AdminCommand.Devices.class,
            AdminDnsCommand.class, AdminUiCommand.class, AdminPathsCommand.class, AdminRoutesCommand.class},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:done", "1:control refused (the message says why)", "2:usage error",
            "3:control unreachable, or its certificate does not match the pin"})
public final class AdminCommand implements Runnable {

    static final int REFUSED = 1;
    static final int UNREACHABLE = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--control", paramLabel = "URL", description = "Control plane URL.")
    String control;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Admin (or organization) API token.")
    String token;

    @Option(names = "--control-pin", paramLabel = "sha256:HEX",
            description = "Trust exactly the control certificate with this pin (env MESHWORK_CONTROL_PIN).")
    String controlPin;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    /** Sends one request and prints the answer; returns the exit code. */
    int call(CommandSpec command, String method, String path, Object body) {
        return call(command, method, path, body, answer -> { });
    }

    /** Like {@link #call(CommandSpec, String, String, Object)}, handing a successful answer to {@code then}. */
    int call(CommandSpec command, String method, String path, Object body,
            java.util.function.Consumer<JsonNode> then) {
        return call(command, method, path, body, true, then);
    }

    /**
     * Sends one request; a successful answer goes to {@code then}, and is printed as indented JSON first when
     * {@code print} (subcommands that print it their own way pass false). Returns the exit code.
     */
    int call(CommandSpec command, String method, String path, Object body, boolean print,
            java.util.function.Consumer<JsonNode> then) {
        String base = baseUrl();
        String secret = token != null ? token : System.getenv("MESHWORK_ADMIN_TOKEN");
        if (secret == null || secret.isBlank()) {
            throw new CommandLine.ParameterException(command.commandLine(),
                    "no admin token: pass --token or set MESHWORK_ADMIN_TOKEN");
        }
        CertificatePin pin = pin(command);
        if (pin != null && !base.regionMatches(true, 0, "https://", 0, "https://".length())) {
            throw new CommandLine.ParameterException(command.commandLine(),
                    "--control-pin needs an https:// control URL, not " + base);
        }
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (pin != null) {
            try {
                client.sslContext(pin.controlContext());
            } catch (GeneralSecurityException e) {
                command.commandLine().getErr().println("meshwork admin: no TLS: " + e.getMessage());
                return UNREACHABLE;
            }
        }
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base.replaceAll("/+$", "") + path))
                    .timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + secret)
                    .header("Content-Type", "application/json");
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            HttpResponse<String> response = client.build()
                    .send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode answer = response.body().isBlank() ? null : JSON.readTree(response.body());
            if (response.statusCode() >= 300) {
                String message = answer != null && answer.hasNonNull("error") ? answer.get("error").asText()
                        : response.body();
                command.commandLine().getErr().println("meshwork admin: " + response.statusCode() + " " + message);
                return REFUSED;
            }
            if (answer != null) {
                if (print) {
                    command.commandLine().getOut().println(JSON.writerWithDefaultPrettyPrinter()
                            .writeValueAsString(answer));
                    command.commandLine().getOut().flush();
                }
                then.accept(answer);
            }
            return 0;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command.commandLine(), "bad control URL " + base + ": "
                    + e.getMessage());
        } catch (IOException e) {
            var mismatch = CertificatePin.mismatchIn(e);
            command.commandLine().getErr().println(mismatch.isPresent()
                    ? "meshwork admin: " + mismatch.get().getMessage() + " (at " + base + ")"
                    : "meshwork admin: cannot reach control at " + base + ": " + e);
            return UNREACHABLE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return UNREACHABLE;
        }
    }

    private String baseUrl() {
        String base = control != null ? control : System.getenv().getOrDefault("MESHWORK_CONTROL_URL",
                "http://127.0.0.1:8080");
        return base.replaceAll("/+$", "");
    }

    /** --control-pin, else MESHWORK_CONTROL_PIN, else null; a malformed one is a usage error. */
    private CertificatePin pin(CommandSpec command) {
        String text = controlPin != null ? controlPin : System.getenv("MESHWORK_CONTROL_PIN");
        if (text == null || (controlPin == null && text.isBlank())) {
            return null;
        }
        try {
            return CertificatePin.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(command.commandLine(), "bad --control-pin: " + e.getMessage());
        }
    }

    /** The line that brings a device up with a new key: control's URL, the key, and the pin when control has one. */
    String nodeUpLine(JsonNode created) {
        String pin = created.path("controlPin").asText("");
        return "meshwork node up --control " + baseUrl() + " --key " + created.path("key").asText()
                + (pin.isEmpty() ? "" : " --control-pin " + pin);
    }

    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Command(name = "orgs", mixinStandardHelpOptions = true, description = "Organizations.")
    static final class Organizations {
        @ParentCommand
        AdminCommand admin;

        @Spec
        CommandSpec spec;

        @Command(name = "create", description = "Create an organization; prints its id and API token.")
        int create(@Parameters(paramLabel = "NAME") String name) {
            ObjectNode body = JSON.createObjectNode().put("name", name);
            return admin.call(spec, "POST", "/api/v1/organizations", body);
        }

        @Command(name = "list", description = "List organizations (the admin token sees all).")
        int list(@Option(names = "--name", paramLabel = "TEXT", description = "Only names containing TEXT.")
                String name) {
            return admin.call(spec, "GET", "/api/v1/organizations"
                    + (name == null ? "" : "?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8)), null);
        }

        @Command(name = "get", description = "Show one organization.")
        int get(@Parameters(paramLabel = "ORG") String organization) {
            return admin.call(spec, "GET", "/api/v1/organizations/" + segment(organization), null);
        }

        @Command(name = "delete", description = "Delete an organization with all its devices.")
        int delete(@Parameters(paramLabel = "ORG") String organization) {
            return admin.call(spec, "DELETE", "/api/v1/organizations/" + segment(organization), null);
        }
    }

    @Command(name = "keys", mixinStandardHelpOptions = true, description = "Registration keys of an organization.")
    static final class Keys {
        @ParentCommand
        AdminCommand admin;

        @Spec
        CommandSpec spec;

        @Command(name = "create", description = {"Create a registration key; prints it (shown only this once).",
            "Also prints, on stderr, the `meshwork node up --control URL --key KEY [--control-pin sha256:HEX]` line."})
        int create(@Parameters(paramLabel = "ORG") String organization,
                @Option(names = "--reusable", description = "Usable by many devices (default: single use).")
                boolean reusable,
                @Option(names = "--expires-in", paramLabel = "SECONDS", description = "Lifetime in seconds.")
                Long expiresIn,
                @Option(names = "--approval", description = "Devices it registers wait for `devices approve`.")
                boolean approval,
                @Option(names = "--tag", paramLabel = "TAG",
                        description = "A tag for every device it registers (repeatable).")
                java.util.List<String> tags,
                @Option(names = "--auto-approve-routes", paramLabel = "CIDR", split = ",",
                        description = "Approve the routes its devices advertise inside these prefixes.")
                java.util.List<String> autoApproveRoutes,
                @Option(names = "--auto-approve-exit-node", description = "Approve its devices as exit nodes.")
                boolean autoApproveExitNode) {
            ObjectNode body = JSON.createObjectNode().put("reusable", reusable).put("approvalRequired", approval);
            if (autoApproveRoutes != null || autoApproveExitNode) {
                ObjectNode approve = body.putObject("autoApproveRoutes");
                var routes = approve.putArray("routes");
                if (autoApproveRoutes != null) {
                    autoApproveRoutes.forEach(routes::add);
                }
                approve.put("exitNode", autoApproveExitNode);
            }
            if (tags != null) {
                tags.forEach(body.putArray("tags")::add);
            }
            if (expiresIn != null) {
                body.put("expiresInSeconds", expiresIn);
            }
            // The JSON on stdout stays parseable; the ready command line goes to stderr.
            return admin.call(spec, "POST", "/api/v1/organizations/" + segment(organization) + "/keys", body,
                    created -> {
                        if (created.hasNonNull("key")) {
                            spec.commandLine().getErr().println("On the device: " + admin.nodeUpLine(created));
                        }
                    });
        }

        @Command(name = "list", description = "List an organization's keys (secrets are never shown again).")
        int list(@Parameters(paramLabel = "ORG") String organization) {
            return admin.call(spec, "GET", "/api/v1/organizations/" + segment(organization) + "/keys", null);
        }

        @Command(name = "revoke", description = "Revoke a key; devices it registered stay.")
        int revoke(@Parameters(paramLabel = "ORG") String organization, @Parameters(paramLabel = "KEY_ID") String key) {
            return admin.call(spec, "DELETE", "/api/v1/organizations/" + segment(organization) + "/keys/"
                    + segment(key), null);
        }
    }

    @Command(name = "devices", mixinStandardHelpOptions = true, description = "Devices.")
    static final class Devices {
        @ParentCommand
        AdminCommand admin;

        @Spec
        CommandSpec spec;

        @Command(name = "list", description = {"List an organization's devices (a device with routes has `routes`:",
            "advertised, approved, pending, the prefixes it is the primary router of, exitNode, online)."})
        int list(@Parameters(paramLabel = "ORG") String organization,
                @Option(names = "--status", paramLabel = "STATUS", description = "Only pending, active or revoked ones.")
                String status) {
            return admin.call(spec, "GET", "/api/v1/organizations/" + segment(organization) + "/devices"
                    + (status == null ? "" : "?status=" + segment(status)), null);
        }

        @Command(name = "approve", description = "Approve a pending device: it joins the peer map.")
        int approve(@Parameters(paramLabel = "DEVICE") String device) {
            return admin.call(spec, "POST", "/api/v1/devices/" + segment(device) + "/approve", null);
        }

        @Command(name = "get", description = "Show one device.")
        int get(@Parameters(paramLabel = "DEVICE") String device) {
            return admin.call(spec, "GET", "/api/v1/devices/" + segment(device), null);
        }

        @Command(name = "tag", description = {"Set a device's tags (all of them: give none to clear them).",
            "Security groups name devices by tag; a device never sets its own."})
        int tag(@Parameters(index = "0", paramLabel = "DEVICE") String device,
                @Parameters(index = "1..*", arity = "0..*", paramLabel = "TAG") java.util.List<String> tags) {
            ObjectNode body = JSON.createObjectNode();
            var array = body.putArray("tags");
            if (tags != null) {
                tags.forEach(array::add);
            }
            return admin.call(spec, "PATCH", "/api/v1/devices/" + segment(device), body);
        }

        @Command(name = "relay", description = {"Allow a device to relay for its organization (on), or withdraw it "
            + "(off).", "An allowed node runs the relay with `meshwork node up --relay`; only its organization "
            + "uses it."})
        int relay(@Parameters(index = "0", paramLabel = "DEVICE") String device,
                @Parameters(index = "1", paramLabel = "on|off") String allowed) {
            if (!allowed.equals("on") && !allowed.equals("off")) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "give on or off, not " + allowed);
            }
            ObjectNode body = JSON.createObjectNode().put("relayAllowed", allowed.equals("on"));
            return admin.call(spec, "PATCH", "/api/v1/devices/" + segment(device), body);
        }

        @Command(name = "peers", description = "List the devices a device may learn under the security groups.")
        int peers(@Parameters(paramLabel = "DEVICE") String device) {
            return admin.call(spec, "GET", "/api/v1/devices/" + segment(device) + "/peers", null);
        }

        @Command(name = "revoke", description = "Revoke a device: its peers drop it and relays refuse it.")
        int revoke(@Parameters(paramLabel = "DEVICE") String device) {
            return admin.call(spec, "POST", "/api/v1/devices/" + segment(device) + "/revoke", null);
        }

        @Command(name = "delete", description = "Delete a device.")
        int delete(@Parameters(paramLabel = "DEVICE") String device) {
            return admin.call(spec, "DELETE", "/api/v1/devices/" + segment(device), null);
        }
    }
}
