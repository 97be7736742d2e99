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
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * meshwork itself on a lab: control (embedded H2, HTTPS with a self-signed certificate that the relay and every
 * node trust by its pin, as {@code meshwork control --tls-self-signed} prints it) on {@value #CONTROL_IP}:8080
 * and a relay with an RFC 5780 STUN
 * server on {@value #CONTROL_IP} and {@value #SECOND_IP}, both on one public host, an organization with a reusable
 * registration key, and {@code meshwork node up} on any host. Each process runs in its own JVM in its namespace.
 * Control is configured as a new deployment would be: no STUN servers of its own, so nodes learn the relay's.
 */
public final class LabMesh {

    public static final String CONTROL_IP = "203.0.113.10";
    public static final String SECOND_IP = "203.0.113.11";
    /** The hub's IPv6 address with {@link #startWithIpv6}. */
    public static final String CONTROL_IPV6 = "2001:db8::10";
    public static final String ADMIN_TOKEN = "mwa.lab-mesh";
    /** Control's API: HTTPS only. */
    public static final String CONTROL_URL = "https://" + CONTROL_IP + ":8080";
    private static final Pattern PIN = Pattern.compile("certificate pin (sha256:[0-9a-f]{64})");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Lab lab;
    private final Host hub;
    private final String organizationId;
    private final String registrationKey;
    private final String controlPin;
    private final LabProcess hubRelay;

    private LabMesh(Lab lab, Host hub, String organizationId, String registrationKey, String controlPin,
            LabProcess hubRelay) {
        this.lab = lab;
        this.hubRelay = hubRelay;
        this.hub = hub;
        this.organizationId = organizationId;
        this.registrationKey = registrationKey;
        this.controlPin = controlPin;
    }

    /** Makes the public host, starts control and the relay on it, and creates an organization and a key. */
    public static LabMesh start(Lab lab) {
        return start(lab, null);
    }

    /**
     * Like {@link #start(Lab)}, with the hub also on the lab's IPv6 internet at {@value #CONTROL_IPV6} and the relay
     * answering STUN there too ({@code --stun6}), so nodes on {@link Lab.Ipv6#ROUTED} sites learn their IPv6
     * reflexive endpoints.
     */
    public static LabMesh startWithIpv6(Lab lab) {
        return start(lab, null, true);
    }

    /** Like {@link #start(Lab)}, with an organization on {@code ipv4Cidr} (null: control's default). */
    public static LabMesh start(Lab lab, String ipv4Cidr) {
        return start(lab, ipv4Cidr, false);
    }

    private static LabMesh start(Lab lab, String ipv4Cidr, boolean ipv6) {
        Host hub = lab.publicHost("hub", CONTROL_IP, SECOND_IP);
        if (ipv6) {
            lab.addIpv6(hub, CONTROL_IPV6);
        }
        Path config = lab.directory().resolve("control.conf");
        try {
            Files.writeString(config, "meshwork.control.admin-token = \"" + ADMIN_TOKEN + "\"\n"
                    + "meshwork.control.stream-coalesce-window = 100ms\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String pin = hub.java(ControlCommand.class, "--config", config.toString(), "--http", CONTROL_IP + ":8080",
                        "--data", lab.directory().resolve("control").toString(), "--tls-self-signed")
                .awaitOutput(PIN, Duration.ofSeconds(120)).group(1);
        String relayToken = api(lab, hub, "POST", "/api/v1/relays/tokens", "{\"name\":\"hub\"}").get("token").asText();
        List<String> relayArgs = new ArrayList<>(List.of("--control", CONTROL_URL, "--control-pin", pin, "--token",
                relayToken, "--udp", CONTROL_IP + ":3340", "--tcp", CONTROL_IP + ":3340", "--stun",
                CONTROL_IP + "," + SECOND_IP));
        if (ipv6) {
            relayArgs.addAll(List.of("--stun6", CONTROL_IPV6));
        }
        LabProcess relay = hub.java(RelayCommand.class, relayArgs.toArray(String[]::new));
        relay.awaitOutput(Pattern.compile("relay ready"), Duration.ofSeconds(60));
        String organization = api(lab, hub, "POST", "/api/v1/organizations", ipv4Cidr == null ? "{\"name\":\"lab\"}"
                : "{\"name\":\"lab\",\"ipv4Cidr\":\"" + ipv4Cidr + "\"}").get("id").asText();
        JsonNode created = api(lab, hub, "POST", "/api/v1/organizations/" + organization + "/keys",
                "{\"reusable\":true}");
        if (!pin.equals(created.path("controlPin").asText())) {
            throw new LabException("control printed the pin " + pin + " but answered a key with "
                    + created.path("controlPin"));
        }
        return new LabMesh(lab, hub, organization, created.get("key").asText(), pin, relay);
    }

    /** The pin of control's self-signed certificate, {@code sha256:<hex>}, as control printed it. */
    public String controlPin() {
        return controlPin;
    }

    /** Control's certificate (PEM), for {@code curl --cacert} on the hub. */
    public static Path controlCertificate(Lab lab) {
        return lab.directory().resolve("control").resolve("control-tls-cert.pem");
    }

    /** The organization's reusable registration key. */
    public String registrationKey() {
        return registrationKey;
    }

    public Host hub() {
        return hub;
    }

    /** The relay on the hub, named "hub" at control. */
    public LabProcess hubRelay() {
        return hubRelay;
    }

    /**
     * Starts another relay on a new public host {@code name} at {@code ip}, enrolled with control as {@code name}
     * (UDP and TCP on port 3340; it answers STUN on its UDP port), and waits until it is ready. Nodes that register
     * after it is up get it in their relay list; running ones with the peer stream's next "relays" event.
     */
    public LabProcess startRelay(String name, String ip) {
        Host host = lab.publicHost(name, ip);
        String token = api("POST", "/api/v1/relays/tokens", "{\"name\":\"" + name + "\"}").get("token").asText();
        LabProcess relay = host.java(RelayCommand.class, "--control", CONTROL_URL, "--control-pin", controlPin,
                "--token", token, "--udp", ip + ":3340", "--tcp", ip + ":3340");
        relay.awaitOutput(Pattern.compile("relay ready"), Duration.ofSeconds(60));
        return relay;
    }

    public String organizationId() {
        return organizationId;
    }

    /** Runs {@code meshwork node up} on {@code host} and waits until it is up. */
    public LabProcess startNode(Host host, String interfaceName, Duration probeInterval) {
        return startNode(host, interfaceName, probeInterval, new String[0]);
    }

    /** Like {@link #startNode(Host, String, Duration)}, registering with {@code key} (see {@link #createKey}). */
    public LabProcess startNodeWithKey(Host host, String interfaceName, Duration probeInterval, String key,
            String... options) {
        return launchNode(host, interfaceName, probeInterval, key, options);
    }

    /** Like {@link #startNode(Host, String, Duration)}, with more options of {@code node up} ({@code --dns off}). */
    public LabProcess startNode(Host host, String interfaceName, Duration probeInterval, String... options) {
        return launchNode(host, interfaceName, probeInterval, registrationKey, options);
    }

    private LabProcess launchNode(Host host, String interfaceName, Duration probeInterval, String key,
            String[] options) {
        List<String> args = new ArrayList<>(List.of("--control", CONTROL_URL, "--control-pin", controlPin,
                "--key", key,
                "--state", state(host).toString(), "--ifname", interfaceName, "--hostname", host.name(),
                "--probe-interval", probeInterval.toString()));
        args.addAll(List.of(options));
        LabProcess agent = host.java(NodeUpCommand.class, args.toArray(String[]::new));
        agent.awaitOutput(Pattern.compile("up as"), Duration.ofSeconds(120));
        return agent;
    }

    /** The node's state directory; its local control socket is there too. */
    public Path state(Host host) {
        return lab.directory().resolve("state-" + host.name());
    }

    /** A new reusable registration key of the organization that stamps {@code tags} on the devices it registers. */
    public String createKey(String... tags) {
        StringBuilder body = new StringBuilder("{\"reusable\":true,\"tags\":[");
        for (int i = 0; i < tags.length; i++) {
            body.append(i == 0 ? "" : ",").append('"').append(tags[i]).append('"');
        }
        return api("POST", "/api/v1/organizations/" + organizationId + "/keys", body.append("]}").toString())
                .get("key").asText();
    }

    /** The node's device id, as control assigned it (security groups name devices by id, never by hostname). */
    public String deviceIdOf(Host host) {
        try {
            return JSON.readTree(state(host).resolve("identity.json").toFile()).at("/registration/id").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        return api(lab, hub, method, path, body);
    }

    /** curl checks control's certificate against the self-signed certificate itself (its SAN has the address). */
    private static JsonNode api(Lab lab, Host hub, String method, String path, String body) {
        String certificate = controlCertificate(lab).toString();
        ExecResult result = body == null
                ? hub.exec("curl", "-sS", "-f", "--cacert", certificate, "-H", "Authorization: Bearer " + ADMIN_TOKEN,
                        CONTROL_URL + path)
                : hub.exec("curl", "-sS", "-f", "--cacert", certificate, "-X", method, "-H",
                        "Authorization: Bearer " + ADMIN_TOKEN, "-d", body, CONTROL_URL + path);
        result.orThrow();
        try {
            return JSON.readTree(result.stdout());
        } catch (IOException e) {
            throw new LabException("control API " + path + " answered no JSON: " + result.stdout(), e);
        }
    }
}
