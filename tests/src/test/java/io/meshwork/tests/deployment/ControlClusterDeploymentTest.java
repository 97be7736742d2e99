package io.meshwork.tests.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.cli.ClusterCertsCommand;
import io.meshwork.control.cli.ControlCommand;
import io.meshwork.lab.CommandMain;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * The production shape without Docker: three `meshwork control` processes from one configuration on one
 * PostgreSQL form a cluster; devices register through different members; one member is killed (SIGKILL, no
 * goodbye); the split-brain resolver downs it, its shards move, and every acknowledged registration is still
 * served by the survivors. Every member signs device certificates with the cluster's one CA. Skips, saying why,
 * without a PostgreSQL at MESHWORK_TEST_PG_URL (bin/test starts one).
 */
@ExtendWith(PostgresTurn.class)
class ControlClusterDeploymentTest {

    private static final String ADMIN = "mwa.deployment";
    private static final String PG_URL = System.getenv().getOrDefault("MESHWORK_TEST_PG_URL",
            "jdbc:postgresql://127.0.0.1:5432/meshwork");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static JsonNode call(int port, String method, String path, String token, String body) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " on :" + port + " -> " + response.statusCode() + " "
                    + response.body());
        }
        return JSON.readTree(response.body());
    }

    @Test
    void threeControlProcessesOnPostgresSurviveAKilledMember() throws Exception {
        try (Connection connection = DriverManager.getConnection(PG_URL, "meshwork", "meshwork")) {
            Assumptions.assumeTrue(connection.isValid(5));
        } catch (Exception e) {
            Assumptions.abort("deployment test skipped: no PostgreSQL at " + PG_URL + " (" + e.getMessage() + ")");
        }
        Path directory = Files.createTempDirectory("mwc-deploy");
        int[] cluster = {freePort(), freePort(), freePort()};
        int[] http = {freePort(), freePort(), freePort()};
        StringBuilder seeds = new StringBuilder();
        for (int port : cluster) {
            seeds.append(seeds.length() == 0 ? "" : ", ").append("\"pekko://meshwork@127.0.0.1:").append(port).append('"');
        }
        // The cluster port speaks mutual TLS: every member gets its own credentials from one cluster CA.
        Path credentials = directory.resolve("cluster-certs");
        assertEquals(0, new CommandLine(new ClusterCertsCommand()).execute("--out", credentials.toString(),
                "--members", "3"));
        List<Process> members = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Path config = directory.resolve("member" + i + ".conf");
                Files.writeString(config, ""
                        + "meshwork.control.database = postgres\n"
                        + "meshwork.control.postgres.url = \"" + PG_URL + "\"\n"
                        + "meshwork.control.admin-token = \"" + ADMIN + "\"\n"
                        + "meshwork.control.data-dir = \"" + directory.resolve("data" + i) + "\"\n"
                        + "meshwork.control.metrics = \"127.0.0.1:0\"\n"
                        + "meshwork.control.cluster-tls.directory = \"" + credentials.resolve("member-" + (i + 1))
                        + "\"\n"
                        + "pekko.remote.artery.canonical.port = " + cluster[i] + "\n"
                        + "pekko.cluster.seed-nodes = [" + seeds + "]\n"
                        + "pekko.cluster.split-brain-resolver.stable-after = 3s\n"
                        // Three members starting at once on two busy cores can take longer than the default 20 s
                        // to initialise serialization (as in ControlClusterLabDeploymentTest).
                        + "pekko.actor.creation-timeout = 90s\n");
                List<String> command = new ArrayList<>(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m", "-cp",
                        classpath(), CommandMain.class.getName(), ControlCommand.class.getName(),
                        "--config", config.toString(), "--http", "127.0.0.1:" + http[i]));
                members.add(new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(directory.resolve("member" + i + ".log").toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start());
            }
            for (int port : http) {
                awaitReady(port);
            }

            String organization = call(http[0], "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"deployed\"}")
                    .get("id").asText();
            String key = call(http[1], "POST", "/api/v1/organizations/" + organization + "/keys", ADMIN,
                    "{\"reusable\":true}").get("key").asText();
            List<String> devices = new ArrayList<>();
            Set<String> caCertificates = new HashSet<>();
            List<String> certificates = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                byte[] publicKey = new byte[32];
                publicKey[0] = (byte) i;
                publicKey[9] = 99;
                JsonNode registered = call(http[i % 3], "POST", "/api/v1/register", key, "{\"publicKey\":\""
                        + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"dev-" + i + "\"}");
                devices.add(registered.get("id").asText());
                caCertificates.add(registered.get("caCertificate").asText());
                certificates.add(registered.get("certificate").asText());
            }
            assertEquals(1, caCertificates.size(), "every member signs with the cluster's one CA");
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            X509Certificate ca = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(
                    caCertificates.iterator().next().getBytes(StandardCharsets.US_ASCII)));
            for (String pem : certificates) {
                factory.generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
                        .verify(ca.getPublicKey());
            }

            members.get(0).destroyForcibly().waitFor(10, TimeUnit.SECONDS);

            for (int port : new int[] {http[1], http[2]}) {
                JsonNode listed = ClusterRetry.retry(() -> call(port, "GET", "/api/v1/organizations/" + organization + "/devices",
                        ADMIN, null));
                assertEquals(9, listed.get("total").asInt(), "every registration survives the killed member");
                for (String device : devices) {
                    assertTrue(listed.toString().contains(device), device);
                }
            }
            byte[] publicKey = new byte[32];
            publicKey[3] = 42;
            JsonNode late = ClusterRetry.retry(() -> call(http[2], "POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"after-the-loss\"}"));
            assertEquals("100.64.0.10", late.at("/overlayIps/0").asText(), "addresses keep counting after the loss");
        } finally {
            for (Process member : members) {
                member.destroyForcibly();
            }
        }
    }

    private static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    private static void awaitReady(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> ready = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/ready")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // Still starting.
            }
            Thread.sleep(500);
        }
        throw new AssertionError("control member on :" + port + " did not become ready");
    }
}
