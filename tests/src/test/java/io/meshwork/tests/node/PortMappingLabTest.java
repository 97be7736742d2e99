package io.meshwork.tests.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.NatKind;
import io.meshwork.lab.PortMappingGateway;
import io.meshwork.lab.Site;
import io.meshwork.node.cli.NetcheckCommand;
import io.meshwork.node.cli.NodeDownCommand;
import io.meshwork.node.local.LocalApiClient;
import io.meshwork.node.local.NodeStatus;
import io.meshwork.node.portmap.PortMapClientCommand;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Port mapping against the real miniupnpd (docs/architecture.md, "Port mapping"): nodes behind symmetric
 * ({@code --random-fully}) gateways running miniupnpd with NAT-PMP, PCP and UPnP IGD. Without a mapping such a node
 * stays relayed with everyone but nodes behind open NATs (NatPolicy; the simulation's grid); with it, it goes direct
 * with nodes behind endpoint-independent NATs and with a node behind another such gateway, on the endpoint its
 * mapping gave it.
 */
class PortMappingLabTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void nodesBehindSymmetricGatewaysGoDirectThroughTheirPortMappings() throws Exception {
        assumeLab();
        try (Lab lab = Lab.create("mwpm")) {
            LabMesh mesh = LabMesh.start(lab);
            Site mappedA = lab.portMappingSite("pma", NatKind.SYMMETRIC);
            PortMappingGateway gatewayA = PortMappingGateway.start(lab, mappedA);
            Site mappedB = lab.portMappingSite("pmb", NatKind.SYMMETRIC);
            PortMappingGateway.start(lab, mappedB);
            Site open = lab.site("eim", NatKind.ENDPOINT_INDEPENDENT);
            Host alpha = mappedA.host("alpha");
            Host bravo = mappedB.host("bravo");
            Host charlie = open.host("charlie");

            // The gateway is symmetric for a socket nobody mapped, and answers all three protocols.
            ExecResult netcheck = alpha.javaExec(Duration.ofSeconds(90), NetcheckCommand.class,
                    "--stun", LabMesh.CONTROL_IP + ":3478", "--json");
            assertEquals(0, netcheck.exitCode(), netcheck.describe());
            JsonNode report = JSON.readTree(netcheck.stdout());
            assertEquals("ADDRESS_AND_PORT_DEPENDENT", report.get("mapping").asText(), netcheck.stdout());
            assertEquals(mappedA.lanCidr().replace("0.0/24", "0.1"), report.at("/portMapping/gateway").asText());
            assertTrue(report.at("/portMapping/pcp").asBoolean(), netcheck.stdout());
            assertTrue(report.at("/portMapping/natPmp").asBoolean(), netcheck.stdout());
            assertTrue(report.at("/portMapping/upnp").asBoolean(), netcheck.stdout());
            assertEquals(mappedA.publicAddress(), report.at("/portMapping/externalAddress").asText());

            // Each protocol client maps a port and deletes it again.
            LabProcess client = alpha.java(PortMapClientCommand.class, "--port", "40001", "--hold", "PT15S");
            client.awaitOutput(Pattern.compile("mapped upnp |no mapping upnp"), Duration.ofSeconds(60));
            String output = client.output();
            for (String protocol : List.of("pcp", "nat-pmp", "upnp")) {
                assertTrue(output.contains("mapped " + protocol + " " + mappedA.publicAddress() + ":"), output);
            }
            String held = gatewayA.rules();
            for (int port = 40001; port <= 40003; port++) {
                assertTrue(held.contains("--dport " + port + " -j DNAT"), "a DNAT rule for " + port + ":\n" + held);
            }
            assertEquals(0, client.awaitExit(Duration.ofSeconds(60)), client.output());
            String released = gatewayA.rules();
            for (int port = 40001; port <= 40003; port++) {
                assertFalse(released.contains("--dport " + port + " "), "deleted " + port + ":\n" + released);
            }

            List<Host> hosts = List.of(alpha, bravo, charlie);
            CompletableFuture.allOf(hosts.stream().map(host -> CompletableFuture.runAsync(() ->
                    mesh.startNode(host, "mwpm" + host.name().charAt(0), Duration.ofSeconds(30))))
                    .toArray(CompletableFuture[]::new)).join();
            Map<String, Path> states = Map.of("alpha", mesh.state(alpha), "bravo", mesh.state(bravo),
                    "charlie", mesh.state(charlie));
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < deadline && !allDirect(states)) {
                Thread.sleep(250);
            }
            for (Map.Entry<String, Path> state : states.entrySet()) {
                System.out.println("port mapping lab: " + state.getKey() + ": " + describe(state.getValue()));
            }
            NodeStatus a = status(states.get("alpha"));
            NodeStatus b = status(states.get("bravo"));
            NodeStatus c = status(states.get("charlie"));
            NodeStatus.PortMapping mappingA = a.self().portMapping();
            NodeStatus.PortMapping mappingB = b.self().portMapping();
            assertNotNull(mappingA, "alpha holds a port mapping");
            assertNotNull(mappingB, "bravo holds a port mapping");
            assertEquals("pcp", mappingA.protocol(), "PCP is asked first and miniupnpd speaks it");
            assertTrue(mappingA.external().startsWith(mappedA.publicAddress() + ":"), mappingA.external());

            // Every pair is direct, and where alpha or bravo is the far end, on the endpoint of its mapping.
            assertDirect(c, "alpha", mappingA.external());
            assertDirect(b, "alpha", mappingA.external());
            assertDirect(a, "bravo", mappingB.external());
            assertDirect(c, "bravo", mappingB.external());
            assertDirect(a, "charlie", null);
            assertDirect(b, "charlie", null);

            // Control has the mapping as alpha's "portmap" endpoint, and no STUN endpoint with that address (a relay
            // that alpha's socket reaches after the mapping was made sees it too: the mapping, seen from outside).
            JsonNode device = mesh.api("GET", "/api/v1/devices/" + a.self().id(), null);
            List<String> withMappedAddress = new ArrayList<>();
            device.get("endpoints").forEach(endpoint -> {
                if (endpoint.get("address").asText().equals(mappingA.external())) {
                    withMappedAddress.add(endpoint.get("source").asText());
                }
            });
            assertTrue(withMappedAddress.contains("portmap"), device.toString());
            assertFalse(withMappedAddress.contains("stun"), device.toString());

            // node down deletes the mapping on the gateway.
            String port = mappingA.external().substring(mappingA.external().lastIndexOf(':') + 1);
            assertTrue(gatewayA.rules().contains("--dport " + port + " -j DNAT"), gatewayA.rules());
            ExecResult down = alpha.javaExec(Duration.ofSeconds(60), NodeDownCommand.class,
                    "--state", states.get("alpha").toString());
            assertEquals(0, down.exitCode(), down.describe());
            long stopDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < stopDeadline && gatewayA.rules().contains("--dport " + port + " ")) {
                Thread.sleep(200);
            }
            assertFalse(gatewayA.rules().contains("--dport " + port + " "), "node down deleted the mapping:\n"
                    + gatewayA.rules());
        }
    }

    /**
     * Time from both nodes up to both sides direct, for a node behind a port-mapping symmetric gateway and a node
     * behind an endpoint-independent NAT; {@code -Dmeshwork.portmap.runs} runs (1 in the test suite; 5 for the
     * number in docs/performance.md), each with new sites,
     * a new miniupnpd and new nodes. Printed with the median; asserted only to happen.
     */
    @Test
    void printsTimeToDirectThroughAPortMapping() throws Exception {
        assumeLab();
        int runs = Integer.getInteger("meshwork.portmap.runs", 1);
        try (Lab lab = Lab.create("mwpmt")) {
            LabMesh mesh = LabMesh.start(lab);
            List<Long> millis = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                int number = run;
                Site mapped = lab.portMappingSite("pm" + run, NatKind.SYMMETRIC);
                PortMappingGateway.start(lab, mapped);
                Host left = mapped.host("mapped" + run);
                Host right = lab.site("eim" + run, NatKind.ENDPOINT_INDEPENDENT).host("open" + run);
                List<LabProcess> agents = java.util.Collections.synchronizedList(new ArrayList<>());
                CompletableFuture<Void> leftUp = CompletableFuture.runAsync(
                        () -> agents.add(mesh.startNode(left, "mwpl" + number, Duration.ofSeconds(30))));
                CompletableFuture<Void> rightUp = CompletableFuture.runAsync(
                        () -> agents.add(mesh.startNode(right, "mwpr" + number, Duration.ofSeconds(30))));
                CompletableFuture.allOf(leftUp, rightUp).join();
                long bothUp = System.nanoTime();
                Path leftState = mesh.state(left);
                Path rightState = mesh.state(right);
                long direct = -1;
                long deadline = bothUp + Duration.ofSeconds(60).toNanos();
                while (System.nanoTime() < deadline && direct < 0) {
                    if (pathTo(leftState, right.name()).equals("direct") && pathTo(rightState, left.name())
                            .equals("direct")) {
                        direct = System.nanoTime();
                    }
                    Thread.sleep(20);
                }
                String mappingSeen = String.valueOf(status(leftState).self().portMapping());
                String leftId = status(leftState).self().id();
                String rightId = status(rightState).self().id();
                System.out.printf(Locale.ROOT, "port mapping timing: run %d: direct %s after both nodes were up (%s)%n",
                        run + 1, direct < 0 ? "never" : (direct - bothUp) / 1_000_000 + " ms", mappingSeen);
                assertTrue(direct > 0, "run " + (run + 1) + " went direct within 60 s: " + describe(leftState));
                millis.add((direct - bothUp) / 1_000_000);
                agents.forEach(LabProcess::stop);
                mesh.api("POST", "/api/v1/devices/" + leftId + "/revoke", "{}");
                mesh.api("POST", "/api/v1/devices/" + rightId + "/revoke", "{}");
            }
            List<Long> sorted = millis.stream().sorted().toList();
            System.out.printf(Locale.ROOT, "port mapping timing: time to direct p50 %d ms over %d runs %s%n",
                    sorted.get((sorted.size() - 1) / 2), sorted.size(), millis);
        }
    }

    private static void assumeLab() {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl", "miniupnpd", "iptables-legacy");
    }

    private static boolean allDirect(Map<String, Path> states) {
        for (Path state : states.values()) {
            try {
                NodeStatus status = new LocalApiClient(state).status();
                if (status.peers().size() < states.size() - 1
                        || !status.peers().stream().allMatch(peer -> peer.path().equals("direct"))) {
                    return false;
                }
            } catch (LocalApiClient.LocalApiException e) {
                return false;
            }
        }
        return true;
    }

    private static void assertDirect(NodeStatus viewer, String peer, String endpoint) {
        NodeStatus.Peer row = viewer.peers().stream().filter(p -> p.hostname().equals(peer)).findFirst()
                .orElseThrow(() -> new AssertionError(viewer.self().hostname() + " has no peer " + peer));
        assertEquals("direct", row.path(), viewer.self().hostname() + " -> " + peer + ": " + row.reason());
        if (endpoint != null) {
            assertEquals(endpoint, row.endpoint(), viewer.self().hostname() + " -> " + peer + ": " + row.reason());
        }
    }

    private static String pathTo(Path state, String hostname) {
        try {
            return new LocalApiClient(state).status().peers().stream().filter(p -> p.hostname().equals(hostname))
                    .map(NodeStatus.Peer::path).findFirst().orElse("none");
        } catch (LocalApiClient.LocalApiException e) {
            return "none";
        }
    }

    private static NodeStatus status(Path state) throws Exception {
        return new LocalApiClient(state).status();
    }

    private static String describe(Path state) {
        try {
            NodeStatus status = new LocalApiClient(state).status();
            StringBuilder text = new StringBuilder("mapping ").append(status.self().portMapping());
            for (NodeStatus.Peer peer : status.peers()) {
                text.append("; ").append(peer.hostname()).append(' ').append(peer.path()).append(' ')
                        .append(peer.endpoint()).append(" (").append(peer.reason()).append(')');
            }
            return text.toString();
        } catch (LocalApiClient.LocalApiException e) {
            return "no status: " + e.getMessage();
        }
    }
}
