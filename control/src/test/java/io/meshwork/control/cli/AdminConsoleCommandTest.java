package io.meshwork.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code meshwork admin ui} and {@code meshwork admin paths} against a running control server. */
class AdminConsoleCommandTest {

    private static final String ADMIN = "mwa.admin-console-cli";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static ControlServer server;
    private static String url;

    @BeforeAll
    static void start() throws Exception {
        server = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", Files.createTempDirectory("mw-admin-console").toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", ADMIN,
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0))));
        url = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> post(String path, String token, Object body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode register(String key, String hostname) throws Exception {
        byte[] publicKey = new byte[32];
        ThreadLocalRandom.current().nextBytes(publicKey);
        HttpResponse<String> registered = post("/api/v1/register", key, Map.of("hostname", hostname,
                "publicKey", Base64.getEncoder().encodeToString(publicKey)));
        assertEquals(201, registered.statusCode(), registered.body());
        return JSON.readTree(registered.body());
    }

    @Test
    void uiPrintsALoginLinkThatWorksOnce() throws Exception {
        AdminRun link = AdminRun.run(url, ADMIN, "ui");
        assertEquals(0, link.exit(), link.err());
        String printed = link.out().strip();
        assertTrue(printed.startsWith(url + "/ui/#login="), printed);
        String code = printed.substring(printed.indexOf("#login=") + 7);
        HttpResponse<String> first = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/ui/session"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"code\":\"" + code + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(JSON.readTree(first.body()).get("admin").asBoolean());
        HttpResponse<String> again = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/ui/session"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"code\":\"" + code + "\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, again.statusCode());

        AdminRun refused = AdminRun.run(url, "mwo.o000000000000.nope", "ui");
        assertEquals(AdminCommand.REFUSED, refused.exit());
        assertTrue(refused.err().startsWith("meshwork admin: 404 no such organization"), refused.err());
    }

    @Test
    void pathsPrintsTheReportedPathsAsATable() throws Exception {
        String org = AdminRun.run(url, ADMIN, "orgs", "create", "paths-cli").json().get("id").asText();
        assertEquals("no device of this organization has reported its paths",
                AdminRun.run(url, ADMIN, "paths", org).out().strip());
        String key = AdminRun.run(url, ADMIN, "keys", "create", org, "--reusable").json().get("key").asText();
        JsonNode web = register(key, "web-1");
        JsonNode db = register(key, "db-1");
        HttpResponse<String> reported = post("/api/v1/devices/self/paths", web.get("token").asText(), Map.of("peers",
                List.of(Map.of("peerId", db.get("id").asText(), "path", "relay", "latencyMillis", 41.25,
                        "relay", "relay1", "reason", "relayed: symmetric NAT\u001b[31m"))));
        assertEquals(200, reported.statusCode(), reported.body());

        AdminRun table = AdminRun.run(url, ADMIN, "paths", org);
        assertEquals(0, table.exit(), table.err());
        List<String> lines = table.out().lines().toList();
        assertEquals(2, lines.size(), table.out());
        assertTrue(lines.get(0).matches("DEVICE +PEER +PATH +LATENCY +RELAY +WHY"), lines.get(0));
        assertTrue(lines.get(1).matches("web-1 +db-1 +relay +41\\.3 ms +relay1 +relayed: symmetric NAT\\?\\[31m"),
                lines.get(1));

        AdminRun json = AdminRun.run(url, ADMIN, "paths", org, "--json");
        assertEquals(web.get("id").asText(), json.json().get("devices").get(0).get("deviceId").asText());
    }
}
