package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshwork.control.ControlServer;
import io.meshwork.control.http.ControlApiTest.Answer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Subnet routes and exit nodes through the API (docs/api.md, "Subnet routes and exit nodes"): a device advertises,
 * its key auto-approves some, an administrator approves the rest, a tag auto-approves another device's, the peer
 * stream carries approved routes of the primary only, and the primary's prefix moves to the other router when the
 * primary stops reporting, and stays there when it comes back.
 */
class RoutesApiTest {

    private static final String LAN = "192.168.10.0/24";
    private static ControlServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-routes"), Map.of());
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Answer call(String method, String path, String token, String body) throws Exception {
        return ControlApiTest.call(base, method, path, token, body);
    }

    private static JsonNode ok(String method, String path, String token, String body) throws Exception {
        Answer answer = call(method, path, token, body);
        assertEquals(2, answer.status() / 100, method + " " + path + ": " + answer.body());
        return answer.body();
    }

    private static String publicKey(int seed) {
        byte[] key = new byte[32];
        key[0] = (byte) seed;
        key[1] = 77;
        key[31] = 9;
        return Base64.getEncoder().encodeToString(key);
    }

    private static JsonNode register(String key, String hostname, int seed) throws Exception {
        return ok("POST", "/api/v1/register", key,
                "{\"publicKey\":\"" + publicKey(seed) + "\",\"hostname\":\"" + hostname + "\"}");
    }

    /** The next upsert on the stream that carries {@code deviceId}, its entry; fails after {@code seconds}. */
    private static JsonNode upsertOf(BlockingQueue<JsonNode> events, String deviceId, int seconds)
            throws InterruptedException {
        return upsertOf(events, deviceId, peer -> true, seconds);
    }

    /**
     * The first upsert of the device that shows what the test waits for. Upserts of a device coalesce per window
     * and may arrive a window late: on a busy machine the one before the change can come after the request that
     * made it, so the event waited for is the one that carries the change.
     */
    private static JsonNode upsertOf(BlockingQueue<JsonNode> events, String deviceId, Predicate<JsonNode> showing,
            int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        JsonNode last = null;
        while (System.nanoTime() < end) {
            JsonNode event = events.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (event == null) {
                break;
            }
            if (event.path("type").asText().equals("upsert")) {
                for (JsonNode peer : event.get("peers")) {
                    if (peer.get("id").asText().equals(deviceId)) {
                        last = peer;
                        if (showing.test(peer)) {
                            return peer;
                        }
                    }
                }
            }
        }
        throw new AssertionError("no such upsert of " + deviceId + " within " + seconds + " s; last: " + last);
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(node -> texts.add(node.asText()));
        return texts;
    }

    @Test
    void advertisedRoutesArePendingUntilApprovedByAnAdministratorAKeyOrATag() throws Exception {
        JsonNode org = ok("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"routes\"}");
        String orgId = org.get("id").asText();
        String apiToken = org.get("apiToken").asText();
        JsonNode routerKey = ok("POST", "/api/v1/organizations/" + orgId + "/keys", apiToken,
                "{\"reusable\":true,\"autoApproveRoutes\":{\"routes\":[\"192.168.0.0/16\"],\"exitNode\":false}}");
        assertEquals(List.of("192.168.0.0/16"), texts(routerKey.at("/autoApproveRoutes/routes")));
        String plainKey = ok("POST", "/api/v1/organizations/" + orgId + "/keys", apiToken, "{\"reusable\":true}")
                .get("key").asText();
        JsonNode router = register(routerKey.get("key").asText(), "router", 1);
        String routerId = router.get("id").asText();
        String routerToken = router.get("token").asText();
        JsonNode client = register(plainKey, "client", 2);
        BlockingQueue<JsonNode> events = ControlApiTest.watch(base, client.get("token").asText(), "");
        JsonNode snapshot = events.poll(10, TimeUnit.SECONDS);
        assertNotNull(snapshot);
        assertEquals("snapshot", snapshot.get("type").asText());

        JsonNode status = ok("POST", "/api/v1/devices/self/routes", routerToken,
                "{\"routes\":[\"10.5.0.7/16\",\"192.168.10.0/24\"],\"exitNode\":true}");
        assertEquals(List.of("10.5.0.0/16", LAN, "0.0.0.0/0", "::/0"), texts(status.get("advertised")),
                "canonical, sorted, the exit routes last");
        assertEquals(List.of(LAN), texts(status.get("approved")), "the key approves what is inside its prefixes");
        assertEquals(List.of("10.5.0.0/16", "0.0.0.0/0", "::/0"), texts(status.get("pending")));
        assertTrue(status.get("online").asBoolean());
        JsonNode peer = upsertOf(events, routerId, candidate -> candidate.path("routes").size() > 0, 10);
        assertEquals(List.of(LAN), texts(peer.get("routes")), "only approved routes reach the peer map");
        assertFalse(peer.get("exitNode").asBoolean());

        JsonNode reviewed = ok("POST", "/api/v1/devices/" + routerId + "/routes", apiToken,
                "{\"approve\":[\"10.5.0.0/16\",\"0.0.0.0/0\",\"::/0\"]}");
        assertEquals(List.of(), texts(reviewed.get("pending")));
        assertTrue(reviewed.get("exitNode").asBoolean());
        peer = upsertOf(events, routerId, candidate -> candidate.path("routes").size() == 2, 10);
        assertEquals(List.of("10.5.0.0/16", LAN), texts(peer.get("routes")));
        assertTrue(peer.get("exitNode").asBoolean());

        JsonNode listed = ok("GET", "/api/v1/organizations/" + orgId + "/devices?hostname=router", apiToken, null);
        assertEquals(List.of("10.5.0.0/16", LAN), texts(listed.at("/devices/0/routes/primary")));
        assertTrue(ok("GET", "/api/v1/organizations/" + orgId + "/devices?hostname=client", apiToken, null)
                .at("/devices/0/routes").isMissingNode(), "a device without routes has none listed");

        // Rejecting the exit node takes it out of the map.
        ok("POST", "/api/v1/devices/" + routerId + "/routes", ADMIN, "{\"reject\":[\"0.0.0.0/0\",\"::/0\"]}");
        assertFalse(upsertOf(events, routerId, candidate -> !candidate.path("exitNode").asBoolean(), 10)
                .get("exitNode").asBoolean());

        // A tag's approvers apply to the devices with that tag.
        JsonNode taggedKey = ok("POST", "/api/v1/organizations/" + orgId + "/keys", apiToken,
                "{\"reusable\":true,\"tags\":[\"exit\"]}");
        JsonNode exit = register(taggedKey.get("key").asText(), "exit", 3);
        assertEquals(List.of("0.0.0.0/0", "::/0"), texts(ok("POST", "/api/v1/devices/self/routes",
                exit.get("token").asText(), "{\"routes\":[],\"exitNode\":true}").get("pending")));
        JsonNode approvers = ok("PUT", "/api/v1/organizations/" + orgId + "/route-approvers", apiToken,
                "{\"tags\":{\"exit\":{\"routes\":[],\"exitNode\":true}}}");
        assertTrue(approvers.at("/tags/exit/exitNode").asBoolean());
        assertTrue(ok("GET", "/api/v1/organizations/" + orgId + "/route-approvers", apiToken, null)
                .at("/tags/exit/exitNode").asBoolean());
        assertTrue(upsertOf(events, exit.get("id").asText(), candidate -> candidate.path("exitNode").asBoolean(), 10)
                .get("exitNode").asBoolean());
    }

    @Test
    void badRoutesAndReviewsAreRefusedSayingWhy() throws Exception {
        JsonNode org = ok("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"bad-routes\"}");
        String orgId = org.get("id").asText();
        String key = ok("POST", "/api/v1/organizations/" + orgId + "/keys", ADMIN, "{\"reusable\":true}")
                .get("key").asText();
        JsonNode device = register(key, "router", 10);
        String token = device.get("token").asText();
        Map<String, String> refused = Map.of(
                "{\"routes\":[\"0.0.0.0/0\"]}", "default route",
                "{\"routes\":[\"not-a-prefix\"]}", "not a CIDR",
                "{\"routes\":[\"127.0.0.0/8\"]}", "loopback",
                "{\"routes\":[\"" + device.at("/overlayIps/0").asText() + "/32\"]}", "own address",
                "{\"routes\":[\"10.0.0.0/8\"],\"extra\":1}", "extra");
        for (Map.Entry<String, String> body : refused.entrySet()) {
            Answer answer = call("POST", "/api/v1/devices/self/routes", token, body.getKey());
            assertEquals(400, answer.status(), body.getKey() + ": " + answer.body());
            assertTrue(answer.body().get("error").asText().contains(body.getValue()),
                    body.getKey() + ": " + answer.body());
        }
        ok("POST", "/api/v1/devices/self/routes", token, "{\"routes\":[\"10.0.0.0/8\"]}");
        Answer notAdvertised = call("POST", "/api/v1/devices/" + device.get("id").asText() + "/routes", ADMIN,
                "{\"approve\":[\"10.1.0.0/16\"]}");
        assertEquals(400, notAdvertised.status());
        assertTrue(notAdvertised.body().get("error").asText().contains("does not advertise"));
        Answer badTag = call("PUT", "/api/v1/organizations/" + orgId + "/route-approvers", ADMIN,
                "{\"tags\":{\"Not A Tag\":{\"routes\":[]}}}");
        assertEquals(400, badTag.status(), String.valueOf(badTag.body()));
        Answer badKey = call("POST", "/api/v1/organizations/" + orgId + "/keys", ADMIN,
                "{\"autoApproveRoutes\":{\"routes\":[\"nope\"]}}");
        assertEquals(400, badKey.status(), String.valueOf(badKey.body()));
    }

    @Test
    void whenThePrimaryStopsReportingTheOtherRouterTakesThePrefixAndKeepsIt() throws Exception {
        JsonNode org = ok("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"failover\"}");
        String orgId = org.get("id").asText();
        String key = ok("POST", "/api/v1/organizations/" + orgId + "/keys", ADMIN,
                "{\"reusable\":true,\"autoApproveRoutes\":{\"routes\":[\"" + LAN + "\"]}}").get("key").asText();
        JsonNode first = register(key, "first", 20);
        JsonNode second = register(key, "second", 21);
        JsonNode client = register(key, "client", 22);
        String advert = "{\"routes\":[\"" + LAN + "\"]}";
        assertEquals(List.of(LAN), texts(ok("POST", "/api/v1/devices/self/routes", first.get("token").asText(),
                advert).get("primary")));
        assertEquals(List.of(), texts(ok("POST", "/api/v1/devices/self/routes", second.get("token").asText(),
                advert).get("primary")), "the first router keeps the prefix");
        BlockingQueue<JsonNode> events = ControlApiTest.watch(base, client.get("token").asText(), "");
        JsonNode snapshot = events.poll(10, TimeUnit.SECONDS);
        for (JsonNode peer : snapshot.get("peers")) {
            assertEquals(peer.get("id").asText().equals(first.get("id").asText()) ? List.of(LAN) : List.of(),
                    texts(peer.get("routes")), peer.toString());
        }

        // The first router goes quiet; the second keeps reporting, as a node does every 3 s.
        String secondId = second.get("id").asText();
        JsonNode moved = null;
        for (int i = 0; i < 10 && moved == null; i++) {
            ok("POST", "/api/v1/devices/self/routes", second.get("token").asText(), advert);
            try {
                JsonNode peer = upsertOf(events, secondId, 3);
                if (texts(peer.get("routes")).contains(LAN)) {
                    moved = peer;
                }
            } catch (AssertionError notYet) {
                // no move yet
            }
        }
        assertNotNull(moved, "the second router took the prefix over");

        // The first comes back: the second keeps the prefix.
        JsonNode back = ok("POST", "/api/v1/devices/self/routes", first.get("token").asText(), advert);
        assertEquals(List.of(), texts(back.get("primary")));
        assertTrue(back.get("online").asBoolean());
        Thread.sleep(2000);
        JsonNode listed = ok("GET", "/api/v1/organizations/" + orgId + "/devices?hostname=second", ADMIN, null);
        assertEquals(List.of(LAN), texts(listed.at("/devices/0/routes/primary")));

        // Unless asked: then the first takes it back.
        JsonNode asked = ok("POST", "/api/v1/devices/" + first.get("id").asText() + "/routes", ADMIN,
                "{\"primary\":[\"" + LAN + "\"]}");
        assertEquals(List.of(LAN), texts(asked.get("primary")));
        assertTrue(texts(upsertOf(events, first.get("id").asText(),
                candidate -> texts(candidate.path("routes")).contains(LAN), 10).get("routes")).contains(LAN));
    }
}
