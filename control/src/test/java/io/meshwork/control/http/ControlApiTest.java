package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.organization.Organization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The control API through a real HTTP client against a running control plane on embedded H2. */
class ControlApiTest {

    static final String ADMIN = "mwa.test-admin-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /**
     * Where peer-stream bodies are read, line by line until the stream ends: never the test's own thread, which a
     * plain thenAccept would use when the response had already arrived, blocking the test until the stream ends.
     */
    private static final java.util.concurrent.Executor STREAM_READERS = java.util.concurrent.Executors
            .newCachedThreadPool(runnable -> {
                Thread thread = new Thread(runnable, "peer-stream-reader");
                thread.setDaemon(true);
                return thread;
            });
    private static Path data;
    private static ControlServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        data = Files.createTempDirectory("mwc-api");
        server = startServer(data, Map.of());
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    static ControlServer startServer(Path dataDir, Map<String, Object> extra) throws Exception {
        Map<String, Object> overrides = new java.util.HashMap<>(Map.of(
                "meshwork.control.data-dir", dataDir.toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", ADMIN,
                "meshwork.control.stream-coalesce-window", "50ms",
                // Streams must learn of changes through pub-sub: the safety poll never fires during a test.
                "meshwork.control.stream-safety-poll", "1h",
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0));
        overrides.putAll(extra);
        return ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(overrides)));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    record Answer(int status, JsonNode body) {}

    static Answer call(String base, String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = response.body().isEmpty() ? null : JSON.readTree(response.body());
        return new Answer(response.statusCode(), json);
    }

    private Answer call(String method, String path, String token, String body) throws Exception {
        return call(base, method, path, token, body);
    }

    private static String publicKey(int seed) {
        byte[] key = new byte[32];
        key[0] = (byte) seed;
        key[31] = 9;
        return Base64.getEncoder().encodeToString(key);
    }

    record Org(String id, String apiToken, String reusableKey) {}

    private Org organization(String name) throws Exception {
        Answer org = call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"" + name + "\"}");
        assertEquals(201, org.status(), String.valueOf(org.body()));
        String id = org.body().get("id").asText();
        Answer key = call("POST", "/api/v1/organizations/" + id + "/keys", ADMIN, "{\"reusable\":true}");
        assertEquals(201, key.status());
        return new Org(id, org.body().get("apiToken").asText(), key.body().get("key").asText());
    }

    private JsonNode register(String key, String hostname, int seed) throws Exception {
        Answer answer = call("POST", "/api/v1/register", key,
                "{\"publicKey\":\"" + publicKey(seed) + "\",\"hostname\":\"" + hostname + "\"}");
        assertEquals(201, answer.status(), String.valueOf(answer.body()));
        return answer.body();
    }

    @Test
    void healthReadyMetricsAndOpenApi() throws Exception {
        assertEquals("ok", call("GET", "/health", null, null).body().get("status").asText());
        assertEquals(200, call("GET", "/ready", null, null).status());
        // The metrics listener serves anyone who reaches it; on the API listener /metrics is the admin token's.
        HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.metricsAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("meshwork_registrations"), metrics.body());
        HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.metricsAddress().getPort() + "/api/v1/organizations")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, other.statusCode(), "the metrics listener serves nothing else");
        assertTrue(JSON.readTree(other.body()).has("error"), other.body());
        HttpResponse<String> withoutToken = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, withoutToken.statusCode(), withoutToken.body());
        assertTrue(JSON.readTree(withoutToken.body()).has("error"), withoutToken.body());
        HttpResponse<String> withToken = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .header("Authorization", "Bearer " + ADMIN).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, withToken.statusCode());
        assertTrue(withToken.body().contains("meshwork_registrations"), withToken.body());
        JsonNode openApi = call("GET", "/api/v1/openapi.json", null, null).body();
        assertTrue(openApi.at("/paths").has("/api/v1/register"));
        assertTrue(openApi.at("/paths").has("/api/v1/peers/stream"));
        assertTrue(openApi.at("/paths/~1api~1v1~1organizations").has("get"), "listing organizations is documented");
        assertTrue(openApi.at("/paths/~1api~1v1~1relays~1tokens").has("get"), "listing relay tokens is documented");
        assertTrue(openApi.at("/paths/~1api~1v1~1relays~1tokens~1{tokenId}").has("delete"));
        assertTrue(openApi.at("/paths/~1api~1v1~1relays~1{id}").has("delete"));
    }

    @Test
    void theClusterViewListsThisMemberUpAndIsForTheAdminOnly() throws Exception {
        JsonNode cluster = call("GET", "/api/v1/cluster", ADMIN, null).body();
        assertEquals(1, cluster.get("members").size(), cluster.toString());
        assertEquals("Up", cluster.at("/members/0/status").asText());
        assertEquals(cluster.get("self").asText(), cluster.at("/members/0/address").asText());
        assertEquals(cluster.get("self").asText(), cluster.get("leader").asText());
        assertEquals(0, cluster.get("unreachable").size());
        assertEquals(401, call("GET", "/api/v1/cluster", null, null).status());
        assertEquals(401, call("GET", "/api/v1/cluster", "mwa.wrong", null).status());
    }

    @Test
    void registrationGivesAddressesTokenAndACertificateForTheWireGuardKey() throws Exception {
        Org org = organization("reg");
        JsonNode device = register(org.reusableKey(), "alpha", 1);
        assertTrue(device.get("id").asText().startsWith(org.id() + "-"));
        assertEquals("100.64.0.1", device.get("overlayIps").get(0).asText());
        assertTrue(device.get("overlayIps").get(1).asText().startsWith("fd"));
        assertTrue(device.get("observedAddress").asText().startsWith("127.0.0.1:"));
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        X509Certificate certificate = (X509Certificate) factory.generateCertificate(
                new ByteArrayInputStream(device.get("certificate").asText().getBytes()));
        X509Certificate ca = (X509Certificate) factory.generateCertificate(
                new ByteArrayInputStream(device.get("caCertificate").asText().getBytes()));
        certificate.verify(ca.getPublicKey());
        assertTrue(certificate.getSubjectX500Principal().getName().contains(device.get("id").asText()));
        assertTrue(certificate.getSubjectAlternativeNames().toString().contains("urn:meshwork:wireguard:01"));
        assertEquals(200, report(device.get("token").asText()).status());
        assertEquals(409, call("POST", "/api/v1/register", org.reusableKey(),
                "{\"publicKey\":\"" + publicKey(1) + "\",\"hostname\":\"again\"}").status(),
                "the same WireGuard key twice, once the device has been seen");
    }

    @Test
    void theObservedAddressIsTheConnectionsNotAForwardedForHeader() throws Exception {
        Org org = organization("forwarded");
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/register"))
                .header("Authorization", "Bearer " + org.reusableKey()).header("X-Forwarded-For", "203.0.113.50")
                .header("X-Real-IP", "203.0.113.51")
                .POST(HttpRequest.BodyPublishers.ofString("{\"publicKey\":\"" + publicKey(25)
                        + "\",\"hostname\":\"forwarded\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, response.statusCode(), response.body());
        assertTrue(JSON.readTree(response.body()).get("observedAddress").asText().startsWith("127.0.0.1:"),
                response.body());
    }

    private static X509Certificate certificateOf(JsonNode registered) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(registered.get("certificate").asText().getBytes()));
    }

    private Answer registerAgain(String key, int seed) throws Exception {
        return call("POST", "/api/v1/register", key,
                "{\"publicKey\":\"" + publicKey(seed) + "\",\"hostname\":\"retry\"}");
    }

    private Answer report(String deviceToken) throws Exception {
        return call("POST", "/api/v1/devices/self/endpoints", deviceToken,
                "{\"endpoints\":[{\"address\":\"198.51.100.1:41641\",\"source\":\"stun\"}]}");
    }

    @Test
    void aRegistrationWhoseAnswerWasLostIsRepeatedWithNewCredentialsForTheSameDevice() throws Exception {
        Org org = organization("retry");
        String relayToken = call("POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"retry-relay\"}")
                .body().get("token").asText();
        String relayId = call("POST", "/api/v1/relays/register", relayToken, "{\"udp\":\"192.0.2.9:3340\"}")
                .body().get("relayId").asText();

        JsonNode lost = register(org.reusableKey(), "lost", 90);
        Answer again = registerAgain(org.reusableKey(), 90);
        assertEquals(201, again.status(), String.valueOf(again.body()));
        JsonNode repeated = again.body();
        assertEquals(lost.get("id").asText(), repeated.get("id").asText());
        assertEquals(lost.get("overlayIps"), repeated.get("overlayIps"));
        assertFalse(lost.get("token").asText().equals(repeated.get("token").asText()));
        X509Certificate before = certificateOf(lost);
        X509Certificate after = certificateOf(repeated);
        assertTrue(after.getSubjectX500Principal().getName().contains("CN=" + lost.get("id").asText()),
                after.getSubjectX500Principal().getName());
        assertFalse(before.getSerialNumber().equals(after.getSerialNumber()));
        JsonNode revoked = call("GET", "/api/v1/relays/" + relayId + "/revocations", relayToken, null).body();
        assertTrue(revoked.get("serials").toString().contains("\"" + before.getSerialNumber().toString(16) + "\""),
                revoked.toString());
        assertFalse(revoked.get("serials").toString().contains("\"" + after.getSerialNumber().toString(16) + "\""),
                revoked.toString());

        assertEquals(401, report(lost.get("token").asText()).status(), "the first answer's token no longer works");
        assertEquals(200, report(repeated.get("token").asText()).status());
        JsonNode devices = call("GET", "/api/v1/organizations/" + org.id() + "/devices", org.apiToken(), null).body();
        assertEquals(1, devices.get("total").asInt(), "one device, not two");
        assertEquals(409, registerAgain(org.reusableKey(), 90).status(),
                "once the device has reported, its node had an answer: no more repeats");
    }

    @Test
    void aSingleUseKeyRepeatsItsOneRegistrationAndNothingElse() throws Exception {
        Org org = organization("retry-single");
        String single = call("POST", "/api/v1/organizations/" + org.id() + "/keys", org.apiToken(),
                "{\"reusable\":false}").body().get("key").asText();
        JsonNode first = register(single, "once", 91);
        Answer again = registerAgain(single, 91);
        assertEquals(201, again.status(), String.valueOf(again.body()));
        assertEquals(first.get("id").asText(), again.body().get("id").asText());
        assertEquals(200, report(again.body().get("token").asText()).status());
        Answer other = registerAgain(single, 92);
        assertEquals(401, other.status(), "another public key is a second use");
        assertEquals("registration key already used", other.body().get("error").asText());
    }

    @Test
    void aRepeatNeedsTheSameKeyAnUnseenAndUnrevokedDevice() throws Exception {
        Org org = organization("retry-refused");
        String otherKey = call("POST", "/api/v1/organizations/" + org.id() + "/keys", org.apiToken(),
                "{\"reusable\":true}").body().get("key").asText();
        JsonNode device = register(org.reusableKey(), "refused", 93);
        Answer byAnotherKey = registerAgain(otherKey, 93);
        assertEquals(409, byAnotherKey.status(), "another key of the organization");
        assertTrue(byAnotherKey.body().get("error").asText().contains(device.get("id").asText()));

        JsonNode seen = register(org.reusableKey(), "seen", 94);
        assertEquals(200, report(seen.get("token").asText()).status());
        assertEquals(409, registerAgain(org.reusableKey(), 94).status(), "a device that reported endpoints");
        assertEquals(200, report(seen.get("token").asText()).status(), "and its token still works");

        JsonNode revoked = register(org.reusableKey(), "revoked", 95);
        assertEquals(200, call("POST", "/api/v1/devices/" + revoked.get("id").asText() + "/revoke", ADMIN, null)
                .status());
        assertEquals(409, registerAgain(org.reusableKey(), 95).status(), "a revoked device");

        JsonNode deleted = register(org.reusableKey(), "deleted", 96);
        assertEquals(200, call("DELETE", "/api/v1/devices/" + deleted.get("id").asText(), ADMIN, null).status());
        Answer afresh = registerAgain(org.reusableKey(), 96);
        assertEquals(201, afresh.status(), "a deleted device's key registers a new device");
        assertFalse(deleted.get("id").asText().equals(afresh.body().get("id").asText()));
    }

    @Test
    void singleUseKeysRegisterOnceAndRevokedKeysNever() throws Exception {
        Org org = organization("keys");
        String single = call("POST", "/api/v1/organizations/" + org.id() + "/keys", org.apiToken(),
                "{\"reusable\":false,\"expiresInSeconds\":3600}").body().get("key").asText();
        register(single, "one", 10);
        Answer second = call("POST", "/api/v1/register", single,
                "{\"publicKey\":\"" + publicKey(11) + "\",\"hostname\":\"two\"}");
        assertEquals(401, second.status());
        assertEquals("registration key already used", second.body().get("error").asText());
        String keyId = org.reusableKey().split("\\.")[2];
        assertEquals(200, call("DELETE", "/api/v1/organizations/" + org.id() + "/keys/" + keyId, ADMIN, null).status());
        assertEquals("registration key revoked", call("POST", "/api/v1/register", org.reusableKey(),
                "{\"publicKey\":\"" + publicKey(12) + "\",\"hostname\":\"three\"}").body().get("error").asText());
        JsonNode keys = call("GET", "/api/v1/organizations/" + org.id() + "/keys", org.apiToken(), null).body();
        assertEquals(2, keys.size());
        assertFalse(keys.toString().contains("mwk."), "secrets are never listed");
    }

    @Test
    void authFailuresAreJsonAndOrganizationsAreIsolated() throws Exception {
        Org mine = organization("mine");
        Org theirs = organization("theirs");
        JsonNode theirDevice = register(theirs.reusableKey(), "secret-box", 20);
        assertEquals(401, call("POST", "/api/v1/organizations", null, "{\"name\":\"x\"}").status());
        assertEquals(401, call("POST", "/api/v1/organizations", "nonsense", "{\"name\":\"x\"}").status());
        Answer forbidden = call("POST", "/api/v1/organizations", mine.apiToken(), "{\"name\":\"x\"}");
        assertEquals(403, forbidden.status());
        assertEquals("this needs the admin token", forbidden.body().get("error").asText());
        assertEquals(404, call("GET", "/api/v1/organizations/" + theirs.id(), mine.apiToken(), null).status());
        assertEquals(404, call("GET", "/api/v1/organizations/" + theirs.id() + "/devices", mine.apiToken(), null).status());
        assertEquals(404, call("GET", "/api/v1/devices/" + theirDevice.get("id").asText(), mine.apiToken(), null).status());
        assertEquals(404, call("DELETE", "/api/v1/devices/" + theirDevice.get("id").asText(), mine.apiToken(), null).status());
        assertEquals(401, call("GET", "/api/v1/organizations/" + mine.id(), "mwo." + mine.id() + ".forged", null).status());
        assertEquals(200, call("GET", "/api/v1/organizations/" + mine.id(), mine.apiToken(), null).status());
        assertEquals(403, call("GET", "/api/v1/peers/stream", mine.apiToken(), null).status(), "streams need a device token");
        Answer device = call("POST", "/api/v1/devices/self/endpoints", "mwd." + theirDevice.get("id").asText() + ".bad", "{}");
        assertEquals(401, device.status());
        assertNotNull(device.body().get("error"));
    }

    @Test
    void idsThatControlNeverMakesAreRefusedByTheirShape() throws Exception {
        Org org = organization("shapes");
        JsonNode device = register(org.reusableKey(), "shaped", 21);
        String deviceId = device.get("id").asText();
        for (String path : List.of("/api/v1/organizations/acme", "/api/v1/organizations/O" + org.id().substring(1),
                "/api/v1/organizations/acme/devices", "/api/v1/organizations/acme/keys",
                "/api/v1/organizations/acme/security-groups", "/api/v1/devices/" + org.id() + "-dnothex",
                "/api/v1/devices/" + deviceId + "x", "/api/v1/devices/x-d")) {
            Answer answer = call("GET", path, ADMIN, null);
            assertEquals(404, answer.status(), path + " " + answer.body());
            assertNotNull(answer.body().get("error"), path);
        }
        assertEquals(404, call("DELETE", "/api/v1/organizations/acme", ADMIN, null).status());
        assertEquals(401, call("POST", "/api/v1/register", "mwk.acme.k00000000.secret",
                "{\"publicKey\":\"" + publicKey(22) + "\",\"hostname\":\"x\"}").status());
        assertEquals(401, call("POST", "/api/v1/devices/self/endpoints", "mwd.acme-d1.secret", "{}").status());
        assertEquals(401, call("GET", "/api/v1/organizations/acme", "mwo.acme.secret", null).status());
        assertEquals(200, call("GET", "/api/v1/devices/" + deviceId, ADMIN, null).status());
    }

    private Answer reportBody(String token, String body) throws Exception {
        return call("POST", "/api/v1/devices/self/endpoints", token, body);
    }

    @Test
    void endpointReportsTakeOnlyEndpointsPeersMayBeSentToAndTheKnownNatFields() throws Exception {
        Org org = organization("reports");
        String token = register(org.reusableKey(), "reporter", 23).get("token").asText();
        Map<String, String> refused = Map.of(
                "{\"address\":\"127.0.0.1:41641\",\"source\":\"local\"}", "loopback",
                "{\"address\":\"0.0.0.0:41641\",\"source\":\"stun\"}", "unspecified",
                "{\"address\":\"224.0.0.1:41641\",\"source\":\"stun\"}", "multicast",
                "{\"address\":\"169.254.169.254:80\",\"source\":\"local\"}", "link-local",
                "{\"address\":\"[fe80::1]:41641\",\"source\":\"local\"}", "link-local",
                "{\"address\":\"10.1.2.3:41641\",\"source\":\"stun\"}", "only a local endpoint",
                "{\"address\":\"10.1.2.4:41641\",\"source\":\"portmap\"}", "only a local endpoint",
                "{\"address\":\"198.51.100.1:41641\",\"source\":\"control\"}", "source must be",
                "{\"address\":\"example.com:41641\",\"source\":\"stun\"}", "not ip:port",
                "{\"address\":\"198.51.100.1\",\"source\":\"stun\"}", "not ip:port");
        for (Map.Entry<String, String> bad : refused.entrySet()) {
            Answer answer = reportBody(token, "{\"endpoints\":[{\"address\":\"203.0.113.1:41641\",\"source\":"
                    + "\"stun\"}," + bad.getKey() + "]}");
            assertEquals(400, answer.status(), bad.getKey());
            String error = answer.body().get("error").asText();
            assertTrue(error.startsWith("endpoints[1] ") && error.contains(bad.getValue()), error);
        }
        StringBuilder seventeen = new StringBuilder("{\"endpoints\":[");
        for (int i = 0; i < 17; i++) {
            seventeen.append(i == 0 ? "" : ",").append("{\"address\":\"203.0.113.1:").append(1000 + i)
                    .append("\",\"source\":\"stun\"}");
        }
        assertEquals(400, reportBody(token, seventeen + "]}").status(), "at most 16 endpoints");
        Map<String, String> badNat = Map.of(
                "{\"udp\":\"yes\"}", "nat.udp must be",
                "{\"classic\":\"" + "x".repeat(65) + "\"}", "nat.classic: at most 64",
                "{\"publicEndpoints\":[" + "\"203.0.113.1:1\",".repeat(16) + "\"203.0.113.1:1\"]}",
                "nat.publicEndpoints: at most 16",
                "{\"servers\":[{\"server\":7}]}", "nat.servers[0].server must be a string");
        for (Map.Entry<String, String> bad : badNat.entrySet()) {
            Answer answer = reportBody(token, "{\"endpoints\":[],\"nat\":" + bad.getKey() + "}");
            assertEquals(400, answer.status(), bad.getKey());
            assertTrue(answer.body().get("error").asText().contains(bad.getValue()), answer.body().toString());
        }
        StringBuilder servers = new StringBuilder("{\"endpoints\":[],\"nat\":{\"servers\":[");
        for (int i = 0; i < 16; i++) {
            servers.append(i == 0 ? "" : ",").append("{\"server\":\"").append("x".repeat(64)).append("\",\"mapped\":\"")
                    .append("y".repeat(64)).append("\",\"otherAddress\":\"").append("z".repeat(64)).append("\"}");
        }
        servers.append("],\"publicEndpoints\":[").append(("\"" + "p".repeat(64) + "\",").repeat(15))
                .append("\"p\"");
        Answer tooBig = reportBody(token, servers + "]}}");
        assertEquals(400, tooBig.status());
        assertTrue(tooBig.body().get("error").asText().contains("4096 bytes"), tooBig.body().toString());

        Answer good = reportBody(token, "{\"endpoints\":[{\"address\":\"192.168.1.5:41641\",\"source\":\"local\"},"
                + "{\"address\":\"198.51.100.5:51820\",\"source\":\"portmap\"},"
                + "{\"address\":\"[2001:db8::5]:41641\",\"source\":\"stun\"},"
                + "{\"address\":\"[2001:db8:2::10]:41641\",\"source\":\"local\"}],"
                + "\"nat\":{\"udp\":true,\"mapping\":\"ENDPOINT_INDEPENDENT\",\"hairpin\":null,\"extra\":{\"big\":1},"
                + "\"servers\":[{\"server\":\"203.0.113.7:3478\",\"answered\":true,\"rttMillis\":1.5,\"x\":1}]}}");
        assertEquals(200, good.status(), String.valueOf(good.body()));
        String deviceId = TokenKind.DEVICE.parse(token).orElseThrow().id();
        JsonNode stored = call("GET", "/api/v1/devices/" + deviceId, ADMIN, null).body();
        assertTrue(stored.get("endpoints").toString().contains("192.168.1.5:41641"), stored.toString());
        assertTrue(stored.get("endpoints").toString()
                .contains("{\"address\":\"198.51.100.5:51820\",\"source\":\"portmap\"}"), stored.toString());
        assertTrue(stored.get("endpoints").toString()
                .contains("{\"address\":\"[2001:db8::5]:41641\",\"source\":\"stun\"}"), stored.toString());
        assertTrue(stored.get("endpoints").toString()
                .contains("{\"address\":\"[2001:db8:2::10]:41641\",\"source\":\"local\"}"),
                "a global IPv6 interface address is a local endpoint: " + stored);
        assertEquals("ENDPOINT_INDEPENDENT", stored.at("/nat/mapping").asText(), stored.toString());
        assertFalse(stored.get("nat").has("extra"), "unknown NAT fields are dropped: " + stored);
        assertFalse(stored.at("/nat/servers/0").has("x"), stored.toString());
        assertEquals(1.5, stored.at("/nat/servers/0/rttMillis").asDouble());

        Answer registration = call("POST", "/api/v1/register", org.reusableKey(), "{\"publicKey\":\"" + publicKey(24)
                + "\",\"hostname\":\"x\",\"endpoints\":[{\"address\":\"127.0.0.1:1\",\"source\":\"local\"}]}");
        assertEquals(400, registration.status(), "registration endpoints follow the same rules");
        assertTrue(registration.body().get("error").asText().contains("loopback"));
    }

    @Test
    void organizationsAreListedInPagesForTheAdminAndOnlyItsOwnForAnOrganizationToken() throws Exception {
        Org first = organization("listing-a");
        Org second = organization("listing-b");
        organization("listing-c");
        JsonNode all = call("GET", "/api/v1/organizations?name=listing-", ADMIN, null).body();
        assertEquals(3, all.get("total").asInt(), all.toString());
        assertEquals("listing-a", all.at("/organizations/0/name").asText());
        assertEquals(first.id(), all.at("/organizations/0/id").asText());
        assertFalse(all.toString().contains("mwo."), "API tokens are never listed");
        JsonNode page = call("GET", "/api/v1/organizations?name=listing-&offset=1&limit=1", ADMIN, null).body();
        assertEquals(3, page.get("total").asInt());
        assertEquals(1, page.get("organizations").size());
        assertEquals("listing-b", page.at("/organizations/0/name").asText());

        JsonNode own = call("GET", "/api/v1/organizations", second.apiToken(), null).body();
        assertEquals(1, own.get("total").asInt(), own.toString());
        assertEquals(second.id(), own.at("/organizations/0/id").asText());

        assertEquals(200, call("DELETE", "/api/v1/organizations/" + first.id(), ADMIN, null).status());
        assertEquals(2, call("GET", "/api/v1/organizations?name=listing-", ADMIN, null).body().get("total").asInt());
        assertEquals(404, call("DELETE", "/api/v1/organizations/" + first.id(), ADMIN, null).status());
    }

    @Test
    void listingOrganizationsRefusesBadCredentialsAndBadPagingWithJson() throws Exception {
        Org org = organization("listing-auth");
        JsonNode device = register(org.reusableKey(), "lister", 80);
        Map<String, Integer> credentials = new java.util.LinkedHashMap<>();
        credentials.put("nonsense", 401);
        credentials.put("mwo." + org.id() + ".forged", 401);
        credentials.put("mwo.onothere.forged", 401);
        credentials.put(device.get("token").asText(), 403);
        credentials.put(org.reusableKey(), 403);
        for (var entry : credentials.entrySet()) {
            Answer answer = call("GET", "/api/v1/organizations", entry.getKey(), null);
            assertEquals(entry.getValue(), answer.status(), entry.getKey() + " -> " + answer.body());
            assertNotNull(answer.body().get("error"), entry.getKey());
        }
        Answer none = call("GET", "/api/v1/organizations", null, null);
        assertEquals(401, none.status());
        assertNotNull(none.body().get("error"));
        Map<String, String> paging = Map.of(
                "limit=0", "limit must be 1 to 1000",
                "limit=1001", "limit must be 1 to 1000",
                "limit=ten", "limit must be a number",
                "offset=-1", "offset must not be negative",
                "offset=99999999999", "offset must be a number",
                "name=" + "n".repeat(65), "name filter");
        for (var entry : paging.entrySet()) {
            Answer answer = call("GET", "/api/v1/organizations?" + entry.getKey(), ADMIN, null);
            assertEquals(400, answer.status(), entry.getKey());
            assertTrue(answer.body().get("error").asText().startsWith(entry.getValue()),
                    entry.getKey() + " -> " + answer.body());
        }
        assertEquals(400, call("GET", "/api/v1/organizations?limit=0", org.apiToken(), null).status(),
                "organization tokens get the same checks");
    }

    @Test
    void badInputIsA400ThatSaysWhatWasWrong() throws Exception {
        Org org = organization("input");
        Map<String, String> cases = Map.of(
                "{\"name\":\"x\",\"bogus\":1}", "unknown field \"bogus\"",
                "{\"name\":", "malformed JSON",
                "[]", "malformed JSON",
                "{\"name\":\"x\",\"ipv4Cidr\":\"10.0.0.0/33\"}", "bad ipv4Cidr",
                "{\"name\":\"x\",\"ipv4Cidr\":\"not-a-cidr\"}", "bad ipv4Cidr",
                "{\"name\":\"\"}", "name is required");
        for (var entry : cases.entrySet()) {
            Answer answer = call("POST", "/api/v1/organizations", ADMIN, entry.getKey());
            assertEquals(400, answer.status(), entry.getKey());
            assertTrue(answer.body().get("error").asText().startsWith(entry.getValue()),
                    entry.getKey() + " -> " + answer.body());
        }
        assertEquals("publicKey must be 32 bytes of base64, as wg pubkey prints it", call("POST", "/api/v1/register",
                org.reusableKey(), "{\"publicKey\":\"AAAA\",\"hostname\":\"h\"}").body().get("error").asText());
        assertEquals(400, call("POST", "/api/v1/register", org.reusableKey(),
                "{\"publicKey\":\"" + publicKey(30) + "\",\"hostname\":\"bad name!\"}").status());
        assertEquals(400, call("POST", "/api/v1/organizations/" + org.id() + "/keys", ADMIN,
                "{\"expiresInSeconds\":-5}").status());
        assertEquals(400, call("GET", "/api/v1/organizations/" + org.id() + "/devices?limit=0", ADMIN, null).status());
        Answer huge = call("POST", "/api/v1/organizations", ADMIN, "{\"name\":\"" + "x".repeat(100_000) + "\"}");
        assertEquals(413, huge.status());
        assertNotNull(huge.body().get("error"), "even size limits answer JSON");
    }

    @Test
    void devicesListPatchRevokeAndDelete() throws Exception {
        Org org = organization("devices");
        String alpha = register(org.reusableKey(), "alpha", 40).get("id").asText();
        register(org.reusableKey(), "beta", 41);
        register(org.reusableKey(), "gamma", 42);
        JsonNode page = call("GET", "/api/v1/organizations/" + org.id() + "/devices?offset=1&limit=1", org.apiToken(),
                null).body();
        assertEquals(3, page.get("total").asInt());
        assertEquals("beta", page.get("devices").get(0).get("hostname").asText());
        Answer patched = call("PATCH", "/api/v1/devices/" + alpha, org.apiToken(),
                "{\"hostname\":\"alpha-2\",\"metadata\":{\"role\":\"db\"}}");
        assertEquals("alpha-2", patched.body().get("hostname").asText());
        assertEquals("db", patched.body().at("/metadata/role").asText());
        assertEquals("revoked", call("POST", "/api/v1/devices/" + alpha + "/revoke", ADMIN, null).body()
                .get("status").asText());
        assertEquals(1, call("GET", "/api/v1/organizations/" + org.id() + "/devices?status=revoked", ADMIN, null)
                .body().get("total").asInt());
        assertEquals(200, call("DELETE", "/api/v1/devices/" + alpha, ADMIN, null).status());
        assertEquals(404, call("GET", "/api/v1/devices/" + alpha, ADMIN, null).status());
    }

    private String[] relay(String name) throws Exception {
        String relayToken = call("POST", "/api/v1/relays/tokens", ADMIN, "{\"name\":\"" + name + "\"}")
                .body().get("token").asText();
        String relayId = call("POST", "/api/v1/relays/register", relayToken, "{\"udp\":\"192.0.2.9:3340\"}")
                .body().get("relayId").asText();
        return new String[] {relayId, relayToken};
    }

    private String revocations(String[] relay) throws Exception {
        return call("GET", "/api/v1/relays/" + relay[0] + "/revocations", relay[1], null).body().get("serials")
                .toString();
    }

    @Test
    void deletingADeviceRevokesItsCertificate() throws Exception {
        Org org = organization("delete-revokes");
        String[] relay = relay("delete-revokes-relay");
        JsonNode doomed = register(org.reusableKey(), "doomed", 43);
        JsonNode kept = register(org.reusableKey(), "kept", 44);
        String serial = certificateOf(doomed).getSerialNumber().toString(16);
        assertFalse(revocations(relay).contains("\"" + serial + "\""));
        assertEquals(200, call("DELETE", "/api/v1/devices/" + doomed.get("id").asText(), org.apiToken(), null)
                .status());
        String revoked = revocations(relay);
        assertTrue(revoked.contains("\"" + serial + "\""), revoked);
        assertFalse(revoked.contains("\"" + certificateOf(kept).getSerialNumber().toString(16) + "\""), revoked);
        assertNotEquals(200, report(doomed.get("token").asText()).status(), "the deleted device's token");
    }

    @Test
    void aDeviceDeletionThatStoppedAfterTheOrganizationLetGoIsFinishedByARetry() throws Exception {
        Org org = organization("delete-retry");
        String[] relay = relay("delete-retry-relay");
        JsonNode device = register(org.reusableKey(), "half", 48);
        String id = device.get("id").asText();
        assertEquals(200, report(device.get("token").asText()).status());
        // What a first attempt leaves when the device's entity did not answer: the organization let go of it.
        Organization.Reply dropped = ClusterSharding.get(server.system()).entityRefFor(Organization.ENTITY_KEY,
                        org.id()).<Organization.Reply>ask(replyTo -> new Organization.DeleteDevice(id, replyTo),
                        Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(200, dropped.status());

        assertEquals(200, call("DELETE", "/api/v1/devices/" + id, org.apiToken(), null).status(), "the retry");
        assertTrue(revocations(relay).contains("\"" + certificateOf(device).getSerialNumber().toString(16) + "\""));
        assertNotEquals(200, report(device.get("token").asText()).status(), "its token stopped working");
        assertEquals(404, call("DELETE", "/api/v1/devices/" + id, org.apiToken(), null).status(), "then it is gone");
        Org other = organization("delete-retry-other");
        assertEquals(404, call("DELETE", "/api/v1/devices/" + id, other.apiToken(), null).status(),
                "another organization's token finds nothing");
    }

    @Test
    void deletingAnOrganizationRevokesEveryDevicesCertificate() throws Exception {
        Org org = organization("delete-org-revokes");
        Org other = organization("delete-org-keeps");
        String[] relay = relay("delete-org-relay");
        JsonNode first = register(org.reusableKey(), "first", 45);
        JsonNode second = register(org.reusableKey(), "second", 46);
        JsonNode elsewhere = register(other.reusableKey(), "elsewhere", 47);
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        CompletableFuture<Void> streamEnded = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base
                        + "/api/v1/peers/stream")).header("Authorization", "Bearer " + first.get("token").asText())
                .build(), HttpResponse.BodyHandlers.ofLines()).thenAcceptAsync(response -> {
                    try (Stream<String> body = response.body()) {
                        body.forEach(lines::add);
                    }
                }, STREAM_READERS);
        assertNotNull(lines.poll(10, TimeUnit.SECONDS), "the stream started");
        assertEquals(200, call("DELETE", "/api/v1/organizations/" + org.id(), ADMIN, null).status());
        streamEnded.get(10, TimeUnit.SECONDS);
        String revoked = revocations(relay);
        for (JsonNode device : List.of(first, second)) {
            assertTrue(revoked.contains("\"" + certificateOf(device).getSerialNumber().toString(16) + "\""),
                    revoked);
        }
        assertFalse(revoked.contains("\"" + certificateOf(elsewhere).getSerialNumber().toString(16) + "\""),
                revoked);
        assertEquals(404, call("DELETE", "/api/v1/organizations/" + org.id(), ADMIN, null).status(),
                "deleting it again answers as before");
        assertEquals(revoked, revocations(relay));
    }

    @Test
    void securityGroupsAreCheckedStoredReplacedAndDeleted() throws Exception {
        Org org = organization("groups");
        String db = register(org.reusableKey(), "db", 70).get("id").asText();
        String path = "/api/v1/organizations/" + org.id() + "/security-groups";
        Answer web = call("POST", path, org.apiToken(), "{\"name\":\"web\",\"rules\":[{\"protocol\":\"tcp\","
                + "\"ports\":\"443\",\"peers\":[\"0.0.0.0/0\",\"::/0\"]}]}");
        assertEquals(201, web.status(), String.valueOf(web.body()));
        assertEquals("*", web.body().at("/appliesTo/0").asText(), "a group applies to every device by default");
        Answer database = call("POST", path, org.apiToken(), "{\"name\":\"database\",\"appliesTo\":[\"" + db
                + "\"],\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"5432\",\"peers\":[\"group:web\"]},"
                + "{\"protocol\":\"icmp\",\"peers\":[\"100.64.0.0/10\"]}]}");
        assertEquals(201, database.status(), String.valueOf(database.body()));
        assertEquals(2, call("GET", path, org.apiToken(), null).body().size());

        Map<String, String> bad = Map.ofEntries(
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"sctp\",\"peers\":[\"10.0.0.0/8\"]}]}", "protocol must be"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"70000\",\"peers\":[\"10.0.0.0/8\"]}]}", "ports out of range"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"9-1\",\"peers\":[\"10.0.0.0/8\"]}]}", "ports out of range"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"icmp\",\"ports\":\"1\",\"peers\":[\"10.0.0.0/8\"]}]}", "ports only apply"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"peers\":[\"10.0.0.0/33\"]}]}", "not a CIDR"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"peers\":[\"group:nobody\"]}]}", "no security group named"),
                Map.entry("{\"name\":\"x\",\"appliesTo\":[\"no spaces\"],\"rules\":[{\"protocol\":\"any\",\"peers\":[\"10.0.0.0/8\"]}]}", "never hostnames"),
                Map.entry("{\"name\":\"x\",\"appliesTo\":[\"db\"],\"rules\":[{\"protocol\":\"any\",\"peers\":[\"10.0.0.0/8\"]}]}", "is not a device id"),
                Map.entry("{\"name\":\"x\",\"appliesTo\":[\"o000000000000-d000000000000\"],\"rules\":[{\"protocol\":\"any\",\"peers\":[\"10.0.0.0/8\"]}]}", "of this organization"),
                Map.entry("{\"name\":\"x\",\"appliesTo\":[\"tag:Web\"],\"rules\":[{\"protocol\":\"any\",\"peers\":[\"10.0.0.0/8\"]}]}", "a tag is 1 to 63"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"any\",\"peers\":[\"web\"]}]}", "never hostnames"),
                Map.entry("{\"name\":\"x\",\"appliesTo\":[],\"rules\":[{\"protocol\":\"any\",\"peers\":[\"10.0.0.0/8\"]}]}", "appliesTo: 1 to 1024"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"22,80\",\"peers\":[\"10.0.0.0/8\"]}]}", "ports must be"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"peers\":[null]}]}", "null is not a reference"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"peers\":[\"10.0.0.1\"]}]}", "is not a device id"),
                Map.entry("{\"name\":\"x\",\"rules\":[]}", "rules: 1 to 256"),
                Map.entry("{\"name\":\"x\",\"rules\":[null]}", "null is not a rule"),
                Map.entry("{\"name\":\"x\",\"rules\":[{\"protocol\":\"tcp\",\"peers\":[\"10.0.0.0/8\"],\"extra\":1}]}", "unknown field"));
        for (var entry : bad.entrySet()) {
            Answer answer = call("POST", path, org.apiToken(), entry.getKey());
            assertEquals(400, answer.status(), entry.getKey());
            assertTrue(answer.body().get("error").asText().contains(entry.getValue()), entry.getKey() + " -> " + answer.body());
        }

        Answer replaced = call("PUT", path + "/web", org.apiToken(), "{\"rules\":[{\"protocol\":\"udp\","
                + "\"ports\":\"51820-51830\",\"peers\":[\"203.0.113.0/24\"]}]}");
        assertEquals(200, replaced.status(), String.valueOf(replaced.body()));
        assertEquals("udp", call("GET", path + "/web", org.apiToken(), null).body().at("/rules/0/protocol").asText());
        assertEquals(400, call("PUT", path + "/web", org.apiToken(), "{\"name\":\"other\",\"rules\":[{\"protocol\":"
                + "\"any\",\"peers\":[\"10.0.0.0/8\"]}]}").status(), "renaming through PUT is refused");
        assertEquals(200, call("DELETE", path + "/database", org.apiToken(), null).status());
        assertEquals(404, call("GET", path + "/database", org.apiToken(), null).status());
        Org other = organization("groups-other");
        assertEquals(404, call("GET", path, other.apiToken(), null).status(), "another organization sees nothing");
    }

    /** Reads NDJSON lines of a peer stream into a queue, leaving out its "relays" and "dns" events. */
    static BlockingQueue<JsonNode> watch(String base, String token, String query) {
        return watch(base, token, query, false);
    }

    /** Reads NDJSON lines of a peer stream into a queue ("dns" left out), "relays" events too when {@code relays}. */
    static BlockingQueue<JsonNode> watch(String base, String token, String query, boolean relays) {
        BlockingQueue<JsonNode> lines = new LinkedBlockingQueue<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/v1/peers/stream" + query))
                .header("Authorization", "Bearer " + token).build();
        HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofLines()).thenAcceptAsync(response -> {
            try (Stream<String> body = response.body()) {
                body.forEach(line -> {
                    try {
                        JsonNode event = JSON.readTree(line);
                        // "dns" events (the organization's DNS settings) have tests of their own: DnsApiTest.
                        String type = event.path("type").asText();
                        if (!"dns".equals(type) && (relays || !"relays".equals(type))) {
                            lines.add(event);
                        }
                    } catch (Exception e) {
                        lines.add(JSON.createObjectNode().put("type", "unparseable").put("line", line));
                    }
                });
            }
        }, STREAM_READERS);
        return lines;
    }

    @Test
    void peerStreamSendsASnapshotThenChangesInOrderAndResumesFromARevision() throws Exception {
        Org org = organization("stream");
        JsonNode watcher = register(org.reusableKey(), "watcher", 50);
        String token = watcher.get("token").asText();
        BlockingQueue<JsonNode> events = watch(base, token, "");
        JsonNode snapshot = events.poll(10, TimeUnit.SECONDS);
        assertEquals("snapshot", snapshot.get("type").asText());
        assertEquals(0, snapshot.get("peers").size(), "a device is not its own peer");

        JsonNode peer = register(org.reusableKey(), "peer", 51);
        String peerId = peer.get("id").asText();
        JsonNode added = events.poll(10, TimeUnit.SECONDS);
        assertEquals("upsert", added.get("type").asText());
        assertEquals(peerId, added.at("/peers/0/id").asText());
        long revisionAfterAdd = added.get("revision").asLong();

        assertEquals(200, call("POST", "/api/v1/devices/self/endpoints", peer.get("token").asText(),
                "{\"endpoints\":[{\"address\":\"203.0.113.9:41641\",\"source\":\"stun\"}],\"nat\":{\"classic\":\"symmetric\"}}")
                .status());
        JsonNode moved = events.poll(10, TimeUnit.SECONDS);
        assertEquals("upsert", moved.get("type").asText());
        assertTrue(moved.at("/peers/0/endpoints").toString().contains("203.0.113.9:41641"));
        assertTrue(moved.at("/peers/0/endpoints").toString().contains("\"control\""), "control reflects the source");
        assertEquals("symmetric", moved.at("/peers/0/nat/classic").asText());

        call("POST", "/api/v1/devices/" + peerId + "/revoke", ADMIN, null);
        JsonNode removed = events.poll(10, TimeUnit.SECONDS);
        assertEquals("remove", removed.get("type").asText());
        assertEquals(peerId, removed.at("/removed/0").asText());
        assertTrue(removed.get("revision").asLong() > moved.get("revision").asLong());

        // A watcher that saw only the addition resumes and gets exactly what it missed.
        BlockingQueue<JsonNode> resumed = watch(base, token, "?since=" + revisionAfterAdd);
        JsonNode missed = resumed.poll(10, TimeUnit.SECONDS);
        assertEquals("remove", missed.get("type").asText(), missed.toString());
        assertEquals(removed.get("revision").asLong(), missed.get("revision").asLong());
        assertEquals(403, call("POST", "/api/v1/devices/self/endpoints", peer.get("token").asText(), "{}").status(),
                "a revoked device's token stops working");
    }

    @Test
    void aReportedHomeRelayReachesPeersOnlyWhenItChanges() throws Exception {
        Org org = organization("home");
        JsonNode watcher = register(org.reusableKey(), "home-watcher", 60);
        BlockingQueue<JsonNode> events = watch(base, watcher.get("token").asText(), "");
        assertEquals("snapshot", events.poll(10, TimeUnit.SECONDS).get("type").asText());
        JsonNode peer = register(org.reusableKey(), "home-peer", 61);
        String peerToken = peer.get("token").asText();
        assertEquals("upsert", events.poll(10, TimeUnit.SECONDS).get("type").asText());
        String endpoints = "{\"endpoints\":[{\"address\":\"203.0.113.9:41641\",\"source\":\"stun\"}]";

        Answer first = reportBody(peerToken, endpoints + ",\"homeRelay\":\"relay-eu\"}");
        assertEquals(200, first.status(), String.valueOf(first.body()));
        JsonNode home = events.poll(10, TimeUnit.SECONDS);
        assertEquals("upsert", home.get("type").asText());
        assertEquals("relay-eu", home.at("/peers/0/homeRelay").asText());

        Answer same = reportBody(peerToken, endpoints + ",\"homeRelay\":\"relay-eu\"}");
        assertFalse(same.body().get("changed").asBoolean(), "the same home relay again changes nothing");
        Answer moved = reportBody(peerToken, endpoints + ",\"homeRelay\":\"relay-us\"}");
        assertTrue(moved.body().get("changed").asBoolean(), "a new home relay is a peer-map change");
        JsonNode movedEvent = events.poll(10, TimeUnit.SECONDS);
        assertEquals("relay-us", movedEvent.at("/peers/0/homeRelay").asText());
        assertEquals(movedEvent.get("revision").asLong(), moved.body().get("revision").asLong());
        assertEquals("relay-us", call("GET", "/api/v1/devices/" + peer.get("id").asText(), ADMIN, null).body()
                .get("homeRelay").asText());
        assertEquals("relay-us", call("GET", "/api/v1/organizations/" + org.id() + "/devices?hostname=home-peer",
                ADMIN, null).body().at("/devices/0/homeRelay").asText());

        // An older node reports no home relay: it has none from then on.
        assertTrue(reportBody(peerToken, endpoints + "}").body().get("changed").asBoolean());
        assertTrue(events.poll(10, TimeUnit.SECONDS).at("/peers/0/homeRelay").isNull());
        for (String bad : List.of("\"\"", "\"relay us\"", "\"<b>\"", "\"" + "r".repeat(65) + "\"", "\"a/b\"")) {
            Answer refused = reportBody(peerToken, endpoints + ",\"homeRelay\":" + bad + "}");
            assertEquals(400, refused.status(), bad);
            assertNotNull(refused.body().get("error"), bad);
        }
    }

    @Test
    void devicesOfAKeyThatRequiresApprovalWaitForTheAdministrator() throws Exception {
        Org org = organization("approval");
        Answer key = call("POST", "/api/v1/organizations/" + org.id() + "/keys", org.apiToken(),
                "{\"reusable\":true,\"approvalRequired\":true}");
        assertEquals(201, key.status(), String.valueOf(key.body()));
        assertTrue(key.body().get("approvalRequired").asBoolean());
        JsonNode member = register(org.reusableKey(), "member", 70);
        BlockingQueue<JsonNode> memberEvents = watch(base, member.get("token").asText(), "");
        assertEquals("snapshot", next(memberEvents).get("type").asText());

        JsonNode newcomer = register(key.body().get("key").asText(), "newcomer", 71);
        assertEquals("pending", newcomer.get("status").asText());
        assertEquals("active", member.get("status").asText());
        String newcomerId = newcomer.get("id").asText();
        String newcomerToken = newcomer.get("token").asText();
        Answer refused = call("GET", "/api/v1/peers/stream", newcomerToken, null);
        assertEquals(403, refused.status());
        assertEquals("pending_approval", refused.body().get("code").asText(), refused.body().toString());
        Answer report = call("POST", "/api/v1/devices/self/endpoints", newcomerToken,
                "{\"endpoints\":[{\"address\":\"198.51.100.4:41641\",\"source\":\"stun\"}]}");
        assertEquals(200, report.status(), "a pending device may report: " + report.body());
        assertEquals(1, call("GET", "/api/v1/organizations/" + org.id() + "/devices?status=pending", org.apiToken(),
                null).body().get("devices").size());

        Answer approved = call("POST", "/api/v1/devices/" + newcomerId + "/approve", org.apiToken(), null);
        assertEquals(200, approved.status(), String.valueOf(approved.body()));
        assertEquals("active", approved.body().get("status").asText());
        // The member's stream gets the newcomer as a peer only now.
        JsonNode joined = next(memberEvents);
        while (!joined.get("type").asText().equals("upsert")) {
            joined = next(memberEvents);
        }
        assertEquals(newcomerId, joined.at("/peers/0/id").asText());
        BlockingQueue<JsonNode> newcomerEvents = watch(base, newcomerToken, "");
        JsonNode snapshot = next(newcomerEvents);
        assertEquals("snapshot", snapshot.get("type").asText());
        assertEquals(member.get("id").asText(), snapshot.at("/peers/0/id").asText());

        Answer other = call("POST", "/api/v1/devices/" + newcomerId + "/approve",
                organization("elsewhere").apiToken(), null);
        assertTrue(other.status() == 403 || other.status() == 404, "another organization cannot approve: " + other);
        call("POST", "/api/v1/devices/" + newcomerId + "/revoke", org.apiToken(), null);
        assertEquals(409, call("POST", "/api/v1/devices/" + newcomerId + "/approve", org.apiToken(), null).status());
    }

    /** The next event of the stream that is not a keepalive. */
    private static JsonNode next(BlockingQueue<JsonNode> events) throws InterruptedException {
        while (true) {
            JsonNode event = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(event, "no event within 10 s");
            if (!event.get("type").asText().equals("keepalive")) {
                return event;
            }
        }
    }

    @Test
    void tagsAreSetByAdministratorsTheApiTokenAndKeysButNeverByTheDevice() throws Exception {
        Org org = organization("tags");
        String keys = "/api/v1/organizations/" + org.id() + "/keys";
        assertEquals(400, call("POST", keys, org.apiToken(), "{\"tags\":[\"Build\"]}").status(), "lowercase only");
        assertEquals(400, call("POST", keys, org.apiToken(), "{\"tags\":[null]}").status());
        Answer key = call("POST", keys, org.apiToken(), "{\"reusable\":true,\"tags\":[\"ci\",\"ci\"]}");
        assertEquals(201, key.status(), String.valueOf(key.body()));
        assertEquals("[\"ci\"]", key.body().get("tags").toString());
        JsonNode device = register(key.body().get("key").asText(), "runner", 90);
        assertEquals("[\"ci\"]", device.get("tags").toString(), "stamped by the key that registered it");
        String id = device.get("id").asText();
        assertEquals("[\"ci\"]", call("GET", "/api/v1/organizations/" + org.id() + "/devices", org.apiToken(), null)
                .body().at("/devices/0/tags").toString(), "shown in the listing");

        Answer chosen = call("POST", "/api/v1/register", org.reusableKey(), "{\"publicKey\":\"" + publicKey(91)
                + "\",\"hostname\":\"sneaky\",\"tags\":[\"ci\"]}");
        assertEquals(400, chosen.status(), "a device cannot choose its own tags: " + chosen.body());
        Answer self = call("PATCH", "/api/v1/devices/" + id, device.get("token").asText(), "{\"tags\":[\"admin\"]}");
        assertTrue(self.status() == 401 || self.status() == 403, "nor set them later: " + self.body());
        assertEquals("[\"ci\"]", call("GET", "/api/v1/devices/" + id, ADMIN, null).body().get("tags").toString(),
                "the refused patch changed nothing");
        assertEquals(400, call("PATCH", "/api/v1/devices/" + id, org.apiToken(), "{\"tags\":[\"no spaces\"]}")
                .status());

        Answer tagged = call("PATCH", "/api/v1/devices/" + id, org.apiToken(), "{\"tags\":[\"db\",\"ci\"]}");
        assertEquals(200, tagged.status(), String.valueOf(tagged.body()));
        assertEquals("[\"ci\",\"db\"]", tagged.body().get("tags").toString());
        assertEquals("[\"ci\",\"db\"]", call("GET", "/api/v1/devices/" + id, ADMIN, null).body().get("tags")
                .toString());
        Answer renamed = call("PATCH", "/api/v1/devices/" + id, ADMIN, "{\"hostname\":\"runner-1\"}");
        assertEquals("[\"ci\",\"db\"]", renamed.body().get("tags").toString(), "a patch without tags keeps them");
        assertEquals("[]", call("PATCH", "/api/v1/devices/" + id, ADMIN, "{\"tags\":[]}").body().get("tags")
                .toString());
    }

    @Test
    void hostnamesAreUniqueWithinAnOrganization() throws Exception {
        Org org = organization("unique");
        JsonNode first = register(org.reusableKey(), "web", 92);
        assertEquals("web", first.get("hostname").asText());
        JsonNode second = register(org.reusableKey(), "web", 93);
        assertEquals("web-2", second.get("hostname").asText(), "the answer says which hostname it got");
        assertEquals("WEB-3", register(org.reusableKey(), "WEB", 94).get("hostname").asText(), "regardless of case");
        assertEquals("web-2", call("GET", "/api/v1/devices/" + second.get("id").asText(), ADMIN, null).body()
                .get("hostname").asText());
        Answer taken = call("PATCH", "/api/v1/devices/" + second.get("id").asText(), org.apiToken(),
                "{\"hostname\":\"web\"}");
        assertEquals(409, taken.status(), String.valueOf(taken.body()));
        assertEquals("web-2", call("GET", "/api/v1/devices/" + second.get("id").asText(), ADMIN, null).body()
                .get("hostname").asText(), "a refused rename changes nothing");
        assertEquals(200, call("DELETE", "/api/v1/devices/" + first.get("id").asText(), ADMIN, null).status());
        assertEquals("web", register(org.reusableKey(), "web", 95).get("hostname").asText(),
                "a deleted device's hostname is free again");
        Org other = organization("unique-other");
        assertEquals("web", register(other.reusableKey(), "web", 96).get("hostname").asText(),
                "unique within an organization only");
    }

    @Test
    void membershipCannotBeClaimedAndAPeerListShowsWhatPolicyLetsADeviceLearn() throws Exception {
        Org org = organization("visibility");
        String keys = "/api/v1/organizations/" + org.id() + "/keys";
        String appKey = call("POST", keys, org.apiToken(), "{\"reusable\":true,\"tags\":[\"app\"]}").body()
                .get("key").asText();
        String guestKey = call("POST", keys, org.apiToken(), "{\"reusable\":true,\"tags\":[\"guest\"]}").body()
                .get("key").asText();
        JsonNode db = register(org.reusableKey(), "db", 97);
        JsonNode app = register(appKey, "app", 98);
        JsonNode guest = register(guestKey, "guest", 99);
        String path = "/api/v1/organizations/" + org.id() + "/security-groups";
        assertEquals(201, call("POST", path, org.apiToken(), "{\"name\":\"database\",\"appliesTo\":[\""
                + db.get("id").asText() + "\"],\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"5432\","
                + "\"peers\":[\"tag:app\"]}]}").status());
        assertEquals(201, call("POST", path, org.apiToken(), "{\"name\":\"guests\",\"appliesTo\":[\"tag:guest\"],"
                + "\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"80\",\"peers\":[\"tag:app\"]}]}").status());
        assertEquals(List.of(app.get("id").asText()), peerIds(db, org), "db accepts the app only");
        assertEquals(List.of(app.get("id").asText()), peerIds(guest, org), "the guest accepts the app only");
        assertEquals(List.of(db.get("id").asText(), guest.get("id").asText()), peerIds(app, org),
                "the app may reach both, and is open");
        int refused = call("GET", "/api/v1/devices/" + db.get("id").asText() + "/peers", db.get("token").asText(),
                null).status();
        assertTrue(refused == 401 || refused == 403, "a device cannot ask what others may learn: " + refused);

        BlockingQueue<JsonNode> guestEvents = watch(base, guest.get("token").asText(), "");
        JsonNode snapshot = next(guestEvents);
        assertEquals("snapshot", snapshot.get("type").asText());
        assertEquals(1, snapshot.get("peers").size(), snapshot.toString());
        assertEquals(app.get("id").asText(), snapshot.at("/peers/0/id").asText());
        assertFalse(snapshot.toString().contains(db.get("id").asText()), "nothing about db: " + snapshot);
        assertFalse(snapshot.toString().contains(db.at("/overlayIps/0").asText()), "not even its address");

        // A device that calls itself db gets another hostname, and no membership of db's with it.
        JsonNode claimant = register(guestKey, "db", 100);
        assertEquals("db-2", claimant.get("hostname").asText());
        assertEquals(List.of(app.get("id").asText()), peerIds(claimant, org));

        // Tagging the guest as an app makes it db's peer at once; untagging hides db again. The first event the
        // guest hears is that one: two guests accept nothing from each other, so the claimant's joining was none
        // of its business.
        call("PATCH", "/api/v1/devices/" + guest.get("id").asText(), org.apiToken(), "{\"tags\":[\"guest\",\"app\"]}");
        JsonNode entered = next(guestEvents);
        assertEquals("upsert", entered.get("type").asText(), entered.toString());
        assertTrue(entered.toString().contains(db.get("id").asText()), entered.toString());
        call("PATCH", "/api/v1/devices/" + guest.get("id").asText(), org.apiToken(), "{\"tags\":[\"guest\"]}");
        JsonNode left = nextOfType(guestEvents, "remove");
        assertTrue(left.get("removed").toString().contains(db.get("id").asText()), left.toString());
    }

    private static JsonNode nextOfType(BlockingQueue<JsonNode> events, String type) throws InterruptedException {
        while (true) {
            JsonNode event = next(events);
            if (event.get("type").asText().equals(type)) {
                return event;
            }
        }
    }

    private List<String> peerIds(JsonNode device, Org org) throws Exception {
        Answer answer = call("GET", "/api/v1/devices/" + device.get("id").asText() + "/peers", org.apiToken(), null);
        assertEquals(200, answer.status(), String.valueOf(answer.body()));
        List<String> ids = new ArrayList<>();
        answer.body().get("peers").forEach(peer -> ids.add(peer.get("id").asText()));
        return ids;
    }

    @Test
    void peerStreamCarriesTheDevicesSecurityPolicyAsGroupsAndMembersChange() throws Exception {
        Org org = organization("policy");
        String path = "/api/v1/organizations/" + org.id() + "/security-groups";
        JsonNode db = register(org.reusableKey(), "db", 80);
        String webKey = call("POST", "/api/v1/organizations/" + org.id() + "/keys", org.apiToken(),
                "{\"reusable\":true,\"tags\":[\"web\"]}").body().get("key").asText();
        BlockingQueue<JsonNode> events = watch(base, db.get("token").asText(), "");
        JsonNode snapshot = next(events);
        assertEquals("snapshot", snapshot.get("type").asText());
        assertFalse(snapshot.at("/policy/enforced").asBoolean(), "no group applies yet: open");

        // A group that applies to another device leaves db's policy as it was, so db hears nothing of it.
        assertEquals(201, call("POST", path, org.apiToken(), "{\"name\":\"web\",\"appliesTo\":[\"tag:web\"],"
                + "\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"443\",\"peers\":[\"0.0.0.0/0\"]}]}").status());
        assertEquals(201, call("POST", path, org.apiToken(), "{\"name\":\"database\",\"appliesTo\":[\""
                + db.get("id").asText() + "\"],"
                + "\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"5432\",\"peers\":[\"group:web\"]}]}").status());
        JsonNode created = next(events);
        assertEquals("policy", created.get("type").asText(), created.toString());
        assertTrue(created.at("/policy/enforced").asBoolean());
        assertEquals("database", created.at("/policy/groups/0").asText());
        assertEquals("tcp", created.at("/policy/rules/0/protocol").asText());
        assertEquals(5432, created.at("/policy/rules/0/fromPort").asInt());
        assertEquals(5432, created.at("/policy/rules/0/toPort").asInt());
        assertEquals(0, created.at("/policy/rules/0/peers").size(), "no device is in web yet");

        // web1 joins with the web tag its key stamps on it: it is a new peer, and db's rule now lets its overlay
        // addresses in.
        JsonNode web1 = register(webKey, "web1", 81);
        assertEquals("[\"web\"]", web1.get("tags").toString());
        JsonNode added = next(events);
        assertEquals("upsert", added.get("type").asText(), added.toString());
        JsonNode joined = next(events);
        assertEquals("policy", joined.get("type").asText(), joined.toString());
        assertEquals(added.get("revision").asLong(), joined.get("revision").asLong());
        assertEquals(web1.at("/overlayIps/0").asText() + "/32", joined.at("/policy/rules/0/peers/0").asText());
        assertEquals(web1.at("/overlayIps/1").asText() + "/128", joined.at("/policy/rules/0/peers/1").asText());
        long beforeChange = joined.get("revision").asLong();

        assertEquals(200, call("PUT", path + "/database", org.apiToken(), "{\"rules\":[{\"protocol\":\"tcp\","
                + "\"ports\":\"5432-5433\",\"peers\":[\"group:web\"]}]}").status());
        JsonNode changed = next(events);
        assertEquals("policy", changed.get("type").asText(), changed.toString());
        assertEquals(5433, changed.at("/policy/rules/0/toPort").asInt());
        assertTrue(changed.get("revision").asLong() > beforeChange);

        // Resuming from before the change: a group changed since, so the watcher starts over from the whole map,
        // with the policy it missed.
        BlockingQueue<JsonNode> resumed = watch(base, db.get("token").asText(), "?since=" + beforeChange);
        JsonNode missed = next(resumed);
        assertEquals("snapshot", missed.get("type").asText(), missed.toString());
        assertEquals(changed.get("policy"), missed.get("policy"));
        assertEquals(changed.get("revision").asLong(), missed.get("revision").asLong());
        assertEquals(web1.get("id").asText(), missed.at("/peers/0/id").asText());

        assertEquals(200, call("DELETE", path + "/database", org.apiToken(), null).status());
        JsonNode deleted = next(events);
        assertEquals("policy", deleted.get("type").asText(), deleted.toString());
        assertFalse(deleted.at("/policy/enforced").asBoolean(), "no group applies any more: open again");
        assertEquals(0, deleted.at("/policy/rules").size());
    }

    @Test
    void streamsOfDevicesOnOneMemberEachGetTheirOwnPolicyAndOnlyWhenItChanges() throws Exception {
        Org org = organization("policy-shared");
        String path = "/api/v1/organizations/" + org.id() + "/security-groups";
        JsonNode db = register(org.reusableKey(), "db", 80);
        JsonNode web1 = register(org.reusableKey(), "web1", 81);
        BlockingQueue<JsonNode> dbEvents = watch(base, db.get("token").asText(), "");
        BlockingQueue<JsonNode> webEvents = watch(base, web1.get("token").asText(), "");
        assertEquals("snapshot", next(dbEvents).get("type").asText());
        assertEquals("snapshot", next(webEvents).get("type").asText());

        assertEquals(201, call("POST", path, org.apiToken(), "{\"name\":\"web\",\"appliesTo\":[\""
                + web1.get("id").asText() + "\"],"
                + "\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"443\",\"peers\":[\"0.0.0.0/0\"]}]}").status());
        JsonNode webPolicy = next(webEvents);
        assertEquals("policy", webPolicy.get("type").asText(), webPolicy.toString());
        assertEquals("web", webPolicy.at("/policy/groups/0").asText());
        assertEquals("0.0.0.0/0", webPolicy.at("/policy/rules/0/peers/0").asText());

        assertEquals(201, call("POST", path, org.apiToken(), "{\"name\":\"database\",\"appliesTo\":[\""
                + db.get("id").asText() + "\"],"
                + "\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"5432\",\"peers\":[\"group:web\"]}]}").status());
        JsonNode dbPolicy = next(dbEvents);
        assertEquals("policy", dbPolicy.get("type").asText(), "the web group left db open: " + dbPolicy);
        assertEquals("database", dbPolicy.at("/policy/groups/0").asText());
        assertEquals(web1.at("/overlayIps/0").asText() + "/32", dbPolicy.at("/policy/rules/0/peers/0").asText(),
                "db's rule lets in the members of web");

        // The database group left web1 as it was, and a newcomer in no group changes neither policy: both
        // streams hear next only of the new peer.
        JsonNode laptop = register(org.reusableKey(), "laptop", 82);
        for (BlockingQueue<JsonNode> events : List.of(dbEvents, webEvents)) {
            JsonNode added = next(events);
            assertEquals("upsert", added.get("type").asText(), added.toString());
            assertEquals(laptop.get("id").asText(), added.at("/peers/0/id").asText());
        }
    }

    @Test
    void everythingAcknowledgedSurvivesARestart() throws Exception {
        Path dir = Files.createTempDirectory("mwc-restart");
        String organizationId;
        String deviceId;
        String caCertificate;
        try (ControlServer first = startServer(dir, Map.of())) {
            String url = "http://127.0.0.1:" + first.httpAddress().getPort();
            organizationId = call(url, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"durable\"}").body()
                    .get("id").asText();
            String key = call(url, "POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN, "{}").body()
                    .get("key").asText();
            JsonNode registered = call(url, "POST", "/api/v1/register", key,
                    "{\"publicKey\":\"" + publicKey(60) + "\",\"hostname\":\"kept\"}").body();
            deviceId = registered.get("id").asText();
            caCertificate = registered.get("caCertificate").asText();
        }
        try (ControlServer second = startServer(dir, Map.of())) {
            String url = "http://127.0.0.1:" + second.httpAddress().getPort();
            Answer device = call(url, "GET", "/api/v1/devices/" + deviceId, ADMIN, null);
            assertEquals(200, device.status());
            assertEquals("kept", device.body().get("hostname").asText());
            String key = call(url, "POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN, "{}").body()
                    .get("key").asText();
            JsonNode later = call(url, "POST", "/api/v1/register", key,
                    "{\"publicKey\":\"" + publicKey(61) + "\",\"hostname\":\"later\"}").body();
            assertEquals(caCertificate, later.get("caCertificate").asText(), "the CA is kept in the journal");
            assertFalse(Files.exists(dir.resolve("ca")), "the CA key is written nowhere but the journal");
        }
    }

    @Test
    void aCaLeftInTheDataDirectoryByAnEarlierReleaseIsAdopted() throws Exception {
        Path dir = Files.createTempDirectory("mwc-migrate");
        CertificateAuthority existing = CertificateAuthority.generate();
        Files.createDirectories(dir.resolve("ca"));
        Files.writeString(dir.resolve("ca/ca.key"), existing.privateKeyPem());
        Files.writeString(dir.resolve("ca/ca.crt"), existing.certificatePem());
        try (ControlServer server = startServer(dir, Map.of())) {
            String url = "http://127.0.0.1:" + server.httpAddress().getPort();
            String organizationId = call(url, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"upgraded\"}")
                    .body().get("id").asText();
            String key = call(url, "POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN, "{}").body()
                    .get("key").asText();
            JsonNode registered = call(url, "POST", "/api/v1/register", key,
                    "{\"publicKey\":\"" + publicKey(62) + "\",\"hostname\":\"migrated\"}").body();
            assertEquals(existing.certificatePem(), registered.get("caCertificate").asText());
            X509Certificate device = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                    new ByteArrayInputStream(registered.get("certificate").asText().getBytes()));
            device.verify(existing.certificate().getPublicKey());
            assertTrue(device.getSubjectAlternativeNames().toString()
                    .contains("urn:meshwork:organization:" + organizationId), "relays learn the organization");
        }
    }

    @Test
    void aCaKeyPassphraseMustBeTheSameAtEveryStart() throws Exception {
        Path dir = Files.createTempDirectory("mwc-passphrase");
        String caCertificate;
        String organizationId;
        try (ControlServer first = startServer(dir, Map.of("meshwork.control.ca-key-passphrase", "s3cret"))) {
            String url = "http://127.0.0.1:" + first.httpAddress().getPort();
            organizationId = call(url, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"guarded\"}")
                    .body().get("id").asText();
            String key = call(url, "POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN, "{}").body()
                    .get("key").asText();
            caCertificate = call(url, "POST", "/api/v1/register", key,
                    "{\"publicKey\":\"" + publicKey(63) + "\",\"hostname\":\"guarded\"}").body()
                    .get("caCertificate").asText();
        }
        IOException refused = assertThrows(IOException.class, () -> startServer(dir,
                Map.of("meshwork.control.ca-key-passphrase", "wrong")).close());
        assertTrue(refused.getMessage().contains("passphrase"), refused.getMessage());
        try (ControlServer again = startServer(dir, Map.of("meshwork.control.ca-key-passphrase", "s3cret"))) {
            String url = "http://127.0.0.1:" + again.httpAddress().getPort();
            String key = call(url, "POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN, "{}").body()
                    .get("key").asText();
            assertEquals(caCertificate, call(url, "POST", "/api/v1/register", key,
                    "{\"publicKey\":\"" + publicKey(64) + "\",\"hostname\":\"again\"}").body()
                    .get("caCertificate").asText());
        }
    }
}
