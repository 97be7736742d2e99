package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static io.meshwork.control.http.ControlApiTest.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshwork.control.ControlServer;
import io.meshwork.control.http.ControlApiTest.Answer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A relay's TLS pin from its enrollment, through control's journal, to the relays devices are handed. */
class RelayEnrollmentApiTest {

    private static final String PIN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private static String relayToken(String base, String name) throws Exception {
        Answer token = call(base, "POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"" + name + "\"}");
        assertEquals(201, token.status(), String.valueOf(token.body()));
        return token.body().get("token").asText();
    }

    private static String enroll(String base, String token, String body) throws Exception {
        Answer enrolled = call(base, "POST", "/api/v1/relays/register", token, body);
        assertEquals(200, enrolled.status(), String.valueOf(enrolled.body()));
        String relayId = enrolled.body().get("relayId").asText();
        assertEquals(200, call(base, "PUT", "/api/v1/relays/" + relayId + "/health", token,
                "{\"udpClients\":0,\"tcpClients\":0,\"healthy\":true}").status());
        return relayId;
    }

    private static JsonNode relaysHandedToADevice(String base, int seed) throws Exception {
        String organization = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"pins" + seed + "\"}")
                .body().get("id").asText();
        String key = call(base, "POST", "/api/v1/organizations/" + organization + "/keys", ADMIN, "{}").body()
                .get("key").asText();
        byte[] publicKey = new byte[32];
        publicKey[0] = (byte) seed;
        publicKey[31] = 7;
        Answer device = call(base, "POST", "/api/v1/register", key, "{\"publicKey\":\""
                + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"h" + seed + "\"}");
        assertEquals(201, device.status(), String.valueOf(device.body()));
        return device.body().get("relays");
    }

    private static JsonNode named(JsonNode relays, String name) {
        for (JsonNode relay : relays) {
            if (relay.get("name").asText().equals(name)) {
                return relay;
            }
        }
        throw new AssertionError("no relay " + name + " in " + relays);
    }

    @Test
    void thePinReachesDevicesAndTheAdminListAndSurvivesARestart() throws Exception {
        Path data = Files.createTempDirectory("mwc-relaytls");
        try (ControlServer first = ControlApiTest.startServer(data, Map.of())) {
            String base = "http://127.0.0.1:" + first.httpAddress().getPort();
            enroll(base, relayToken(base, "secure"), "{\"udp\":\"192.0.2.1:3340\",\"tcp\":\"192.0.2.1:443\","
                    + "\"stun\":[],\"tlsSha256\":\"" + PIN.toUpperCase() + "\"}");
            enroll(base, relayToken(base, "plain"), "{\"udp\":\"192.0.2.2:3340\",\"tcp\":\"192.0.2.2:3340\"}");

            JsonNode relays = relaysHandedToADevice(base, 1);
            assertEquals(PIN, named(relays, "secure").get("tlsSha256").asText(), "normalized to lowercase");
            assertEquals("192.0.2.1:443", named(relays, "secure").get("tcp").asText());
            assertTrue(named(relays, "plain").path("tlsSha256").isNull(), relays.toString());

            JsonNode admin = call(base, "GET", "/api/v1/relays", ADMIN, null).body();
            assertEquals(PIN, named(admin, "secure").get("tlsSha256").asText());
        }
        try (ControlServer second = ControlApiTest.startServer(data, Map.of())) {
            String base = "http://127.0.0.1:" + second.httpAddress().getPort();
            assertEquals(PIN, named(relaysHandedToADevice(base, 2), "secure").get("tlsSha256").asText());
        }
    }

    @Test
    void aRelaysRegionComesFromItsTokenAndReachesDevicesAndTheAdminList() throws Exception {
        Path data = Files.createTempDirectory("mwc-relayregion");
        Map<String, Object> configured = Map.of("name", "static-home", "udp", "192.0.2.8:3340", "region", "home");
        try (ControlServer server = ControlApiTest.startServer(data,
                Map.of("meshwork.control.relays", List.of(configured)))) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            Answer token = call(base, "POST", "/api/v1/relays/tokens", ADMIN,
                    "{\"name\":\"fra1\",\"region\":\"eu-central\"}");
            assertEquals(201, token.status(), String.valueOf(token.body()));
            assertEquals("eu-central", token.body().get("region").asText());
            enroll(base, token.body().get("token").asText(), "{\"udp\":\"192.0.2.3:3340\"}");
            enroll(base, relayToken(base, "nowhere"), "{\"udp\":\"192.0.2.4:3340\"}");

            JsonNode relays = relaysHandedToADevice(base, 4);
            assertEquals("eu-central", named(relays, "fra1").get("region").asText());
            assertTrue(named(relays, "nowhere").path("region").isNull(), relays.toString());
            assertEquals("home", named(relays, "static-home").get("region").asText());
            assertEquals("eu-central", named(call(base, "GET", "/api/v1/relays", ADMIN, null).body(), "fra1")
                    .get("region").asText());

            for (String bad : List.of("EU", "eu west", "-eu", "x".repeat(33), "eu_west")) {
                Answer refused = call(base, "POST", "/api/v1/relays/tokens", ADMIN,
                        "{\"name\":\"r\",\"region\":\"" + bad + "\"}");
                assertEquals(400, refused.status(), bad);
                assertTrue(refused.body().get("error").asText().contains("region"), refused.body().toString());
            }
        }
    }

    @Test
    void devicesGetTheRelaysStunServersAndTheirOrganizationsPrefixesWithNoStunConfigured() throws Exception {
        Path data = Files.createTempDirectory("mwc-relaystun");
        try (ControlServer server = ControlApiTest.startServer(data, Map.of())) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            enroll(base, relayToken(base, "stun-relay"), "{\"udp\":\"192.0.2.5:3340\","
                    + "\"stun\":[\"192.0.2.5:3478\",\"192.0.2.6:3478\"]}");
            String organization = call(base, "POST", "/api/v1/organizations", ADMIN,
                    "{\"name\":\"sixteen\",\"ipv4Cidr\":\"10.77.0.0/16\"}").body().get("id").asText();
            String key = call(base, "POST", "/api/v1/organizations/" + organization + "/keys", ADMIN,
                    "{\"reusable\":true}").body().get("key").asText();
            byte[] publicKey = new byte[32];
            publicKey[0] = 42;
            Answer device = call(base, "POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"cgnat\"}");
            assertEquals(201, device.status(), String.valueOf(device.body()));
            assertEquals(List.of("192.0.2.5:3478", "192.0.2.6:3478"),
                    new com.fasterxml.jackson.databind.ObjectMapper().convertValue(device.body().get("stunServers"), List.class));
            JsonNode prefixes = device.body().get("overlayPrefixes");
            assertEquals("10.77.0.0/16", prefixes.get(0).asText(), device.body().toString());
            assertTrue(prefixes.get(1).asText().endsWith("::/64"), prefixes.toString());
            assertTrue(device.body().get("overlayIps").get(0).asText().startsWith("10.77."));

            JsonNode snapshot = ControlApiTest.watch(base, device.body().get("token").asText(), "")
                    .poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("snapshot", snapshot.get("type").asText(), String.valueOf(snapshot));
            assertEquals(prefixes, snapshot.get("overlayPrefixes"), "the snapshot carries the prefixes too");
        }
    }

    @Test
    void configuredRelaysCarryTheirPin() throws Exception {
        Path data = Files.createTempDirectory("mwc-relaytls-config");
        Map<String, Object> relay = Map.of("name", "static", "tcp", "192.0.2.9:443",
                "tls-sha256", PIN.toUpperCase());
        try (ControlServer server = ControlApiTest.startServer(data, Map.of("meshwork.control.relays", List.of(relay)))) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            assertEquals(PIN, named(relaysHandedToADevice(base, 3), "static").get("tlsSha256").asText());
        }
    }

    @Test
    void malformedPinsAreRefusedWithJson() throws Exception {
        Path data = Files.createTempDirectory("mwc-relaytls-bad");
        try (ControlServer server = ControlApiTest.startServer(data, Map.of())) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            String token = relayToken(base, "bad");
            Answer notHex = call(base, "POST", "/api/v1/relays/register", token,
                    "{\"tcp\":\"192.0.2.3:443\",\"tlsSha256\":\"not-a-digest\"}");
            assertEquals(400, notHex.status());
            assertTrue(notHex.body().toString().contains("tlsSha256"), notHex.body().toString());
            Answer noTcp = call(base, "POST", "/api/v1/relays/register", token,
                    "{\"udp\":\"192.0.2.3:3340\",\"tlsSha256\":\"" + PIN + "\"}");
            assertEquals(400, noTcp.status());
            assertTrue(noTcp.body().toString().contains("tcp"), noTcp.body().toString());
        }
    }
}
