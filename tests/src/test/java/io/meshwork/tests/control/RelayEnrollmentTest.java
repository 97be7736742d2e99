package io.meshwork.tests.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.relay.control.ControlException;
import io.meshwork.relay.control.ControlPlane;
import io.meshwork.relay.control.HttpControlPlane;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay's real control client ({@link HttpControlPlane}) against a running control plane: enrollment with an
 * admin-issued token, health, endpoint observations that reach the device's record, and revocations of device
 * certificates.
 */
class RelayEnrollmentTest {

    private static final String ADMIN = "mwa.relay-enrollment-test";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static ControlServer control;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        control = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", Files.createTempDirectory("mwc-relay").toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", ADMIN,
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0))));
        base = "http://127.0.0.1:" + control.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        control.close();
    }

    private static JsonNode call(String method, String path, String token, String body) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(response.statusCode() / 100 == 2, method + " " + path + " -> " + response.statusCode() + " " + response.body());
        return JSON.readTree(response.body());
    }

    @Test
    void relayEnrollsReportsAndLearnsRevocations() throws Exception {
        String relayToken = call("POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"relay-eu\"}").get("token").asText();
        ControlPlane plane = new HttpControlPlane(URI.create(base), relayToken);
        ControlPlane.Enrollment enrollment = plane.register(
                new ControlPlane.Advertisement("203.0.113.5:3340", "203.0.113.5:3340", List.of("203.0.113.5:3478")));
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(enrollment.caCertificatePem().getBytes()));
        assertTrue(ca.getSubjectX500Principal().getName().contains("meshwork control CA"));
        assertEquals(enrollment.relayId(), plane.register(new ControlPlane.Advertisement("203.0.113.5:3340", null,
                List.of())).relayId(), "re-enrolling with the same token keeps the relay's id");
        plane.reportHealth(enrollment.relayId(), new ControlPlane.Health(3, 1, true));

        JsonNode relays = call("GET", "/api/v1/relays", ADMIN, null);
        assertEquals("relay-eu", relays.get(0).get("name").asText());
        assertEquals(3, relays.get(0).get("udpClients").asInt());

        // A device registered now is handed the enrolled relay.
        String organization = call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"relayed\"}").get("id").asText();
        String key = call("POST", "/api/v1/organizations/" + organization + "/keys", ADMIN, "{}").get("key").asText();
        byte[] publicKey = new byte[32];
        publicKey[2] = 42;
        JsonNode device = call("POST", "/api/v1/register", key, "{\"publicKey\":\""
                + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"edge\"}");
        assertEquals("relay-eu", device.at("/relays/0/name").asText());
        String deviceId = device.get("id").asText();

        plane.reportObservations(enrollment.relayId(), List.of(new ControlPlane.Observation(deviceId,
                device.get("id").asText(), "udp", "198.51.100.20:40112")));
        JsonNode stored = call("GET", "/api/v1/devices/" + deviceId, ADMIN, null);
        assertTrue(stored.get("endpoints").toString().contains("{\"address\":\"198.51.100.20:40112\",\"source\":\"relay\"}"),
                stored.toString());

        assertEquals(0, plane.revokedSerials(enrollment.relayId()).size());
        call("POST", "/api/v1/devices/" + deviceId + "/revoke", ADMIN, null);
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(device.get("certificate").asText().getBytes()));
        BigInteger serial = certificate.getSerialNumber();
        assertEquals(java.util.Set.of(serial), plane.revokedSerials(enrollment.relayId()));

        ControlPlane stranger = new HttpControlPlane(URI.create(base), "mwr.tnothere.secret");
        assertThrows(ControlException.class, () -> stranger.register(new ControlPlane.Advertisement("1.2.3.4:1", null,
                List.of())));
        assertThrows(ControlException.class, () -> stranger.revokedSerials(enrollment.relayId()));
    }

    @Test
    void aTlsRelaysPinGoesFromItsEnrollmentToTheDevices() throws Exception {
        String pin = "3a".repeat(32);
        String relayToken = call("POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"relay-tls\"}").get("token").asText();
        ControlPlane plane = new HttpControlPlane(URI.create(base), relayToken);
        ControlPlane.Enrollment enrollment = plane.register(
                new ControlPlane.Advertisement(null, "203.0.113.6:443", List.of(), pin));
        plane.reportHealth(enrollment.relayId(), new ControlPlane.Health(0, 0, true));

        String organization = call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"pinned\"}").get("id").asText();
        String key = call("POST", "/api/v1/organizations/" + organization + "/keys", ADMIN, "{}").get("key").asText();
        byte[] publicKey = new byte[32];
        publicKey[3] = 43;
        RegisterResponse device = JSON.readValue(call("POST", "/api/v1/register", key, "{\"publicKey\":\""
                + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"pinned\"}").toString(),
                RegisterResponse.class);
        RelayInfo relay = device.relays().stream().filter(r -> r.name().equals("relay-tls")).findFirst().orElseThrow();
        assertEquals(new RelayInfo("relay-tls", null, "203.0.113.6:443", pin, null, true), relay,
                "the pin, and the health of an enrolled relay that reported itself healthy");
    }
}
