package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.meshwork.node.cli.NodeUpCommand;
import io.meshwork.node.cli.StatusCommand;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A deployment as a new user makes it: control with no STUN servers configured, a relay enrolled with
 * {@code --stun IP1,IP2}, and an organization on its own prefix ({@code 10.77.0.0/16}). One node sits behind two
 * endpoint-independent NATs (a carrier-grade NAT and a home router), the other behind one. Both classify their NATs
 * with the relay's STUN server, their interfaces carry the organization's /16 (not the host's 10/8 LANs), and the
 * double-NAT node goes direct with the cone peer through its STUN-reflexive endpoint. Control speaks HTTPS with a
 * self-signed certificate the nodes pin; a node given a pin that is not control's refuses to join and says why.
 */
class DiscoveryLabTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void relayStunAndTheOrganizationsPrefixReachNodesAndDoubleNatGoesDirect() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl");
        try (Lab lab = Lab.create("mwdisc")) {
            LabMesh mesh = LabMesh.start(lab, "10.77.0.0/16");
            Site home = lab.site("home", NatKind.ENDPOINT_INDEPENDENT);
            Site carrier = lab.site("isp", NatKind.ENDPOINT_INDEPENDENT);
            Site flat = lab.siteBehind(carrier, "flat", NatKind.ENDPOINT_INDEPENDENT);
            Host cone = home.host("cone");
            Host cgnat = flat.host("cgnat");
            List<Host> nodes = List.of(cone, cgnat);
            for (int i = 0; i < nodes.size(); i++) {
                mesh.startNode(nodes.get(i), "mwdisc" + i, Duration.ofSeconds(5));
            }
            for (Host node : nodes) {
                String overlay = mesh.overlayOf(node);
                assertTrue(overlay.startsWith("10.77."), overlay);
                ExecResult address = node.exec("ip", "-4", "-o", "addr", "show", "dev", "mwdisc" + nodes.indexOf(node));
                System.out.print("discovery lab: " + node.name() + "$ ip -4 -o addr show\n" + address.stdout());
                assertTrue(address.stdout().contains(overlay + "/16"), address.describe());
            }
            assertTrue(cone.pingWithin(mesh.overlayOf(cgnat), Duration.ofSeconds(60)), "cone reaches cgnat");
            assertTrue(cgnat.pingWithin(mesh.overlayOf(cone), Duration.ofSeconds(60)), "cgnat reaches cone");

            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            boolean direct = false;
            JsonNode last = null;
            while (!direct && System.nanoTime() < deadline) {
                cgnat.ping(mesh.overlayOf(cone), 1);
                direct = true;
                for (Host node : nodes) {
                    last = status(mesh, node);
                    direct &= last.at("/peers/0/path").asText().equals("direct");
                }
            }
            for (Host node : nodes) {
                JsonNode status = status(mesh, node);
                System.out.printf("discovery lab: %s NAT %s, sees %s via %s (%s)%n", node.name(),
                        status.at("/self/nat/classic").asText(), status.at("/peers/0/hostname").asText(),
                        status.at("/peers/0/path").asText(), status.at("/peers/0/reason").asText());
                assertEquals("ENDPOINT_INDEPENDENT", status.at("/self/nat/mapping").asText(),
                        node.name() + " classified its NAT with the relay's STUN server: " + status);
            }
            assertTrue(direct, "the double-NAT node and the cone node go direct: " + last);

            // The same join with a pin that is not control's: the node refuses to talk and says why.
            Host misled = home.host("misled");
            ExecResult refused = misled.javaExec(Duration.ofSeconds(90), NodeUpCommand.class.getName(),
                    "--control", LabMesh.CONTROL_URL, "--control-pin", "sha256:" + "ab".repeat(32),
                    "--key", mesh.registrationKey(), "--state", mesh.state(misled).toString(),
                    "--ifname", "mwdisc9", "--hostname", "misled");
            System.out.println("discovery lab: node up with a wrong pin: exit " + refused.exitCode() + ": "
                    + (refused.stdout() + refused.stderr()).strip().lines().reduce((first, next) -> next).orElse(""));
            assertTrue(refused.exitCode() != 0, refused.describe());
            assertTrue((refused.stdout() + refused.stderr()).contains("does not match --control-pin"),
                    refused.describe());
            assertTrue(!java.nio.file.Files.exists(mesh.state(misled).resolve("identity.json")),
                    "nothing was registered over the unpinned connection");
        }
    }

    private static JsonNode status(LabMesh mesh, Host node) throws Exception {
        ExecResult status = node.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                "--state", mesh.state(node).toString(), "--json");
        assertEquals(0, status.exitCode(), status.describe());
        return JSON.readTree(status.stdout());
    }
}
