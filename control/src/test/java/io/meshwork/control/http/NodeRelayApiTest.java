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
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node as a relay for its own organization (docs/api.md, "Node relays"): allowed per device with
 * {@code PATCH /api/v1/devices/{id} {"relayAllowed": true}}, enrolled with the device token, listed in that
 * organization's relay list only, and withdrawn when the permission is, or the device is revoked or deleted.
 */
class NodeRelayApiTest {

    private static final AtomicInteger SEED = new AtomicInteger(100);
    private static ControlServer server;
    private static String base;

    record Org(String id, String apiToken, String key) {}

    record Registered(String id, String token, JsonNode body) {}

    @BeforeAll
    static void start() throws Exception {
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-noderelay"), Map.of(
                "meshwork.control.limits.failed-auth-per-second", 1_000_000,
                "meshwork.control.limits.failed-auth-burst", 1_000_000));
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Org organization(String name) throws Exception {
        JsonNode created = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"" + name + "\"}").body();
        String id = created.get("id").asText();
        String key = call(base, "POST", "/api/v1/organizations/" + id + "/keys", ADMIN, "{\"reusable\":true}")
                .body().get("key").asText();
        return new Org(id, created.get("apiToken").asText(), key);
    }

    private static Registered register(Org org, String hostname) throws Exception {
        byte[] publicKey = new byte[32];
        int seed = SEED.incrementAndGet();
        publicKey[0] = (byte) seed;
        publicKey[1] = (byte) (seed >> 8);
        publicKey[31] = 99;
        Answer device = call(base, "POST", "/api/v1/register", org.key(), "{\"publicKey\":\""
                + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"" + hostname + "\"}");
        assertEquals(201, device.status(), String.valueOf(device.body()));
        return new Registered(device.body().get("id").asText(), device.body().get("token").asText(), device.body());
    }

    private static Answer patch(String token, String deviceId, boolean allowed) throws Exception {
        return call(base, "PATCH", "/api/v1/devices/" + deviceId, token, "{\"relayAllowed\":" + allowed + "}");
    }

    private static Answer enroll(Registered device, String address) throws Exception {
        return call(base, "POST", "/api/v1/devices/self/relay", device.token(),
                "{\"udp\":\"" + address + ":3340\",\"tcp\":\"" + address + ":3340\",\"region\":\"home\"}");
    }

    private static Answer beat(Registered device) throws Exception {
        return call(base, "PUT", "/api/v1/devices/self/relay/health", device.token(),
                "{\"udpClients\":1,\"tcpClients\":0,\"healthy\":true}");
    }

    private static JsonNode adminRelay(String deviceId) throws Exception {
        for (JsonNode relay : call(base, "GET", "/api/v1/relays", ADMIN, null).body()) {
            if (deviceId.equals(relay.path("deviceId").asText(null))) {
                return relay;
            }
        }
        return null;
    }

    @Test
    void relayAllowedIsPatchedByTheOrganizationOnlyAndShownWithTheDevice() throws Exception {
        Org alpha = organization("patch-alpha");
        Org beta = organization("patch-beta");
        Registered node = register(alpha, "edge");

        assertFalse(call(base, "GET", "/api/v1/devices/" + node.id(), ADMIN, null).body().get("relayAllowed")
                .asBoolean(), "no device may relay until allowed");
        Answer allowed = patch(alpha.apiToken(), node.id(), true);
        assertEquals(200, allowed.status(), String.valueOf(allowed.body()));
        assertTrue(allowed.body().get("relayAllowed").asBoolean());
        assertEquals("edge", allowed.body().get("hostname").asText(), "the rest of the device is left as it was");
        JsonNode listed = call(base, "GET", "/api/v1/organizations/" + alpha.id() + "/devices", alpha.apiToken(),
                null).body().get("devices").get(0);
        assertTrue(listed.get("relayAllowed").asBoolean(), listed.toString());

        // A rename leaves the permission; another organization and the device itself may not touch it.
        assertTrue(call(base, "PATCH", "/api/v1/devices/" + node.id(), ADMIN, "{\"hostname\":\"edge-1\"}").body()
                .get("relayAllowed").asBoolean());
        assertEquals(404, patch(beta.apiToken(), node.id(), false).status());
        assertEquals(403, patch(node.token(), node.id(), false).status());
        Answer notBoolean = call(base, "PATCH", "/api/v1/devices/" + node.id(), ADMIN, "{\"relayAllowed\":\"yes\"}");
        assertEquals(400, notBoolean.status(), String.valueOf(notBoolean.body()));
        assertTrue(notBoolean.body().get("error").isTextual());

        assertEquals(200, patch(ADMIN, node.id(), false).status());
        assertFalse(call(base, "GET", "/api/v1/devices/" + node.id(), alpha.apiToken(), null).body()
                .get("relayAllowed").asBoolean());
    }

    @Test
    void enrollmentIsRefusedUntilTheDeviceIsAllowedToRelay() throws Exception {
        Org org = organization("refuse");
        Registered node = register(org, "gateway");

        Answer refused = enroll(node, "192.0.2.50");
        assertEquals(403, refused.status(), String.valueOf(refused.body()));
        assertTrue(refused.body().get("error").asText().contains("relayAllowed"), refused.body().toString());
        assertEquals(403, beat(node).status());
        assertEquals(403, call(base, "GET", "/api/v1/devices/self/relay/revocations", node.token(), null).status());
        assertEquals(null, adminRelay(node.id()));

        assertEquals(200, patch(org.apiToken(), node.id(), true).status());
        Answer enrolled = enroll(node, "192.0.2.50");
        assertEquals(200, enrolled.status(), String.valueOf(enrolled.body()));
        assertEquals(org.id(), enrolled.body().get("organizationId").asText());
        assertTrue(enrolled.body().get("caCertificatePem").asText().contains("BEGIN CERTIFICATE"));
        assertTrue(enrolled.body().get("heartbeatSeconds").asInt() > 0);
        String relayId = enrolled.body().get("relayId").asText();
        assertEquals(relayId, enroll(node, "192.0.2.51").body().get("relayId").asText(),
                "enrolling again keeps the relay's id");
        assertEquals(200, beat(node).status());
        assertTrue(call(base, "GET", "/api/v1/devices/self/relay/revocations", node.token(), null).body()
                .get("serials").isArray());

        JsonNode listed = adminRelay(node.id());
        assertEquals(relayId, listed.get("id").asText());
        assertEquals(org.id(), listed.get("organizationId").asText());
        assertEquals("gateway", listed.get("name").asText(), "named after the device by default");
        assertEquals("192.0.2.51:3340", listed.get("udp").asText());
        assertEquals("home", listed.get("region").asText());

        // Hostile advertisements get a JSON 400 naming the field.
        for (String body : List.of("{}", "{\"udp\":\"192.0.2.3\"}", "{\"udp\":\"x y:1\"}",
                "{\"udp\":\"127.0.0.1:3340\"}", "{\"tcp\":\"0.0.0.0:3340\"}", "{\"udp\":\"169.254.169.254:80\"}",
                "{\"udp\":\"relay.example.net:3340\"}", "{\"udp\":\"192.0.2.3:3340\",\"stun\":[null]}",
                "{\"udp\":\"192.0.2.3:3340\",\"region\":\"NOT A REGION\"}",
                "{\"udp\":\"192.0.2.3:3340\",\"name\":\"bad name!\"}")) {
            Answer bad = call(base, "POST", "/api/v1/devices/self/relay", node.token(), body);
            assertEquals(400, bad.status(), body + " " + bad.body());
            assertTrue(bad.body().get("error").isTextual(), bad.body().toString());
        }
        // Relay tokens' routes are not the device's: its device token is no relay token.
        assertEquals(403, call(base, "PUT", "/api/v1/relays/" + relayId + "/health", node.token(),
                "{\"udpClients\":0,\"tcpClients\":0,\"healthy\":true}").status());
    }

    @Test
    void aNodesRelayIsListedToItsOwnOrganizationOnlyAndLeavesWhenWithdrawn() throws Exception {
        Org alpha = organization("scope-alpha");
        Org beta = organization("scope-beta");
        Registered relayNode = register(alpha, "alpha-relay");
        Registered alphaPeer = register(alpha, "alpha-peer");
        Registered betaPeer = register(beta, "beta-peer");
        BlockingQueue<JsonNode> alphaStream = ControlApiTest.watch(base, alphaPeer.token(), "", true);
        BlockingQueue<JsonNode> betaStream = ControlApiTest.watch(base, betaPeer.token(), "", true);
        relaysEvent(alphaStream, List.of());
        relaysEvent(betaStream, List.of());

        assertEquals(200, patch(alpha.apiToken(), relayNode.id(), true).status());
        assertEquals(200, enroll(relayNode, "192.0.2.60").status());
        JsonNode listed = relaysEvent(alphaStream, List.of("alpha-relay")).get("relays").get(0);
        assertEquals("192.0.2.60:3340", listed.get("udp").asText());
        assertTrue(listed.get("healthy").asBoolean());

        // Registrations get the same scoped list; beta's devices never see alpha's relay, STUN port included.
        JsonNode alphaNew = register(alpha, "alpha-new").body();
        assertEquals(List.of("alpha-relay"), names(alphaNew.get("relays")));
        assertTrue(alphaNew.get("stunServers").toString().contains("192.0.2.60:3340"), alphaNew.toString());
        JsonNode betaNew = register(beta, "beta-new").body();
        assertEquals(List.of(), names(betaNew.get("relays")));
        assertFalse(betaNew.get("stunServers").toString().contains("192.0.2.60"), betaNew.toString());
        assertEquals(null, betaStream.stream().filter(event -> event.toString().contains("alpha-relay")).findAny()
                .orElse(null), "beta's stream never lists alpha's relay");

        // Withdrawing the permission takes it off the list at once; its heartbeat is refused from then on.
        assertEquals(200, patch(ADMIN, relayNode.id(), false).status());
        relaysEvent(alphaStream, List.of());
        assertEquals(null, adminRelay(relayNode.id()));
        assertEquals(403, beat(relayNode).status());

        // Allowed again it comes back; revoking the device removes it for good.
        assertEquals(200, patch(ADMIN, relayNode.id(), true).status());
        assertEquals(200, enroll(relayNode, "192.0.2.60").status());
        relaysEvent(alphaStream, List.of("alpha-relay"));
        assertEquals(200, call(base, "POST", "/api/v1/devices/" + relayNode.id() + "/revoke", alpha.apiToken(),
                null).status());
        relaysEvent(alphaStream, List.of());
        assertEquals(403, beat(relayNode).status(), "a revoked device's token is refused");
        assertEquals(403, enroll(relayNode, "192.0.2.60").status());
        assertEquals(null, adminRelay(relayNode.id()));
        assertEquals(null, betaStream.stream().filter(event -> event.toString().contains("alpha-relay")).findAny()
                .orElse(null), "beta's stream never listed alpha's relay");
    }

    @Test
    void deletingTheDeviceOrWithdrawingFromTheNodeRemovesItsRelay() throws Exception {
        Org org = organization("delete");
        Registered node = register(org, "doomed");
        Registered other = register(org, "stays");
        assertEquals(200, patch(ADMIN, node.id(), true).status());
        assertEquals(200, patch(ADMIN, other.id(), true).status());
        assertEquals(200, enroll(node, "192.0.2.70").status());
        assertEquals(200, enroll(other, "192.0.2.71").status());

        // node down withdraws the relay; a heartbeat then asks the node to enroll again.
        Answer withdrawn = call(base, "DELETE", "/api/v1/devices/self/relay", other.token(), null);
        assertEquals(200, withdrawn.status(), String.valueOf(withdrawn.body()));
        assertEquals(null, adminRelay(other.id()));
        assertEquals(404, beat(other).status());

        assertEquals(200, call(base, "DELETE", "/api/v1/devices/" + node.id(), org.apiToken(), null).status());
        assertEquals(null, adminRelay(node.id()));
        assertEquals(401, enroll(node, "192.0.2.70").status(), "a deleted device's token is unknown");
        assertEquals(401, beat(node).status());

        // Deleting the organization takes its nodes' relays with it.
        assertEquals(200, enroll(other, "192.0.2.71").status());
        assertTrue(adminRelay(other.id()) != null);
        assertEquals(200, call(base, "DELETE", "/api/v1/organizations/" + org.id(), ADMIN, null).status());
        assertEquals(null, adminRelay(other.id()));
    }
}
