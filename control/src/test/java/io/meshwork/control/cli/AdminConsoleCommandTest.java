package io.meshwork.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code meshwork admin ui} and {@code meshwork admin paths} against a running control server. */
class AdminConsoleCommandTest {

    private static final String ADMIN = "mwa.admin-console-cli";
    private static AdminControl control;

    @BeforeAll
    static void start() throws Exception {
        control = new AdminControl(ADMIN, "mw-admin-console");
    }

    @AfterAll
    static void stop() {
        control.close();
    }

    @Test
    void uiPrintsALoginLinkThatWorksOnce() throws Exception {
        AdminRun link = control.admin("ui");
        assertEquals(0, link.exit(), link.err());
        String printed = link.out().strip();
        assertTrue(printed.startsWith(control.url + "/ui/#login="), printed);
        String code = printed.substring(printed.indexOf("#login=") + 7);
        HttpResponse<String> first = control.post("/api/v1/ui/session", null, Map.of("code", code));
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(AdminControl.JSON.readTree(first.body()).get("admin").asBoolean());
        HttpResponse<String> again = control.post("/api/v1/ui/session", null, Map.of("code", code));
        assertEquals(401, again.statusCode());

        AdminRun refused = AdminRun.run(control.url, "mwo.o000000000000.nope", "ui");
        assertEquals(AdminCommand.REFUSED, refused.exit());
        assertTrue(refused.err().startsWith("meshwork admin: 404 no such organization"), refused.err());
    }

    @Test
    void pathsPrintsTheReportedPathsAsATable() throws Exception {
        String org = control.admin("orgs", "create", "paths-cli").json().get("id").asText();
        assertEquals("no device of this organization has reported its paths",
                control.admin("paths", org).out().strip());
        String key = control.admin("keys", "create", org, "--reusable").json().get("key").asText();
        JsonNode web = control.register(key, "web-1");
        JsonNode db = control.register(key, "db-1");
        HttpResponse<String> reported = control.post("/api/v1/devices/self/paths", web.get("token").asText(),
                Map.of("peers", List.of(Map.of("peerId", db.get("id").asText(), "path", "relay",
                        "latencyMillis", 41.25, "relay", "relay1", "reason", "relayed: symmetric NAT\u001b[31m"))));
        assertEquals(200, reported.statusCode(), reported.body());

        AdminRun table = control.admin("paths", org);
        assertEquals(0, table.exit(), table.err());
        List<String> lines = table.out().lines().toList();
        assertEquals(2, lines.size(), table.out());
        assertTrue(lines.get(0).matches("DEVICE +PEER +PATH +LATENCY +RELAY +WHY"), lines.get(0));
        assertTrue(lines.get(1).matches("web-1 +db-1 +relay +41\\.3 ms +relay1 +relayed: symmetric NAT\\?\\[31m"),
                lines.get(1));

        AdminRun json = control.admin("paths", org, "--json");
        assertEquals(web.get("id").asText(), json.json().get("devices").get(0).get("deviceId").asText());
    }
}
