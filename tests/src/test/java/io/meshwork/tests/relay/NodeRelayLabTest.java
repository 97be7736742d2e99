package io.meshwork.tests.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.Site;
import io.meshwork.node.cli.NodeDownCommand;
import io.meshwork.node.cli.StatusCommand;
import io.meshwork.protocol.relay.RelayKeyPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A node of the organization as its relay (docs/operations.md, "A node as a relay"): the standalone relay is taken out
 * of the relay list, a node on a public address runs {@code node up --relay}, says plainly that it does not relay
 * until an administrator allows it, then relays for its organization: a node behind a symmetric NAT and one whose
 * gateway drops UDP reach each other only through it. A node of another organization is not handed it, and when it
 * tries the relay anyway with its own device certificate it is refused ({@code OTHER_ORGANIZATION}) and nothing it
 * sends passes. {@code node down} withdraws the relay from the list.
 */
class NodeRelayLabTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EDGE_IP = "203.0.113.30";
    private static final String EDGE_RELAY = EDGE_IP + ":3340";

    private static JsonNode status(LabMesh mesh, Host host) throws Exception {
        ExecResult status = host.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                "--state", mesh.state(host).toString(), "--json");
        assertEquals(0, status.exitCode(), status.describe());
        return JSON.readTree(status.stdout());
    }

    private static JsonNode awaitStatus(LabMesh mesh, Host host, Predicate<JsonNode> condition, Duration patience,
            String what) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        JsonNode last;
        do {
            last = status(mesh, host);
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(host.name() + " never: " + what + "; last status " + last);
    }

    private static JsonNode identity(LabMesh mesh, Host host) throws Exception {
        return JSON.readTree(mesh.state(host).resolve("identity.json").toFile());
    }

    private static JsonNode peer(JsonNode status, String hostname) {
        for (JsonNode peer : status.get("peers")) {
            if (peer.get("hostname").asText().equals(hostname)) {
                return peer;
            }
        }
        throw new AssertionError("no peer " + hostname + " in " + status);
    }

    private static JsonNode relayOfDevice(LabMesh mesh, String deviceId) {
        for (JsonNode relay : mesh.api("GET", "/api/v1/relays", null)) {
            if (deviceId.equals(relay.path("deviceId").asText(null))) {
                return relay;
            }
        }
        return null;
    }

    @Test
    void aNodeRelaysARelayedPairOfItsOrganizationAndRefusesAnotherOrganizationsNode() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl");
        try (Lab lab = Lab.create("mwnrly")) {
            LabMesh mesh = LabMesh.start(lab);
            // The organization's only relay is to be its node: the standalone relay leaves the list.
            for (JsonNode relay : mesh.api("GET", "/api/v1/relays", null)) {
                mesh.api("DELETE", "/api/v1/relays/" + relay.get("id").asText(), "{}");
            }
            assertEquals(0, mesh.api("GET", "/api/v1/relays", null).size());

            Host edge = lab.publicHost("edge", EDGE_IP);
            long started = System.nanoTime();
            mesh.startNode(edge, "mwnrly0", Duration.ofSeconds(5), "--relay", "--relay-public-address", EDGE_IP);
            String edgeId = mesh.deviceIdOf(edge);
            JsonNode refused = awaitStatus(mesh, edge, s -> s.path("relayService").path("state").asText()
                    .equals("not allowed"), Duration.ofSeconds(60), "say it may not relay");
            System.out.println("node relay lab: before relayAllowed: " + refused.get("relayService"));
            assertTrue(refused.get("relayService").get("detail").asText().contains("relayAllowed"),
                    refused.toString());
            ExecResult plain = edge.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                    "--state", mesh.state(edge).toString());
            System.out.print("node relay lab: edge$ meshwork status\n" + plain.stdout());
            assertTrue(plain.stdout().contains("relay service: not relaying (not allowed)"), plain.stdout());

            mesh.api("PATCH", "/api/v1/devices/" + edgeId, "{\"relayAllowed\":true}");
            JsonNode relaying = awaitStatus(mesh, edge, s -> s.path("relayService").path("state").asText()
                    .equals("relaying"), Duration.ofSeconds(60), "relay once allowed");
            System.out.printf("node relay lab: edge relaying %.1f s after node up: %s%n",
                    (System.nanoTime() - started) / 1e9, relaying.get("relayService"));
            assertEquals(EDGE_RELAY, relaying.get("relayService").get("address").asText());
            JsonNode listed = relayOfDevice(mesh, edgeId);
            assertEquals(mesh.organizationId(), listed.get("organizationId").asText(), listed.toString());
            assertEquals(EDGE_RELAY, listed.get("udp").asText());

            // A relayed pair of the organization: symmetric NAT and no UDP at all.
            Site cafe = lab.site("cafe", NatKind.SYMMETRIC);
            Site guest = lab.site("guest", NatKind.UDP_BLOCKED);
            Host phone = cafe.host("phone");
            Host kiosk = guest.host("kiosk");
            mesh.startNode(phone, "mwnrly1", Duration.ofSeconds(5));
            mesh.startNode(kiosk, "mwnrly2", Duration.ofSeconds(5));
            long pairStarted = System.nanoTime();
            boolean there = phone.pingWithin(mesh.overlayOf(kiosk), Duration.ofSeconds(90));
            System.out.printf("node relay lab: phone -> kiosk %s after %.1f s%n", there ? "answered" : "NO ANSWER",
                    (System.nanoTime() - pairStarted) / 1e9);
            assertTrue(there, "phone reaches kiosk through edge's relay");
            assertTrue(kiosk.pingWithin(mesh.overlayOf(phone), Duration.ofSeconds(30)), "kiosk reaches phone");
            JsonNode phoneSees = peer(status(mesh, phone), "kiosk");
            JsonNode kioskSees = peer(status(mesh, kiosk), "phone");
            System.out.println("node relay lab: phone sees kiosk " + phoneSees);
            System.out.println("node relay lab: kiosk sees phone " + kioskSees);
            assertEquals("relay", phoneSees.get("path").asText(), phoneSees.toString());
            assertEquals("edge", phoneSees.get("relay").asText(), "the organization's only relay is its node");
            assertEquals("relay", kioskSees.get("path").asText(), kioskSees.toString());
            assertEquals("tcp", kioskSees.get("transport").asText(), "UDP is blocked at the kiosk's site");
            JsonNode carrying = awaitStatus(mesh, edge, s -> s.path("relayService").path("clients").asInt() >= 2,
                    Duration.ofSeconds(30), "count the pair among its clients");
            System.out.println("node relay lab: edge " + carrying.get("relayService"));

            // Another organization: its node is not handed the relay, and is refused when it tries it anyway.
            String other = mesh.api("POST", "/api/v1/organizations", "{\"name\":\"other\"}").get("id").asText();
            String otherKey = mesh.api("POST", "/api/v1/organizations/" + other + "/keys", "{\"reusable\":true}")
                    .get("key").asText();
            Site elsewhere = lab.site("elsewhere", NatKind.ENDPOINT_INDEPENDENT);
            Host intruder = elsewhere.host("intruder");
            mesh.startNodeWithKey(intruder, "mwnrly3", Duration.ofSeconds(5), otherKey);
            JsonNode intruderIdentity = identity(mesh, intruder);
            assertFalse(intruderIdentity.at("/registration/relays").toString().contains(EDGE_IP),
                    "another organization's devices are not handed the node's relay: "
                            + intruderIdentity.at("/registration/relays"));
            Path key = Files.writeString(lab.directory().resolve("intruder.key"),
                    intruderIdentity.get("privateKey").asText());
            Path certificate = Files.writeString(lab.directory().resolve("intruder.pem"),
                    intruderIdentity.at("/registration/certificate").asText());
            String phoneKey = RelayKeyPair.fromPrivateKey(Base64.getDecoder().decode(
                    identity(mesh, phone).get("privateKey").asText())).publicKey().toBase64();
            ExecResult attempt = intruder.javaExec(Duration.ofSeconds(60), RelayPeerCommand.class.getName(),
                    "--relay", EDGE_RELAY, "--key", key.toString(), "--cert", certificate.toString(),
                    "--peer", phoneKey, "--expect", "1", "--timeout", "12");
            System.out.println("node relay lab: intruder$ relay-peer --relay " + EDGE_RELAY + "\n" + attempt.stdout());
            assertNotEquals(0, attempt.exitCode(), attempt.describe());
            assertFalse(attempt.stdout().contains("connected transport="), attempt.stdout());
            assertTrue(attempt.stdout().contains("OTHER_ORGANIZATION"), attempt.stdout());

            // node down withdraws the relay from the organization's list.
            ExecResult down = edge.javaExec(Duration.ofSeconds(60), NodeDownCommand.class.getName(),
                    "--state", mesh.state(edge).toString());
            assertEquals(0, down.exitCode(), down.describe());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (relayOfDevice(mesh, edgeId) != null && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            assertEquals(null, relayOfDevice(mesh, edgeId), "node down withdrew the relay");
            System.out.println("node relay lab: node down withdrew edge's relay");
        }
    }
}
