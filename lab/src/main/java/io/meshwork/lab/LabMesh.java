package io.meshwork.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.cli.ControlCommand;
import io.meshwork.node.cli.NodeUpCommand;
import io.meshwork.relay.cli.RelayCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * meshwork itself on a lab: control (embedded H2) on {@value #CONTROL_IP}:8080 and a relay with an RFC 5780 STUN
 * server on {@value #CONTROL_IP} and {@value #SECOND_IP}, both on one public host, an organization with a reusable
 * registration key, and {@code meshwork node up} on any host. Each process runs in its own JVM in its namespace.
 * Control is configured as a new deployment would be: no STUN servers of its own, so nodes learn the relay's.
 */
public final class LabMesh {

    public static final String CONTROL_IP = "203.0.113.10";
    public static final String SECOND_IP = "203.0.113.11";
    public static final String ADMIN_TOKEN = "mwa.lab-mesh";
    private static final String CONTROL_URL = "http://" + CONTROL_IP + ":8080";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Lab lab;
    private final Host hub;
    private final String organizationId;
    private final String registrationKey;

    private LabMesh(Lab lab, Host hub, String organizationId, String registrationKey) {
        this.lab = lab;
        this.hub = hub;
        this.organizationId = organizationId;
        this.registrationKey = registrationKey;
    }

    /** Makes the public host, starts control and the relay on it, and creates an organization and a key. */
    public static LabMesh start(Lab lab) {
        return start(lab, null);
    }

    /** Like {@link #start(Lab)}, with an organization on {@code ipv4Cidr} (null: control's default). */
    public static LabMesh start(Lab lab, String ipv4Cidr) {
        Host hub = lab.publicHost("hub", CONTROL_IP, SECOND_IP);
        Path config = lab.directory().resolve("control.conf");
        try {
            Files.writeString(config, "meshwork.control.admin-token = \"" + ADMIN_TOKEN + "\"\n"
                    + "meshwork.control.stream-coalesce-window = 100ms\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        hub.java(ControlCommand.class, "--config", config.toString(), "--http", CONTROL_IP + ":8080",
                        "--data", lab.directory().resolve("control").toString())
                .awaitOutput(Pattern.compile("listening on"), Duration.ofSeconds(120));
        String relayToken = api(hub, "POST", "/api/v1/relays/tokens", "{\"name\":\"hub\"}").get("token").asText();
        hub.java(RelayCommand.class, "--control", CONTROL_URL, "--token", relayToken,
                        "--udp", CONTROL_IP + ":3340", "--tcp", CONTROL_IP + ":3340", "--stun", CONTROL_IP + "," + SECOND_IP)
                .awaitOutput(Pattern.compile("relay ready"), Duration.ofSeconds(60));
        String organization = api(hub, "POST", "/api/v1/organizations", ipv4Cidr == null ? "{\"name\":\"lab\"}"
                : "{\"name\":\"lab\",\"ipv4Cidr\":\"" + ipv4Cidr + "\"}").get("id").asText();
        String key = api(hub, "POST", "/api/v1/organizations/" + organization + "/keys", "{\"reusable\":true}")
                .get("key").asText();
        return new LabMesh(lab, hub, organization, key);
    }

    /** The organization's reusable registration key. */
    public String registrationKey() {
        return registrationKey;
    }

    public Host hub() {
        return hub;
    }

    public String organizationId() {
        return organizationId;
    }

    /** Runs {@code meshwork node up} on {@code host} and waits until it is up. */
    public LabProcess startNode(Host host, String interfaceName, Duration probeInterval) {
        LabProcess agent = host.java(NodeUpCommand.class, "--control", CONTROL_URL, "--key", registrationKey,
                "--state", state(host).toString(), "--ifname", interfaceName, "--hostname", host.name(),
                "--probe-interval", probeInterval.toString());
        agent.awaitOutput(Pattern.compile("up as"), Duration.ofSeconds(120));
        return agent;
    }

    /** The node's state directory; its local control socket is there too. */
    public Path state(Host host) {
        return lab.directory().resolve("state-" + host.name());
    }

    /** The node's overlay IPv4 address, as control assigned it. */
    public String overlayOf(Host host) {
        try {
            return JSON.readTree(state(host).resolve("identity.json").toFile()).at("/registration/overlayIps/0").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Calls the admin API from the hub (the lab's addresses are only reachable inside its namespaces). */
    public JsonNode api(String method, String path, String body) {
        return api(hub, method, path, body);
    }

    private static JsonNode api(Host hub, String method, String path, String body) {
        ExecResult result = body == null
                ? hub.exec("curl", "-sS", "-f", "-H", "Authorization: Bearer " + ADMIN_TOKEN, CONTROL_URL + path)
                : hub.exec("curl", "-sS", "-f", "-X", method, "-H", "Authorization: Bearer " + ADMIN_TOKEN, "-d", body,
                        CONTROL_URL + path);
        result.orThrow();
        try {
            return JSON.readTree(result.stdout());
        } catch (IOException e) {
            throw new LabException("control API " + path + " answered no JSON: " + result.stdout(), e);
        }
    }
}
