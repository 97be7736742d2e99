package io.meshwork.control.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import io.meshwork.control.cli.AdminCommand;
import io.meshwork.control.cli.AdminRun;
import io.meshwork.protocol.tls.CertificatePin;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Control's API over HTTPS with the operator's certificate, one whose name is not the address clients dial: a
 * client with the pin trusts it anyway, one with another pin refuses it, plain HTTP gets nowhere, and the pin is
 * the one {@code /api/v1/cluster} and a new registration key answer.
 */
class ControlTlsTest {

    private static final String ADMIN = "mwa.tls-test";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ControlServer server;
    private static X509Certificate certificate;
    private static CertificatePin pin;
    private static String url;

    @BeforeAll
    static void start() throws Exception {
        Path data = Files.createTempDirectory("mwc-tls");
        certificate = TestCertificates.write(data.resolve("pem"), "control.example");
        pin = CertificatePin.of(certificate);
        server = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", data.resolve("control").toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", ADMIN,
                "meshwork.control.tls.cert-file", TestCertificates.certificate(data.resolve("pem")).toString(),
                "meshwork.control.tls.key-file", TestCertificates.key(data.resolve("pem")).toString(),
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0))));
        url = server.url();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static HttpClient pinned(CertificatePin trusted) throws Exception {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(trusted.controlContext())
                .build();
    }

    private static HttpResponse<String> get(HttpClient client, String base, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + ADMIN).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theListenerSpeaksHttpsAndItsPinIsTheCertificates() {
        assertTrue(url.startsWith("https://127.0.0.1:"), url);
        assertEquals(pin, server.pin());
    }

    @Test
    void aPinnedClientTrustsTheCertificateThoughItNamesAnotherHost() throws Exception {
        HttpResponse<String> health = get(pinned(pin), url, "/health");
        assertEquals(200, health.statusCode(), health.body());
        // The certificate is for control.example and the URL says localhost: the pin is what counts.
        int port = server.httpAddress().getPort();
        assertEquals(200, get(pinned(pin), "https://localhost:" + port, "/health").statusCode());
    }

    @Test
    void withoutThePinTheJdkTrustStoreRefusesASelfSignedCertificate() {
        assertThrows(IOException.class, () -> get(HttpClient.newHttpClient(), url, "/health"));
    }

    @Test
    void aClientWithAnotherPinRefusesAndSaysSo() throws Exception {
        CertificatePin other = CertificatePin.of(TestCertificates.write(Files.createTempDirectory("mwc-other"),
                "control.example"));
        IOException refused = assertThrows(IOException.class, () -> get(pinned(other), url, "/health"));
        assertEquals("control's certificate does not match --control-pin " + other,
                CertificatePin.mismatchIn(refused).orElseThrow().getMessage());
    }

    @Test
    void plainHttpToTheTlsPortGetsNoAnswer() {
        String plain = "http://127.0.0.1:" + server.httpAddress().getPort();
        try {
            HttpResponse<String> answer = get(HttpClient.newHttpClient(), plain, "/health");
            assertTrue(answer.statusCode() >= 400, "plain HTTP was answered " + answer.statusCode());
        } catch (Exception expected) {
            // The TLS listener closes a connection that does not start a handshake.
        }
    }

    @Test
    void theClusterViewAndANewKeyCarryThePin() throws Exception {
        JsonNode cluster = JSON.readTree(get(pinned(pin), url, "/api/v1/cluster").body());
        assertEquals(pin.toString(), cluster.get("controlPin").asText());
        HttpResponse<String> organization = pinned(pin).send(HttpRequest.newBuilder(
                        URI.create(url + "/api/v1/organizations"))
                .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"tls\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        String org = JSON.readTree(organization.body()).get("id").asText();

        AdminRun key = admin("--control-pin", pin.toString(), "keys", "create", org);
        assertEquals(0, key.exit(), key.err());
        JsonNode created = JSON.readTree(key.out());
        assertEquals(pin.toString(), created.get("controlPin").asText());
        assertTrue(key.err().contains("meshwork node up --control " + url + " --key " + created.get("key").asText()
                + " --control-pin " + pin), key.err());
    }

    @Test
    void theAdminCommandRefusesAnotherCertificateAndMalformedPins() throws Exception {
        CertificatePin other = CertificatePin.of(TestCertificates.write(Files.createTempDirectory("mwc-other"),
                "control.example"));
        AdminRun mismatch = admin("--control-pin", other.toString(), "orgs", "list");
        assertEquals(3, mismatch.exit());
        assertTrue(mismatch.err().contains("control's certificate does not match --control-pin " + other),
                mismatch.err());

        AdminRun malformed = admin("--control-pin", "sha256:abc", "orgs", "list");
        assertEquals(2, malformed.exit());
        assertTrue(malformed.err().startsWith("bad --control-pin: "), malformed.err());

        StringWriter err = new StringWriter();
        CommandLine command = new CommandLine(new AdminCommand());
        command.setErr(new PrintWriter(err, true));
        int exit = command.execute("--control", "http://127.0.0.1:1", "--token", ADMIN, "--control-pin",
                pin.toString(), "orgs", "list");
        assertEquals(2, exit);
        assertTrue(err.toString().contains("--control-pin needs an https:// control URL"), err.toString());
    }

    private static AdminRun admin(String... args) {
        return AdminRun.run(url, ADMIN, args);
    }
}
