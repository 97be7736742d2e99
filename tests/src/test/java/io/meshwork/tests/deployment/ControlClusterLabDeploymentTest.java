package io.meshwork.tests.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.cli.ClusterCertsCommand;
import io.meshwork.control.cli.ControlCommand;
import io.meshwork.lab.CommandMain;
import io.meshwork.lab.ExecResult;
import io.meshwork.lab.Host;
import io.meshwork.lab.Lab;
import io.meshwork.lab.LabAssumptions;
import io.meshwork.lab.LabProcess;
import io.meshwork.lab.NatKind;
import io.meshwork.node.cli.NodeUpCommand;
import io.meshwork.node.cli.StatusCommand;
import io.meshwork.relay.cli.RelayCommand;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * The docker/compose.yaml deployment without Docker: PostgreSQL, three {@code meshwork control} members started
 * from one configuration file (each member's address from the environment, as compose sets it), a relay, and two
 * nodes behind symmetric NATs in network namespaces, which register through different members. Two symmetric
 * NATs leave the relay as the only path, so the nodes reaching each other proves the relay accepts the
 * certificates of devices registered through any member: the cluster has one CA. Then the member one node
 * registered through is killed (SIGKILL): every acknowledged registration is still served by the survivors,
 * new ones are accepted, and the nodes still reach each other.
 *
 * <p>Needs root (namespaces) and the PostgreSQL of bin/test-postgres on 127.0.0.1:5432; skips saying which is
 * missing. The members reach that database, which listens on the machine's loopback, through {@link PostgresBridge}.
 */
@ExtendWith(PostgresTurn.class)
class ControlClusterLabDeploymentTest {

    private static final String ADMIN = "mwa.lab-deployment";
    private static final String PG_URL = System.getenv().getOrDefault("MESHWORK_TEST_PG_URL",
            "jdbc:postgresql://127.0.0.1:5432/meshwork");
    private static final String[] MEMBERS = {"203.0.113.21", "203.0.113.22", "203.0.113.23"};
    private static final String RELAY_IP = "203.0.113.10";
    private static final String RELAY_SECOND_IP = "203.0.113.11";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void nodesRegisteredThroughDifferentMembersMeetThroughTheRelayAndSurviveAKilledMember() throws Exception {
        LabAssumptions.assumeLabAvailable();
        LabAssumptions.assumePrograms("curl", "ping");
        InetSocketAddress postgres = postgresAddress();
        try (Connection connection = DriverManager.getConnection(PG_URL, "meshwork", "meshwork")) {
            Assumptions.assumeTrue(connection.isValid(5), "deployment test skipped: PostgreSQL at " + PG_URL
                    + " does not answer (bin/test-postgres start)");
        } catch (java.sql.SQLException e) {
            Assumptions.abort("deployment test skipped: no PostgreSQL at " + PG_URL + " (bin/test-postgres start): "
                    + e.getMessage());
        }
        long started = System.nanoTime();
        try (Lab lab = Lab.create("mwdep");
                AutoCloseable database = PostgresBridge.unixToTcp(lab.directory().resolve("pg.sock"), postgres)) {
            Host controls = lab.publicHost("ctl", MEMBERS);
            Host edge = lab.publicHost("edge", RELAY_IP, RELAY_SECOND_IP);
            Host phone = lab.site("cafe", NatKind.SYMMETRIC).host("phone");
            Host tablet = lab.site("hotel", NatKind.SYMMETRIC).host("tablet");

            controls.java(PostgresBridge.class, "--listen", "127.0.0.1:5432",
                            "--unix", lab.directory().resolve("pg.sock").toString())
                    .awaitOutput(Pattern.compile("bridging"), Duration.ofSeconds(60));
            Path config = writeConfiguration(lab.directory());
            // As docker/compose.yaml's init service: credentials for the cluster port, one directory per member.
            assertEquals(0, new CommandLine(new ClusterCertsCommand()).execute("--out",
                    lab.directory().resolve("cluster-certs").toString(), "--members", String.valueOf(MEMBERS.length)));
            List<LabProcess> members = new ArrayList<>();
            for (int i = 0; i < MEMBERS.length; i++) {
                members.add(startMember(controls, lab.directory(), config, i));
            }
            for (LabProcess member : members) {
                member.awaitOutput(Pattern.compile("listening on"), Duration.ofSeconds(180));
            }
            for (String member : MEMBERS) {
                awaitReady(edge, member);
            }
            System.out.printf("deployment: cluster of %d members ready after %.1f s%n", MEMBERS.length, since(started));

            String relayToken = api(edge, MEMBERS[0], "POST", "/api/v1/relays/tokens", "{\"name\":\"edge\"}")
                    .get("token").asText();
            edge.java(RelayCommand.class, "--control", url(MEMBERS[0]), "--token", relayToken,
                            "--udp", RELAY_IP + ":3340", "--tcp", RELAY_IP + ":3340", "--stun", RELAY_IP + "," + RELAY_SECOND_IP)
                    .awaitOutput(Pattern.compile("relay ready"), Duration.ofSeconds(60));
            String organization = api(edge, MEMBERS[1], "POST", "/api/v1/organizations", "{\"name\":\"deployed\"}")
                    .get("id").asText();
            String key = api(edge, MEMBERS[2], "POST", "/api/v1/organizations/" + organization + "/keys",
                    "{\"reusable\":true}").get("key").asText();

            // Each node registers through its own member; more devices register through every member.
            startNode(phone, lab.directory(), MEMBERS[1], key, "mwdep0");
            startNode(tablet, lab.directory(), MEMBERS[2], key, "mwdep1");
            Set<String> acknowledged = new HashSet<>();
            acknowledged.add(identity(lab.directory(), phone).at("/registration/id").asText());
            acknowledged.add(identity(lab.directory(), tablet).at("/registration/id").asText());
            for (int i = 0; i < 6; i++) {
                acknowledged.add(register(edge, MEMBERS[i % 3], key, i).get("id").asText());
            }
            System.out.printf("deployment: nodes up after %.1f s%n", since(started));

            // One CA: both nodes were handed the same CA certificate, and it verifies both device certificates.
            JsonNode phoneRegistration = identity(lab.directory(), phone).get("registration");
            JsonNode tabletRegistration = identity(lab.directory(), tablet).get("registration");
            assertEquals(phoneRegistration.get("caCertificate").asText(),
                    tabletRegistration.get("caCertificate").asText(), "members sign with the cluster's one CA");
            X509Certificate ca = certificate(phoneRegistration.get("caCertificate").asText());
            certificate(phoneRegistration.get("certificate").asText()).verify(ca.getPublicKey());
            certificate(tabletRegistration.get("certificate").asText()).verify(ca.getPublicKey());

            String phoneOverlay = phoneRegistration.at("/overlayIps/0").asText();
            String tabletOverlay = tabletRegistration.at("/overlayIps/0").asText();
            assertTrue(phone.pingWithin(tabletOverlay, Duration.ofSeconds(45)), "phone reaches tablet");
            assertTrue(tablet.pingWithin(phoneOverlay, Duration.ofSeconds(20)), "tablet reaches phone");
            assertEquals("relay", pathTo(phone, lab.directory(), "tablet"), "two symmetric NATs leave the relay");
            System.out.printf("deployment: nodes reach each other through the relay after %.1f s%n", since(started));

            // SIGKILL the member the phone registered through: no goodbye, the split-brain resolver downs it.
            LabProcess killed = members.get(1);
            ProcessHandle.of(killed.pid()).ifPresent(ProcessHandle::destroyForcibly);
            killed.awaitExit(Duration.ofSeconds(10));
            long killedAt = System.nanoTime();
            for (String survivor : List.of(MEMBERS[0], MEMBERS[2])) {
                awaitClusterWithout(edge, survivor, MEMBERS[1]);
            }
            System.out.printf("deployment: the resolver removed the killed member after %.1f s%n", since(killedAt));

            for (String survivor : List.of(MEMBERS[0], MEMBERS[2])) {
                JsonNode listed = ClusterRetry.retry(() -> api(edge, survivor, "GET", "/api/v1/organizations/" + organization
                        + "/devices?limit=100", null));
                Set<String> listedIds = new HashSet<>();
                listed.get("devices").forEach(device -> listedIds.add(device.get("id").asText()));
                assertEquals(acknowledged, listedIds, "every acknowledged registration survives, via " + survivor);
            }
            JsonNode late = ClusterRetry.retry(() -> register(edge, MEMBERS[2], key, 99));
            assertTrue(late.at("/overlayIps/0").asText().startsWith("100.64."), late.toString());
            System.out.printf("deployment: survivors serve every registration and accept new ones %.1f s after "
                    + "the kill%n", since(killedAt));

            assertTrue(phone.pingWithin(tabletOverlay, Duration.ofSeconds(20)), "phone still reaches tablet");
            assertTrue(tablet.pingWithin(phoneOverlay, Duration.ofSeconds(20)), "tablet still reaches phone");
            System.out.printf("deployment: done after %.1f s%n", since(started));
        }
    }

    private static InetSocketAddress postgresAddress() {
        java.net.URI uri = java.net.URI.create(PG_URL.substring("jdbc:".length()));
        return new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort());
    }

    /** One file for every member, as docker/control.conf; what differs per member comes from the environment. */
    private static Path writeConfiguration(Path directory) throws Exception {
        StringBuilder seeds = new StringBuilder();
        for (String member : MEMBERS) {
            seeds.append(seeds.length() == 0 ? "" : ", ").append("\"pekko://meshwork@").append(member).append(":25520\"");
        }
        Path config = directory.resolve("control.conf");
        Files.writeString(config, ""
                + "meshwork.control.database = postgres\n"
                + "meshwork.control.stun-servers = [\"" + RELAY_IP + ":3478\", \"" + RELAY_SECOND_IP + ":3478\"]\n"
                + "meshwork.control.stream-coalesce-window = 100ms\n"
                // The members serve plain HTTP on the lab's addresses: this test is about the cluster, not TLS
                // (LabMesh runs control on HTTPS).
                + "meshwork.control.http.insecure = true\n"
                + "pekko.cluster.seed-nodes = [" + seeds + "]\n"
                + "pekko.cluster.split-brain-resolver.stable-after = 3s\n"
                // Three members starting at once on two busy cores can take longer than the default 20 s to
                // initialise serialization.
                + "pekko.actor.creation-timeout = 90s\n");
        return config;
    }

    private static LabProcess startMember(Host host, Path directory, Path config, int index) {
        String address = MEMBERS[index];
        List<String> command = new ArrayList<>(List.of("env",
                "MESHWORK_ADMIN_TOKEN=" + ADMIN,
                "MESHWORK_PG_URL=jdbc:postgresql://127.0.0.1:5432/meshwork",
                "MESHWORK_CLUSTER_HOST=" + address,
                "MESHWORK_CLUSTER_PORT=25520",
                "MESHWORK_CONTROL_HOST=" + address,
                "MESHWORK_CONTROL_PORT=8080",
                // The members share one namespace, so each serves its metrics on a loopback port of its own.
                "MESHWORK_CONTROL_METRICS=127.0.0.1:" + (9190 + index),
                "MESHWORK_CONTROL_DATA=" + directory.resolve("control" + index),
                "MESHWORK_CLUSTER_CERTS=" + directory.resolve("cluster-certs").resolve("member-" + (index + 1)),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath(),
                CommandMain.class.getName(), ControlCommand.class.getName(), "--config", config.toString()));
        return host.spawn("control" + index, command);
    }

    private static void startNode(Host host, Path directory, String member, String key, String interfaceName) {
        host.java(NodeUpCommand.class, "--control", url(member), "--key", key,
                        "--state", directory.resolve("state-" + host.name()).toString(), "--ifname", interfaceName,
                        "--hostname", host.name(), "--probe-interval", "PT5S")
                .awaitOutput(Pattern.compile("up as"), Duration.ofSeconds(120));
    }

    private static JsonNode identity(Path directory, Host host) throws Exception {
        return JSON.readTree(directory.resolve("state-" + host.name()).resolve("identity.json").toFile());
    }

    private static String pathTo(Host node, Path directory, String peerName) throws Exception {
        ExecResult status = node.javaExec(Duration.ofSeconds(60), StatusCommand.class.getName(),
                "--state", directory.resolve("state-" + node.name()).toString(), "--json");
        assertEquals(0, status.exitCode(), status.describe());
        for (JsonNode peer : JSON.readTree(status.stdout()).get("peers")) {
            if (peer.get("hostname").asText().equals(peerName)) {
                return peer.get("path").asText();
            }
        }
        throw new AssertionError(node.name() + " does not list " + peerName + ": " + status.stdout());
    }

    private static JsonNode register(Host from, String member, String key, int seed) throws Exception {
        byte[] publicKey = new byte[32];
        publicKey[0] = (byte) seed;
        publicKey[7] = 77;
        ExecResult result = from.exec("curl", "-sS", "-f", "-X", "POST", "-H", "Authorization: Bearer " + key,
                "-d", "{\"publicKey\":\"" + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"extra-"
                        + seed + "\"}", url(member) + "/api/v1/register");
        result.orThrow();
        return JSON.readTree(result.stdout());
    }

    private static JsonNode api(Host from, String member, String method, String path, String body) throws Exception {
        ExecResult result = body == null
                ? from.exec("curl", "-sS", "-f", "-H", "Authorization: Bearer " + ADMIN, url(member) + path)
                : from.exec("curl", "-sS", "-f", "-X", method, "-H", "Authorization: Bearer " + ADMIN, "-d", body,
                        url(member) + path);
        result.orThrow();
        return JSON.readTree(result.stdout());
    }

    private static void awaitReady(Host from, String member) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!from.exec("curl", "-sS", "-f", "-o", "/dev/null", url(member) + "/ready").succeeded()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("control member " + member + " did not become ready");
            }
            Thread.sleep(500);
        }
    }

    /** Waits until {@code member} sees a cluster of the other members, all up, none unreachable. */
    private static void awaitClusterWithout(Host from, String member, String removed) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode cluster = null;
        while (System.nanoTime() < deadline) {
            cluster = api(from, member, "GET", "/api/v1/cluster", null);
            boolean settled = cluster.get("members").size() == MEMBERS.length - 1
                    && cluster.get("unreachable").isEmpty();
            for (JsonNode each : cluster.get("members")) {
                settled &= each.get("status").asText().equals("Up") && !each.get("address").asText().contains(removed);
            }
            if (settled) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError(member + " still sees " + cluster);
    }

    private static String url(String member) {
        return "http://" + member + ":8080";
    }

    private static X509Certificate certificate(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static double since(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    private static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }
}
