package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.cli.ControlCommand;
import io.meshwork.node.cli.NodeUpCommand;
import io.meshwork.node.cli.StatusCommand;
import io.meshwork.tests.lab.Coturn;
import io.meshwork.tests.lab.ExecResult;
import io.meshwork.tests.lab.Host;
import io.meshwork.tests.lab.Lab;
import io.meshwork.tests.lab.LabAssumptions;
import io.meshwork.tests.lab.LabProcess;
import io.meshwork.tests.lab.NatKind;
import io.meshwork.tests.lab.Site;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A mesh from the real pieces: control (embedded H2) and coturn on the lab internet, nodes behind
 * endpoint-independent NATs and two on one LAN, each running {@code meshwork node up}. Every pair must reach the
 * other over the overlay on a direct WireGuard path. Prints the time from start to the first reply per pair.
 */
class MeshLabTest {

    private static final String ADMIN = "mwa.mesh-lab";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void nodesBehindEndpointIndependentNatsAndOnOneLanReachEachOtherDirectly() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("turnserver", "curl");
        try (Lab lab = Lab.create("mwmesh")) {
            Host server = lab.publicHost("ctl", "203.0.113.10", "203.0.113.11");
            Site home = lab.site("home", NatKind.ENDPOINT_INDEPENDENT);
            Site office = lab.site("office", NatKind.ENDPOINT_INDEPENDENT);
            Host laptop = home.host("laptop");
            Host desktop = home.host("desktop");
            Host workstation = office.host("ws");
            Coturn.start(server, 3478, "203.0.113.10", "203.0.113.11");

            Path config = lab.directory().resolve("control.conf");
            Files.writeString(config, "meshwork.control.admin-token = \"" + ADMIN + "\"\n"
                    + "meshwork.control.stun-servers = [\"203.0.113.10:3478\", \"203.0.113.11:3478\"]\n"
                    + "meshwork.control.stream-coalesce-window = 100ms\n");
            LabProcess control = server.java(ControlCommand.class, "--config", config.toString(),
                    "--http", "203.0.113.10:8080", "--data", lab.directory().resolve("control").toString());
            control.awaitOutput(Pattern.compile("listening on"), Duration.ofSeconds(90));

            String organization = curl(server, "POST", "/api/v1/organizations", "{\"name\":\"lab\"}").get("id").asText();
            String key = curl(server, "POST", "/api/v1/organizations/" + organization + "/keys",
                    "{\"reusable\":true}").get("key").asText();

            long started = System.nanoTime();
            List<Host> nodes = List.of(laptop, desktop, workstation);
            for (int i = 0; i < nodes.size(); i++) {
                Host node = nodes.get(i);
                LabProcess agent = node.java(NodeUpCommand.class, "--control", "http://203.0.113.10:8080",
                        "--key", key, "--state", state(lab, node).toString(), "--ifname", "mwmesh" + i,
                        "--hostname", node.name(), "--probe-interval", "PT5S");
                agent.awaitOutput(Pattern.compile("up as"), Duration.ofSeconds(90));
            }
            for (Host from : nodes) {
                for (Host to : nodes) {
                    if (from == to) {
                        continue;
                    }
                    String overlay = overlayOf(lab, to);
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    boolean reached = false;
                    while (!reached && System.nanoTime() < deadline) {
                        reached = from.ping(overlay, 1);
                    }
                    System.out.printf("mesh lab: %s -> %s (%s) %s after %.1f s%n", from.name(), to.name(), overlay,
                            reached ? "answered" : "NO ANSWER", (System.nanoTime() - started) / 1e9);
                    if (!reached) {
                        for (int i = 0; i < nodes.size(); i++) {
                            System.out.println(nodes.get(i).name() + ": "
                                    + nodes.get(i).exec("wg", "show", "mwmesh" + i, "dump").stdout());
                        }
                        System.out.println("devices: " + curl(server, "GET", "/api/v1/organizations/" + organization
                                + "/devices", "").toString());
                        System.out.println("conntrack home: " + home.gateway().exec("conntrack", "-L").stdout());
                    }
                    assertTrue(reached, from.name() + " cannot reach " + to.name() + " at " + overlay);
                }
            }
            for (Host node : nodes) {
                ExecResult status = node.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                        "--state", state(lab, node).toString(), "--json");
                assertEquals(0, status.exitCode(), status.describe());
                JsonNode peers = JSON.readTree(status.stdout()).get("peers");
                assertEquals(2, peers.size(), status.stdout());
                for (JsonNode peer : peers) {
                    assertEquals("direct", peer.get("path").asText(), node.name() + ": " + peer);
                }
            }
        }
    }

    private static Path state(Lab lab, Host host) {
        return lab.directory().resolve("state-" + host.name());
    }

    private static String overlayOf(Lab lab, Host host) throws Exception {
        JsonNode identity = JSON.readTree(state(lab, host).resolve("identity.json").toFile());
        return identity.at("/registration/overlayIps/0").asText();
    }

    private static JsonNode curl(Host host, String method, String path, String body) throws Exception {
        ExecResult result = body.isEmpty()
                ? host.exec("curl", "-sS", "-f", "-H", "Authorization: Bearer " + ADMIN, "http://203.0.113.10:8080" + path)
                : host.exec("curl", "-sS", "-f", "-X", method, "-H", "Authorization: Bearer " + ADMIN,
                        "-d", body, "http://203.0.113.10:8080" + path);
        assertEquals(0, result.exitCode(), result.describe());
        return JSON.readTree(result.stdout());
    }
}
