package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.ControlServer;
import io.meshwork.control.cli.AdminRun;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An organization's DNS through the API (docs/api.md, "DNS"): the domain, custom records of every type with their
 * checks, and the "dns" events that bring both to the organization's devices on the peer-map stream.
 */
class DnsApiTest {

    private static final String ADMIN = ControlApiTest.ADMIN;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ControlServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-dns"), Map.of());
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static ControlApiTest.Answer call(String method, String path, String token, String body)
            throws Exception {
        return ControlApiTest.call(base, method, path, token, body);
    }

    private static String organization(String name) throws Exception {
        return call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"" + name + "\"}").body().get("id").asText();
    }

    private static JsonNode register(String organization, String hostname, int seed) throws Exception {
        String key = call("POST", "/api/v1/organizations/" + organization + "/keys", ADMIN, "{\"reusable\":true}")
                .body().get("key").asText();
        byte[] publicKey = new byte[32];
        publicKey[0] = (byte) seed;
        publicKey[1] = 0x44;
        publicKey[31] = 9;
        ControlApiTest.Answer device = call("POST", "/api/v1/register", key, "{\"publicKey\":\""
                + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"" + hostname + "\"}");
        assertEquals(201, device.status(), String.valueOf(device.body()));
        return device.body();
    }

    /** The "dns" events of a device's peer stream. */
    private static BlockingQueue<JsonNode> dnsEvents(String token) {
        BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(URI.create(base + "/api/v1/peers/stream"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofLines())
                .thenAccept(response -> {
                    try (Stream<String> lines = response.body()) {
                        lines.forEach(line -> {
                            try {
                                JsonNode event = JSON.readTree(line);
                                if (event.path("type").asText().equals("dns")) {
                                    events.add(event);
                                }
                            } catch (Exception e) {
                                events.add(JSON.createObjectNode().put("type", "unparseable"));
                            }
                        });
                    }
                });
        return events;
    }

    private static JsonNode next(BlockingQueue<JsonNode> events) throws InterruptedException {
        JsonNode event = events.poll(10, TimeUnit.SECONDS);
        assertNotNull(event, "a dns event within 10 s");
        return event;
    }

    @Test
    void theDomainIsMeshworkInternalUntilChangedAndChecked() throws Exception {
        String org = organization("dns-domain");
        String path = "/api/v1/organizations/" + org;
        assertEquals("meshwork.internal", call("GET", path + "/dns", ADMIN, null).body().get("domain").asText());
        ControlApiTest.Answer changed = call("PATCH", path, ADMIN, "{\"dnsDomain\":\"Corp.Example.\"}");
        assertEquals(200, changed.status(), String.valueOf(changed.body()));
        assertEquals("corp.example", changed.body().get("dnsDomain").asText());
        assertEquals("corp.example", call("GET", path + "/dns", ADMIN, null).body().get("domain").asText());
        for (String bad : new String[] {"internal", "bad_label.example", "", "a..b", "-x.example"}) {
            ControlApiTest.Answer refused = call("PATCH", path, ADMIN, "{\"dnsDomain\":\"" + bad + "\"}");
            assertEquals(400, refused.status(), bad + ": " + refused.body());
            assertTrue(refused.body().get("error").asText().contains("dnsDomain"), refused.body().toString());
        }
        assertEquals(400, call("PATCH", path, ADMIN, "{\"name\":\"renamed\"}").status(), "only dnsDomain");
        assertEquals(400, call("PATCH", path, ADMIN, "not json").status());
        String other = call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"dns-other\"}").body()
                .get("apiToken").asText();
        int foreign = call("PATCH", path, other, "{\"dnsDomain\":\"evil.example\"}").status();
        assertTrue(foreign == 403 || foreign == 404, "another organization's token: " + foreign);
        assertEquals(401, call("PATCH", path, null, "{\"dnsDomain\":\"x.example\"}").status());
        assertEquals("corp.example", call("GET", path + "/dns", ADMIN, null).body().get("domain").asText());
    }

    @Test
    void recordsOfEveryTypeAreCheckedListedAndDeleted() throws Exception {
        String org = organization("dns-records");
        String records = "/api/v1/organizations/" + org + "/dns/records";
        String[][] good = {
            {"{\"name\":\"api\",\"type\":\"A\",\"value\":\"192.0.2.10\",\"ttl\":120}", "api.meshwork.internal"},
            {"{\"name\":\"api.meshwork.internal\",\"type\":\"aaaa\",\"value\":\"2001:DB8::10\"}", "api.meshwork.internal"},
            {"{\"name\":\"www\",\"type\":\"CNAME\",\"value\":\"db-1\"}", "www.meshwork.internal"},
            {"{\"name\":\"info\",\"type\":\"TXT\",\"value\":\"v=spf1 -all\"}", "info.meshwork.internal"},
            {"{\"name\":\"_pg._tcp\",\"type\":\"SRV\",\"value\":\"10 5 5432 db-1\"}", "_pg._tcp.meshwork.internal"}};
        String firstId = null;
        for (String[] record : good) {
            ControlApiTest.Answer created = call("POST", records, ADMIN, record[0]);
            assertEquals(201, created.status(), record[0] + ": " + created.body());
            assertEquals(record[1], created.body().get("name").asText());
            assertTrue(created.body().get("id").asText().startsWith("r"));
            firstId = firstId == null ? created.body().get("id").asText() : firstId;
        }
        JsonNode listed = call("GET", records, ADMIN, null).body();
        assertEquals(5, listed.size(), listed.toString());
        assertEquals("AAAA", listed.get(1).get("type").asText());
        assertEquals("2001:db8::10", listed.get(1).get("value").asText());
        String[][] bad = {
            {"{\"name\":\"x\",\"type\":\"MX\",\"value\":\"10 mail\"}", "type"},
            {"{\"name\":\"x\",\"type\":\"A\",\"value\":\"2001:db8::1\"}", "IPv4"},
            {"{\"name\":\"x\",\"type\":\"A\",\"value\":\"not-an-ip\"}", "IP"},
            {"{\"name\":\"bad name\",\"type\":\"A\",\"value\":\"192.0.2.1\"}", "name"},
            {"{\"name\":\"x\",\"type\":\"A\"}", "value"},
            {"{\"name\":\"x\",\"type\":\"A\",\"value\":\"192.0.2.1\",\"ttl\":-1}", "ttl"},
            {"{\"name\":\"x\",\"type\":\"SRV\",\"value\":\"10 5 db-1\"}", "SRV"},
            {"{\"name\":\"x\",\"type\":\"SRV\",\"value\":\"10 5 70000 db-1\"}", "65535"},
            {"{\"name\":\"x\",\"type\":\"CNAME\",\"value\":\"no spaces\"}", "CNAME"},
            {"{\"name\":\"x\",\"type\":\"TXT\",\"value\":\"" + "a".repeat(3000) + "\"}", "TXT"},
            {"{\"name\":\"x\",\"type\":\"A\",\"value\":\"192.0.2.1\",\"extra\":1}", ""}};
        for (String[] record : bad) {
            ControlApiTest.Answer refused = call("POST", records, ADMIN, record[0]);
            assertEquals(400, refused.status(), record[0] + ": " + refused.body());
            assertTrue(refused.body().get("error").asText().contains(record[1]), refused.body().toString());
        }
        assertEquals(409, call("POST", records, ADMIN, "{\"name\":\"api\",\"type\":\"CNAME\",\"value\":\"db-1\"}")
                .status(), "a CNAME beside other records");
        assertEquals(409, call("POST", records, ADMIN, "{\"name\":\"api\",\"type\":\"A\",\"value\":\"192.0.2.10\"}")
                .status(), "the same record twice");

        assertEquals(200, call("DELETE", records + "/" + firstId, ADMIN, null).status());
        assertEquals(404, call("DELETE", records + "/" + firstId, ADMIN, null).status());
        assertEquals(200, call("DELETE", records + "?name=info&type=TXT", ADMIN, null).status());
        assertEquals(404, call("DELETE", records + "?name=info", ADMIN, null).status());
        assertEquals(400, call("DELETE", records, ADMIN, null).status(), "a name or an id is needed");
        assertEquals(3, call("GET", records, ADMIN, null).body().size());
    }

    @Test
    void devicesGetTheSettingsOnTheirStreamAndEveryChange() throws Exception {
        String org = organization("dns-stream");
        JsonNode device = register(org, "Build_Server.2", 80);
        BlockingQueue<JsonNode> events = dnsEvents(device.get("token").asText());
        JsonNode first = next(events);
        assertEquals("meshwork.internal", first.at("/dns/domain").asText());
        assertEquals(0, first.at("/dns/records").size());

        String path = "/api/v1/organizations/" + org;
        assertEquals(201, call("POST", path + "/dns/records", ADMIN,
                "{\"name\":\"db\",\"type\":\"A\",\"value\":\"192.0.2.5\"}").status());
        JsonNode added = next(events);
        assertEquals("db.meshwork.internal", added.at("/dns/records/0/name").asText());
        assertEquals("192.0.2.5", added.at("/dns/records/0/value").asText());

        assertEquals(200, call("PATCH", path, ADMIN, "{\"dnsDomain\":\"lab.example\"}").status());
        JsonNode moved = next(events);
        assertEquals("lab.example", moved.at("/dns/domain").asText());
        assertEquals("db.lab.example", moved.at("/dns/records/0/name").asText(), "records move with the domain");

        JsonNode listed = call("GET", path + "/devices", ADMIN, null).body();
        assertEquals("build-server-2", listed.at("/devices/0/dnsName").asText(), listed.toString());
    }

    @Test
    void theAdminCommandLineSetsTheDomainAndAddsListsAndDeletesRecords() throws Exception {
        String org = organization("dns-cli");
        AdminRun domain = AdminRun.run(base, ADMIN, "dns", "domain", org, "corp.internal");
        assertEquals(0, domain.exit(), domain.err());
        assertEquals("corp.internal", domain.json().get("dnsDomain").asText());
        AdminRun added = AdminRun.run(base, ADMIN, "dns", "add", org, "db", "A", "192.0.2.20", "--ttl", "30");
        assertEquals(0, added.exit(), added.err());
        assertEquals("db.corp.internal", added.json().get("name").asText());
        assertEquals(30, added.json().get("ttl").asInt());
        AdminRun srv = AdminRun.run(base, ADMIN, "dns", "add", org, "_pg._tcp", "SRV", "10 5 5432 db");
        assertEquals(0, srv.exit(), srv.err());
        AdminRun bad = AdminRun.run(base, ADMIN, "dns", "add", org, "x", "A", "not-an-ip");
        assertEquals(1, bad.exit(), "a refusal exits 1: " + bad.out());
        assertTrue(bad.err().contains("IP"), bad.err());
        AdminRun records = AdminRun.run(base, ADMIN, "dns", "records", org);
        assertEquals(2, records.json().size(), records.out());
        assertEquals(0, AdminRun.run(base, ADMIN, "dns", "delete", org, added.json().get("id").asText()).exit());
        assertEquals(0, AdminRun.run(base, ADMIN, "dns", "delete", org, "--name", "_pg._tcp", "--type", "SRV")
                .exit());
        AdminRun shown = AdminRun.run(base, ADMIN, "dns", "get", org);
        assertEquals("corp.internal", shown.json().get("domain").asText());
        assertEquals(0, shown.json().get("records").size());
        assertEquals(2, AdminRun.run(base, ADMIN, "dns", "delete", org).exit(), "an id or --name is needed");
    }
}
