package io.meshwork.control.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The API behind the web console, without a browser: login links and sessions (single use, the cookie's
 * attributes, CSRF), and path reports (only a device's own token, only peers of its organization; read by the
 * admin or the organization's token; followed as server-sent events).
 */
class ConsoleApiTest {

    private static ConsoleFixture control;

    @BeforeAll
    static void start() throws Exception {
        control = new ConsoleFixture();
    }

    @AfterAll
    static void stop() {
        if (control != null) {
            control.close();
        }
    }

    private static String code(String link) {
        return link.substring(link.indexOf("#login=") + "#login=".length());
    }

    @Test
    void aLoginLinkStartsOneSessionWhoseCookieIsHttpOnlySecureAndStrict() throws Exception {
        String[] org = control.organization("api-login");
        String link = control.loginLink(org[1]);
        assertTrue(code(link).matches("[0-9a-f]{32}"), "128 random bits: " + link);
        ConsoleFixture.Answer session = control.call("POST", "/api/v1/ui/session", null, Map.of("code", code(link)));
        assertEquals(200, session.status(), session.text());
        assertEquals(org[0], session.body().get("organizationId").asText());
        assertEquals(false, session.body().get("admin").asBoolean());
        String cookie = session.response().headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.startsWith("meshwork_session=") && cookie.contains("HttpOnly") && cookie.contains("Secure")
                && cookie.contains("SameSite=Strict") && cookie.contains("Path=/api/v1/"), cookie);
        String sessionCookie = cookie.substring(0, cookie.indexOf(';'));
        String csrf = session.body().get("csrfToken").asText();

        assertEquals(401, control.call("POST", "/api/v1/ui/session", null, Map.of("code", code(link))).status(),
                "a link works once");
        // The cookie stands for the organization's token: its own devices, not another's, and nothing else.
        Map<String, String> withCookie = Map.of("Cookie", sessionCookie);
        assertEquals(200, control.call("GET", "/api/v1/organizations/" + org[0] + "/devices", null, null, withCookie)
                .status());
        assertEquals(404, control.call("GET", "/api/v1/organizations/" + control.organization("api-other")[0]
                + "/devices", null, null, withCookie).status());
        ConsoleFixture.Answer noCsrf = control.call("POST", "/api/v1/organizations/" + org[0] + "/keys", null,
                Map.of(), withCookie);
        assertEquals(403, noCsrf.status(), noCsrf.text());
        assertEquals(201, control.call("POST", "/api/v1/organizations/" + org[0] + "/keys", null, Map.of(),
                Map.of("Cookie", sessionCookie, "X-CSRF-Token", csrf)).status());

        assertEquals(200, control.call("DELETE", "/api/v1/ui/session", null, null,
                Map.of("Cookie", sessionCookie, "X-CSRF-Token", csrf)).status());
        assertEquals(401, control.call("GET", "/api/v1/organizations/" + org[0] + "/devices", null, null, withCookie)
                .status(), "logout ended the session");
    }

    @Test
    void loginRefusesWhatIsNoConsoleCredential() throws Exception {
        assertEquals(401, control.call("POST", "/api/v1/ui/session", null, Map.of("token", "guess")).status());
        assertEquals(401, control.call("POST", "/api/v1/ui/session", null, Map.of("code", "0".repeat(32))).status());
        assertEquals(400, control.call("POST", "/api/v1/ui/session", null, Map.of()).status());
        String[] org = control.organization("api-refuse");
        ConsoleFixture.Registered device = control.register(control.key(org[0], false), "dev-1", Map.of());
        assertEquals(403, control.call("POST", "/api/v1/ui/session", null, Map.of("token", device.token())).status(),
                "a device token is no console credential");
        assertEquals(403, control.call("POST", "/api/v1/ui/login-links", device.token(), null).status());
        assertEquals(401, control.call("POST", "/api/v1/ui/login-links", null, null).status());
        ConsoleFixture.Answer plain = control.call("POST", "/api/v1/ui/session", null,
                "{\"token\":\"" + ConsoleFixture.ADMIN + "\"}", Map.of("Content-Type", "text/plain"));
        assertEquals(415, plain.status(), "a cross-site form cannot log a browser in: " + plain.text());
    }

    @Test
    void aDeviceReportsItsOwnPathsToPeersOfItsOrganizationOnly() throws Exception {
        String[] org = control.organization("api-paths");
        String key = control.key(org[0], false);
        ConsoleFixture.Registered a = control.register(key, "a", Map.of());
        ConsoleFixture.Registered b = control.register(key, "b", Map.of());
        ConsoleFixture.Registered stranger = control.register(control.key(control.organization("api-stranger")[0],
                false), "s", Map.of());
        Map<String, Object> toB = Map.of("peerId", b.id(), "path", "relay", "latencyMillis", 40.5, "relay", "relay1",
                "reason", "relayed: no answer to probes");

        ConsoleFixture.Answer taken = control.call("POST", "/api/v1/devices/self/paths", a.token(),
                Map.of("peers", List.of(toB)));
        assertEquals(200, taken.status(), taken.text());
        assertEquals(1, taken.body().get("recorded").asInt());
        assertEquals(403, control.call("POST", "/api/v1/devices/self/paths", ConsoleFixture.ADMIN,
                Map.of("peers", List.of(toB))).status(), "only a device token reports paths");
        assertEquals(403, control.call("POST", "/api/v1/devices/self/paths", org[1],
                Map.of("peers", List.of(toB))).status());
        assertEquals(401, control.call("POST", "/api/v1/devices/self/paths", null,
                Map.of("peers", List.of(toB))).status());
        ConsoleFixture.Answer foreign = control.call("POST", "/api/v1/devices/self/paths", a.token(),
                Map.of("peers", List.of(Map.of("peerId", stranger.id(), "path", "direct"))));
        assertEquals(400, foreign.status(), foreign.text());
        assertTrue(foreign.body().get("error").asText().contains("peers[0].peerId"), foreign.text());
        assertEquals(400, control.call("POST", "/api/v1/devices/self/paths", a.token(),
                Map.of("peers", List.of(Map.of("peerId", b.id(), "path", "teleport")))).status());
        assertEquals(400, control.call("POST", "/api/v1/devices/self/paths", a.token(),
                Map.of("peers", List.of(Map.of("peerId", a.id(), "path", "direct")))).status(), "not itself");
        assertEquals(400, control.call("POST", "/api/v1/devices/self/paths", a.token(), "{\"peers\": 7}").status());
        assertEquals(400, control.call("POST", "/api/v1/devices/self/paths", a.token(),
                "{\"peers\": [{\"peerId\": \"" + b.id() + "\", \"path\": null}]}").status(), "a path is required");

        ConsoleFixture.Answer listed = control.call("GET", "/api/v1/organizations/" + org[0] + "/paths", org[1], null);
        assertEquals(200, listed.status(), listed.text());
        assertEquals(1, listed.body().get("devices").size());
        var report = listed.body().get("devices").get(0);
        assertEquals(a.id(), report.get("deviceId").asText());
        assertEquals(1, report.get("relay").asInt());
        assertEquals("relayed: no answer to probes", report.get("peers").get(0).get("reason").asText());
        assertEquals(404, control.call("GET", "/api/v1/organizations/" + org[0] + "/paths",
                control.organization("api-nosy")[1], null).status(), "another organization's token sees nothing");
        ConsoleFixture.Answer counts = control.call("GET", "/api/v1/organizations/" + org[0] + "/paths?peers=false&devices="
                + b.id(), ConsoleFixture.ADMIN, null);
        assertEquals(0, counts.body().get("devices").size(), counts.text());
    }

    @Test
    void thePathStreamStartsWithEveryReportAsAServerSentEvent() throws Exception {
        String[] org = control.organization("api-stream");
        String key = control.key(org[0], false);
        ConsoleFixture.Registered a = control.register(key, "a", Map.of());
        ConsoleFixture.Registered b = control.register(key, "b", Map.of());
        control.call("POST", "/api/v1/devices/self/paths", a.token(),
                Map.of("peers", List.of(Map.of("peerId", b.id(), "path", "direct", "latencyMillis", 1.5))));
        HttpClient client = HttpClient.newBuilder().sslContext(control.server.pin().controlContext()).build();
        HttpResponse<java.io.InputStream> response = client.send(HttpRequest.newBuilder(
                        URI.create(control.url + "/api/v1/organizations/" + org[0] + "/paths/stream"))
                .header("Authorization", "Bearer " + org[1]).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            assertEquals("event: paths", lines.readLine());
            String data = lines.readLine();
            assertTrue(data.startsWith("data: {") && data.contains(a.id()) && data.contains("\"direct\""), data);
        }
    }

    @Test
    void theConsolesRoutesAreInTheOpenApiDocument() throws Exception {
        var paths = control.call("GET", "/api/v1/openapi.json", null, null).body().get("paths");
        assertTrue(paths.get("/api/v1/devices/self/paths").has("post"));
        assertTrue(paths.get("/api/v1/organizations/{id}/paths").has("get"));
        assertTrue(paths.get("/api/v1/organizations/{id}/paths/stream").has("get"));
        assertTrue(paths.get("/api/v1/ui/login-links").has("post"));
        for (String method : List.of("post", "get", "delete")) {
            assertTrue(paths.get("/api/v1/ui/session").has(method), method);
        }
    }
}
