package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.cli.ControlCommand;
import io.meshwork.node.cli.NodeUpCommand;
import io.meshwork.node.cli.StatusCommand;
import io.meshwork.relay.cli.RelayCommand;
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
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A mesh from the real pieces: control (embedded H2) and a relay with its RFC 5780 STUN server on the lab internet;
 * nodes behind endpoint-independent NATs (two on one LAN), behind a symmetric NAT, and behind a gateway that drops
 * UDP, each running {@code meshwork node up}. Every pair must reach the other across the overlay: directly where
 * the NATs allow it, through the relay otherwise (over TCP for the UDP-blocked node). Prints the time from start
 * to the first reply per pair.
 */
class MeshLabTest {

    private static final String ADMIN = "mwa.mesh-lab";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyPairConnectsDirectlyWhereNatsAllowAndThroughTheRelayOtherwise() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl");
        try (Lab lab = Lab.create("mwmesh")) {
            Host server = lab.publicHost("ctl", "203.0.113.10", "203.0.113.11");
            Site home = lab.site("home", NatKind.ENDPOINT_INDEPENDENT);
            Site office = lab.site("office", NatKind.ENDPOINT_INDEPENDENT);
            Site cafe = lab.site("cafe", NatKind.SYMMETRIC);
            Site guest = lab.site("guest", NatKind.UDP_BLOCKED);
            Host laptop = home.host("laptop");
            Host desktop = home.host("desktop");
            Host workstation = office.host("ws");
            Host phone = cafe.host("phone");
            Host kiosk = guest.host("kiosk");

            Path config = lab.directory().resolve("control.conf");
            Files.writeString(config, "meshwork.control.admin-token = \"" + ADMIN + "\"\n"
                    + "meshwork.control.stun-servers = [\"203.0.113.10:3478\", \"203.0.113.11:3478\"]\n"
                    + "meshwork.control.stream-coalesce-window = 100ms\n");
            LabProcess control = server.java(ControlCommand.class, "--config", config.toString(),
                    "--http", "203.0.113.10:8080", "--data", lab.directory().resolve("control").toString());
            control.awaitOutput(Pattern.compile("listening on"), Duration.ofSeconds(90));
            String relayToken = curl(server, "POST", "/api/v1/relays/tokens", "{\"name\":\"hub\"}").get("token").asText();
            server.java(RelayCommand.class, "--control", "http://203.0.113.10:8080", "--token", relayToken,
                    "--udp", "203.0.113.10:3340", "--tcp", "203.0.113.10:3340", "--stun", "203.0.113.10,203.0.113.11")
                    .awaitOutput(Pattern.compile("relay ready"), Duration.ofSeconds(60));

            String organization = curl(server, "POST", "/api/v1/organizations", "{\"name\":\"lab\"}").get("id").asText();
            String key = curl(server, "POST", "/api/v1/organizations/" + organization + "/keys",
                    "{\"reusable\":true}").get("key").asText();

            long started = System.nanoTime();
            List<Host> nodes = List.of(laptop, desktop, workstation, phone, kiosk);
            for (int i = 0; i < nodes.size(); i++) {
                Host node = nodes.get(i);
                node.java(NodeUpCommand.class, "--control", "http://203.0.113.10:8080", "--key", key,
                                "--state", state(lab, node).toString(), "--ifname", "mwmesh" + i,
                                "--hostname", node.name(), "--probe-interval", "PT5S")
                        .awaitOutput(Pattern.compile("up as"), Duration.ofSeconds(90));
            }
            for (Host from : nodes) {
                for (Host to : nodes) {
                    if (from == to) {
                        continue;
                    }
                    String overlay = overlayOf(lab, to);
                    boolean reached = from.pingWithin(overlay, Duration.ofSeconds(60));
                    System.out.printf("mesh lab: %s -> %s (%s) %s after %.1f s%n", from.name(), to.name(), overlay,
                            reached ? "answered" : "NO ANSWER", (System.nanoTime() - started) / 1e9);
                    assertTrue(reached, from.name() + " cannot reach " + to.name() + " at " + overlay);
                }
            }
            Map<String, String> expectedDirect = Map.of("laptop", "desktop ws", "desktop", "laptop ws",
                    "ws", "laptop desktop", "phone", "", "kiosk", "");
            for (Host node : nodes) {
                ExecResult status = node.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                        "--state", state(lab, node).toString(), "--json");
                assertEquals(0, status.exitCode(), status.describe());
                JsonNode peers = JSON.readTree(status.stdout()).get("peers");
                assertEquals(4, peers.size(), status.stdout());
                for (JsonNode peer : peers) {
                    String peerName = peer.get("hostname").asText();
                    boolean direct = expectedDirect.get(node.name()).contains(peerName);
                    System.out.printf("mesh lab: %s sees %s via %s %s (%s)%n", node.name(), peerName,
                            peer.get("path").asText(), peer.get("transport").asText(), peer.get("reason").asText());
                    assertEquals(direct ? "direct" : "relay", peer.get("path").asText(), node.name() + ": " + peer);
                    if (node == kiosk) {
                        assertEquals("tcp", peer.get("transport").asText(), "UDP is blocked at the kiosk's site");
                    }
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
        ExecResult result = host.exec("curl", "-sS", "-f", "-X", method, "-H", "Authorization: Bearer " + ADMIN,
                "-d", body, "http://203.0.113.10:8080" + path);
        assertEquals(0, result.exitCode(), result.describe());
        return JSON.readTree(result.stdout());
    }
}
