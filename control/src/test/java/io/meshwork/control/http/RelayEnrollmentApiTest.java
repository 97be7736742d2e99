package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static io.meshwork.control.http.ControlApiTest.call;
import static io.meshwork.control.http.RelayEvents.names;
import static io.meshwork.control.http.RelayEvents.relaysEvent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshwork.control.ControlServer;
import io.meshwork.control.http.ControlApiTest.Answer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A relay's TLS pin from its enrollment, through control's journal, to the relays devices are handed; the relay list
 * on the peer stream as relays enroll, go silent and come back.
 */
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
    void malformedPinsAndAddressesAreRefusedWithJson() throws Exception {
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
            // Every device is handed what a relay advertises: only host:port addresses are taken.
            for (String body : List.of("{\"udp\":\"192.0.2.3\"}", "{\"tcp\":\"192.0.2.3:0\"}",
                    "{\"udp\":\"bad host:3340\"}", "{\"udp\":\"192.0.2.3:3340\",\"stun\":[\"x y\"]}",
                    "{\"udp\":\"192.0.2.3:3340\",\"stun\":[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\","
                            + "\"1.1.1.5\"]}")) {
                Answer refused = call(base, "POST", "/api/v1/relays/register", token, body);
                assertEquals(400, refused.status(), body + " " + refused.body());
                assertTrue(refused.body().get("error").asText().matches("(udp|tcp|stun).*"), refused.body().toString());
            }
            assertEquals(200, call(base, "POST", "/api/v1/relays/register", token,
                    "{\"udp\":\"relay.example.net:3340\",\"stun\":[\"192.0.2.3\"]}").status());
        }
    }

    private static void heartbeat(String base, String token, String relayId) {
        try {
            assertEquals(200, call(base, "PUT", "/api/v1/relays/" + relayId + "/health", token,
                    "{\"udpClients\":0,\"tcpClients\":0,\"healthy\":true}").status());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void thePeerStreamCarriesTheLiveRelayListAndWithdrawsARelayThatStopsHeartbeating() throws Exception {
        Path data = Files.createTempDirectory("mwc-relaylive");
        // Relays report every second, so a silent one is withdrawn after three seconds.
        try (ControlServer server = ControlApiTest.startServer(data, Map.of(
                "meshwork.control.relay-heartbeat", "1s",
                "meshwork.control.stun-servers", List.of("198.51.100.1:3478")))) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            String oneToken = relayToken(base, "one");
            Answer oneEnrolled = call(base, "POST", "/api/v1/relays/register", oneToken,
                    "{\"udp\":\"192.0.2.11:3340\",\"tcp\":\"192.0.2.11:443\",\"stun\":[\"192.0.2.11:3478\"],"
                            + "\"tlsSha256\":\"" + PIN + "\"}");
            assertEquals(1, oneEnrolled.body().get("heartbeatSeconds").asInt(), "relays are told the interval");
            String one = oneEnrolled.body().get("relayId").asText();
            ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor();
            try {
                beats.scheduleWithFixedDelay(() -> heartbeat(base, oneToken, one), 0, 300, TimeUnit.MILLISECONDS);
                String organization = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"live\"}")
                        .body().get("id").asText();
                String key = call(base, "POST", "/api/v1/organizations/" + organization + "/keys", ADMIN, "{}")
                        .body().get("key").asText();
                byte[] publicKey = new byte[32];
                publicKey[0] = 77;
                Answer device = call(base, "POST", "/api/v1/register", key, "{\"publicKey\":\""
                        + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"follower\"}");
                assertEquals(201, device.status(), String.valueOf(device.body()));
                BlockingQueue<JsonNode> events = ControlApiTest.watch(base, device.body().get("token").asText(), "",
                        true);

                // Right after the snapshot: the whole list, at the snapshot's revision.
                JsonNode snapshot = events.poll(10, TimeUnit.SECONDS);
                assertEquals("snapshot", snapshot.get("type").asText(), String.valueOf(snapshot));
                JsonNode first = events.poll(10, TimeUnit.SECONDS);
                assertEquals("relays", first.get("type").asText(), String.valueOf(first));
                assertEquals(snapshot.get("revision"), first.get("revision"));
                assertEquals(List.of("one"), names(first.get("relays")));
                JsonNode relay = first.at("/relays/0");
                assertEquals("192.0.2.11:3340", relay.get("udp").asText());
                assertEquals("192.0.2.11:443", relay.get("tcp").asText());
                assertEquals(PIN, relay.get("tlsSha256").asText());
                assertTrue(relay.get("healthy").asBoolean(), relay.toString());
                assertEquals(List.of("198.51.100.1:3478", "192.0.2.11:3478"), strings(first.get("stunServers")),
                        "configured STUN servers first");

                // A second relay enrolls: a new list with both, and its UDP port as a STUN server.
                String twoToken = relayToken(base, "two");
                String two = enroll(base, twoToken, "{\"udp\":\"192.0.2.12:3340\"}");
                JsonNode both = relaysEvent(events, List.of("one", "two"));
                assertEquals(List.of("198.51.100.1:3478", "192.0.2.11:3478", "192.0.2.12:3340"),
                        strings(both.get("stunServers")));
                assertEquals(snapshot.get("revision"), both.get("revision"), "the peer-map revision does not move");

                // The second stops heartbeating: after three missed heartbeats it is withdrawn, its STUN port too.
                long silentSince = System.nanoTime();
                JsonNode withdrawn = relaysEvent(events, List.of("one"));
                assertTrue(System.nanoTime() - silentSince > TimeUnit.MILLISECONDS.toNanos(2_000),
                        "withdrawn only after it missed heartbeats");
                assertEquals(List.of("198.51.100.1:3478", "192.0.2.11:3478"), strings(withdrawn.get("stunServers")));
                assertFalse(named(call(base, "GET", "/api/v1/relays", ADMIN, null).body(), "two").get("healthy")
                        .asBoolean(), "the admin list shows it unhealthy");

                // Its next heartbeat lists it again.
                heartbeat(base, twoToken, two);
                relaysEvent(events, List.of("one", "two"));
            } finally {
                beats.shutdownNow();
            }
        }
    }

    private static void refused(String base, String token, String relayId) throws Exception {
        assertEquals(401, call(base, "POST", "/api/v1/relays/register", token, "{\"udp\":\"192.0.2.30:3340\"}")
                .status(), "enrollment");
        assertEquals(401, call(base, "PUT", "/api/v1/relays/" + relayId + "/health", token,
                "{\"udpClients\":0,\"tcpClients\":0,\"healthy\":true}").status(), "health");
        assertEquals(401, call(base, "GET", "/api/v1/relays/" + relayId + "/revocations", token, null).status(),
                "revocations");
        assertEquals(401, call(base, "POST", "/api/v1/relays/" + relayId + "/observations", token,
                "{\"observations\":[]}").status(), "observations");
    }

    @Test
    void tokensAreListedWithoutSecretsAndRevokingOneOrRemovingARelayStopsItsTokenAndWithdrawsIt() throws Exception {
        Path data = Files.createTempDirectory("mwc-relayrevoke");
        try (ControlServer server = ControlApiTest.startServer(data, Map.of())) {
            String base = "http://127.0.0.1:" + server.httpAddress().getPort();
            String keptToken = relayToken(base, "kept");
            String revokedToken = relayToken(base, "revoked");
            String removedToken = relayToken(base, "removed");
            String unusedToken = relayToken(base, "unused");
            String kept = enroll(base, keptToken, "{\"udp\":\"192.0.2.21:3340\"}");
            String revoked = enroll(base, revokedToken, "{\"udp\":\"192.0.2.22:3340\"}");
            String removed = enroll(base, removedToken, "{\"udp\":\"192.0.2.23:3340\",\"tcp\":\"192.0.2.23:443\","
                    + "\"tlsSha256\":\"" + PIN + "\"}");

            Answer listed = call(base, "GET", "/api/v1/relays/tokens", ADMIN, null);
            assertEquals(200, listed.status(), String.valueOf(listed.body()));
            assertEquals(4, listed.body().size(), listed.body().toString());
            for (String token : List.of(keptToken, revokedToken, removedToken, unusedToken)) {
                assertFalse(listed.body().toString().contains(token.split("\\.")[2]), "no secret is listed");
                assertTrue(listed.body().toString().contains("\"" + token.split("\\.")[1] + "\""),
                        listed.body().toString());
            }
            assertEquals(kept, named(listed.body(), "kept").get("relayId").asText());
            assertTrue(named(listed.body(), "unused").get("relayId").isNull());
            assertEquals(403, call(base, "GET", "/api/v1/relays/tokens", keptToken, null).status(),
                    "the admin's only");

            String organization = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"revoking\"}")
                    .body().get("id").asText();
            String key = call(base, "POST", "/api/v1/organizations/" + organization + "/keys", ADMIN, "{}").body()
                    .get("key").asText();
            byte[] publicKey = new byte[32];
            publicKey[0] = 88;
            Answer device = call(base, "POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"watcher\"}");
            assertEquals(201, device.status(), String.valueOf(device.body()));
            BlockingQueue<JsonNode> events = ControlApiTest.watch(base, device.body().get("token").asText(), "", true);
            relaysEvent(events, List.of("kept", "removed", "revoked"));

            assertEquals(200, call(base, "DELETE", "/api/v1/relays/tokens/" + revokedToken.split("\\.")[1], ADMIN,
                    null).status());
            assertEquals(200, call(base, "DELETE", "/api/v1/relays/" + removed, ADMIN, null).status());
            refused(base, revokedToken, revoked);
            refused(base, removedToken, removed);
            assertEquals(404, call(base, "DELETE", "/api/v1/relays/" + removed, ADMIN, null).status());
            assertEquals(404, call(base, "DELETE", "/api/v1/relays/tokens/" + revokedToken.split("\\.")[1], ADMIN,
                    null).status());
            assertEquals(403, call(base, "DELETE", "/api/v1/relays/" + kept, keptToken, null).status(),
                    "a relay does not remove itself");

            relaysEvent(events, List.of("kept"));
            assertEquals(Set.of("kept"), namesOf(call(base, "GET", "/api/v1/relays", ADMIN, null).body()));
            assertEquals(Set.of("kept", "unused"),
                    namesOf(call(base, "GET", "/api/v1/relays/tokens", ADMIN, null).body()));
            assertFalse(relaysHandedToADevice(base, 9).toString().contains(PIN), "the removed relay's pin is gone");
            heartbeat(base, keptToken, kept);
        }
    }

    private static Set<String> namesOf(JsonNode list) {
        Set<String> out = new TreeSet<>();
        list.forEach(item -> out.add(item.get("name").asText()));
        return out;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(item -> out.add(item.asText()));
        return out;
    }
}
