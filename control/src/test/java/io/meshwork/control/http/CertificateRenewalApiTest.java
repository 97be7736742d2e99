package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static io.meshwork.control.http.ControlApiTest.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshwork.control.ControlServer;
import io.meshwork.control.http.ControlApiTest.Answer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Certificate renewal over the device token (docs/api.md, "Certificate renewal"): the configured lifetime, the same
 * key under a new serial that names the organization, the old serial revoked with the relays after the grace period
 * and the new one not, refusals for a revoked device and for other credentials.
 */
class CertificateRenewalApiTest {

    @Test
    void aDeviceRenewsItsCertificateAndTheOldSerialIsRevokedAfterTheGracePeriod() throws Exception {
        try (ControlServer server = ControlApiTest.startServer(Files.createTempDirectory("mwc-renewal"), Map.of(
                "meshwork.control.device-certificate-lifetime", "2m",
                "meshwork.control.device-certificate-renewal-grace", "1s"))) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            String relayToken = call(base, "POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"r1\"}").body()
                    .get("token").asText();
            String relayId = call(base, "POST", "/api/v1/relays/register", relayToken,
                    "{\"udp\":\"192.0.2.1:3340\"}").body().get("relayId").asText();
            String organization = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"renew\"}").body()
                    .get("id").asText();
            String key = call(base, "POST", "/api/v1/organizations/" + organization + "/keys", ADMIN,
                    "{\"reusable\":true}").body().get("key").asText();
            byte[] publicKey = new byte[32];
            publicKey[0] = 9;
            Answer registered = call(base, "POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"renewing\"}");
            assertEquals(201, registered.status(), String.valueOf(registered.body()));
            String token = registered.body().get("token").asText();
            X509Certificate first = parse(registered.body().get("certificate").asText());
            Duration validity = Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant());
            assertTrue(validity.compareTo(Duration.ofMinutes(2)) >= 0
                    && validity.compareTo(Duration.ofMinutes(3)) < 0, "the configured lifetime: " + validity);

            Answer renewed = call(base, "POST", "/api/v1/devices/self/certificate", token, null);
            assertEquals(200, renewed.status(), String.valueOf(renewed.body()));
            X509Certificate second = parse(renewed.body().get("certificate").asText());
            assertNotEquals(first.getSerialNumber(), second.getSerialNumber());
            assertEquals(second.getSerialNumber().toString(16), renewed.body().get("serial").asText());
            assertEquals(first.getSubjectX500Principal(), second.getSubjectX500Principal());
            assertTrue(java.util.Arrays.equals(first.getPublicKey().getEncoded(), second.getPublicKey().getEncoded()),
                    "the same key");
            assertTrue(uris(second).contains("urn:meshwork:organization:" + organization), uris(second).toString());
            assertTrue(Math.abs(second.getNotAfter().getTime() - renewed.body().get("notAfterMillis").asLong())
                    < 5_000);

            String oldSerial = first.getSerialNumber().toString(16);
            String newSerial = second.getSerialNumber().toString(16);
            List<String> revoked = List.of();
            for (int attempt = 0; attempt < 100 && !revoked.contains(oldSerial); attempt++) {
                Thread.sleep(100);
                revoked = serials(call(base, "GET", "/api/v1/relays/" + relayId + "/revocations", relayToken, null)
                        .body());
            }
            assertTrue(revoked.contains(oldSerial), "the replaced certificate is revoked: " + revoked);
            assertFalse(revoked.contains(newSerial), "the new one is not");
            assertEquals(200, call(base, "POST", "/api/v1/devices/self/endpoints", token,
                    "{\"endpoints\":[]}").status(), "the token still works");

            assertEquals(403, call(base, "POST", "/api/v1/devices/self/certificate", ADMIN, null).status());
            assertEquals(403, call(base, "POST", "/api/v1/devices/self/certificate", key, null).status());
            String deviceId = registered.body().get("id").asText();
            assertEquals(200, call(base, "POST", "/api/v1/devices/" + deviceId + "/revoke", ADMIN, null).status());
            assertEquals(403, call(base, "POST", "/api/v1/devices/self/certificate", token, null).status(),
                    "a revoked device gets no certificate");
        }
    }

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static List<String> uris(X509Certificate certificate) throws Exception {
        List<String> uris = new ArrayList<>();
        for (List<?> name : certificate.getSubjectAlternativeNames()) {
            if (Integer.valueOf(6).equals(name.get(0))) {
                uris.add((String) name.get(1));
            }
        }
        return uris;
    }

    private static List<String> serials(JsonNode revocations) {
        List<String> serials = new ArrayList<>();
        revocations.path("serials").forEach(serial -> serials.add(serial.asText()));
        return serials;
    }
}
