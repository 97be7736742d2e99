package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.ControlServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Many peer streams of one organization opening at once, as after a member starts or nodes reconnect: each starts
 * from the member's shared map with its own device's security policy, follows on with the changes, and a stream
 * that resumes from a revision gets exactly what it missed, or the whole map when those changes are no longer kept.
 */
class PeerStreamStormTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int DEVICES = 40;
    private static final int DATABASES = 5;
    private static final int WEB_SERVERS = 10;
    private static ControlServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        // One device reports a thousand times here: beyond the per-device limit of a real one.
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-storm"),
                Map.of("meshwork.control.limits.reports-burst", 100_000));
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static JsonNode call(String method, String path, String token, String body, int expectedStatus)
            throws Exception {
        ControlApiTest.Answer answer = ControlApiTest.call(base, method, path, token, body);
        assertEquals(expectedStatus, answer.status(), method + " " + path + ": " + answer.body());
        return answer.body();
    }

    /** One open peer stream, its events (keepalives and relay lists left out) in a queue. */
    private static final class Stream implements Flow.Subscriber<String> {
        final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        private final CompletableFuture<Flow.Subscription> subscription = new CompletableFuture<>();

        Stream(String token, String query) {
            HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/api/v1/peers/stream" + query))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.fromLineSubscriber(this));
        }

        JsonNode next() throws InterruptedException {
            JsonNode event = events.poll(30, TimeUnit.SECONDS);
            assertNotNull(event, "no event within 30 s");
            return event;
        }

        void close() {
            subscription.thenAccept(Flow.Subscription::cancel);
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            this.subscription.complete(subscription);
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            try {
                JsonNode event = JSON.readTree(line);
                String type = event.get("type").asText();
                if (!type.equals("keepalive") && !type.equals("relays") && !type.equals("dns")) {
                    events.add(event);
                }
            } catch (Exception e) {
                events.add(JSON.createObjectNode().put("type", "unparseable").put("line", line));
            }
        }

        @Override
        public void onError(Throwable failure) {}

        @Override
        public void onComplete() {}
    }

    private record Device(String id, String hostname, String token, List<String> overlayIps) {}

    @Test
    void streamsOpeningAtOnceEachGetTheWholeMapWithTheirOwnPolicyAndResumeExactly() throws Exception {
        String org = call("POST", "/api/v1/organizations", ControlApiTest.ADMIN, "{\"name\":\"storm\"}", 201)
                .get("id").asText();
        String key = call("POST", "/api/v1/organizations/" + org + "/keys", ControlApiTest.ADMIN,
                "{\"reusable\":true}", 201).get("key").asText();
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < DEVICES; i++) {
            String hostname = (i < DATABASES ? "db-" : i < DATABASES + WEB_SERVERS ? "web-" : "laptop-") + i;
            byte[] publicKey = new byte[32];
            publicKey[0] = (byte) i;
            publicKey[31] = 42;
            JsonNode registered = call("POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"" + hostname + "\"}", 201);
            List<String> overlay = new ArrayList<>();
            registered.get("overlayIps").forEach(ip -> overlay.add(ip.asText()));
            devices.add(new Device(registered.get("id").asText(), hostname, registered.get("token").asText(), overlay));
        }
        List<String> webHosts = devices.subList(DATABASES, DATABASES + WEB_SERVERS).stream().map(Device::id)
                .toList();
        List<String> dbHosts = devices.subList(0, DATABASES).stream().map(Device::id).toList();
        String groups = "/api/v1/organizations/" + org + "/security-groups";
        call("POST", groups, ControlApiTest.ADMIN, "{\"name\":\"web\",\"appliesTo\":" + JSON.writeValueAsString(webHosts)
                + ",\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"443\",\"peers\":[\"0.0.0.0/0\"]}]}", 201);
        call("POST", groups, ControlApiTest.ADMIN, "{\"name\":\"database\",\"appliesTo\":"
                + JSON.writeValueAsString(dbHosts)
                + ",\"rules\":[{\"protocol\":\"tcp\",\"ports\":\"5432\",\"peers\":[\"group:web\"]}]}", 201);
        long beforeReports = revision(org);
        // More changes than the organization keeps, so a stream resuming from before them needs the whole map.
        Device reporter = devices.get(DATABASES + WEB_SERVERS);
        for (int round = 0; round < 1_001; round++) {
            call("POST", "/api/v1/devices/self/endpoints", reporter.token(),
                    "{\"endpoints\":[{\"address\":\"198.51.100.8:" + (1024 + round) + "\",\"source\":\"stun\"}]}", 200);
        }
        long revision = revision(org);

        // Every stream opens at once, before the organization has a feed on this member; with them one resuming from
        // before the reports, and one resuming from just before the last one.
        List<Stream> streams = new ArrayList<>();
        for (Device device : devices) {
            streams.add(new Stream(device.token(), ""));
        }
        Device database = devices.get(0);
        Stream tooOld = new Stream(database.token(), "?since=" + beforeReports);
        Device web = devices.get(DATABASES);
        Stream recent = new Stream(web.token(), "?since=" + (revision - 1));
        for (int i = 0; i < DEVICES; i++) {
            assertWholeMap(devices, devices.get(i), streams.get(i).next(), revision);
        }
        assertWholeMap(devices, database, tooOld.next(), revision);
        JsonNode lastReport = recent.next();
        assertEquals("upsert", lastReport.get("type").asText(), "exactly the missed change: " + lastReport);
        assertEquals(revision, lastReport.get("revision").asLong());
        assertEquals(List.of(reporter.id()), ids(lastReport.get("peers")));
        streams.add(tooOld);
        streams.add(recent);

        // The streams follow on from the shared map without a gap.
        Device moving = devices.get(DEVICES - 1);
        long moved = call("POST", "/api/v1/devices/self/endpoints", moving.token(),
                "{\"endpoints\":[{\"address\":\"198.51.100.7:41641\",\"source\":\"stun\"}]}", 200)
                .get("revision").asLong();
        for (int i = 0; i < streams.size(); i++) {
            if (i == DEVICES - 1) {
                continue;
            }
            JsonNode upsert = streams.get(i).next();
            assertEquals("upsert", upsert.get("type").asText(), upsert.toString());
            assertEquals(moved, upsert.get("revision").asLong());
            assertEquals(List.of(moving.id()), ids(upsert.get("peers")));
            assertTrue(upsert.at("/peers/0/endpoints").toString().contains("198.51.100.7:41641"));
        }

        // Resuming from a kept revision while the feed runs yields exactly the missed change, no snapshot.
        Stream resumed = new Stream(database.token(), "?since=" + revision);
        JsonNode missed = resumed.next();
        assertEquals("upsert", missed.get("type").asText(), missed.toString());
        assertEquals(moved, missed.get("revision").asLong());
        assertEquals(List.of(moving.id()), ids(missed.get("peers")));
        streams.add(resumed);
        streams.forEach(Stream::close);
    }

    /**
     * A client that sends {@code Accept-Encoding: gzip} gets the stream as gzip, and decoding it line by line as it
     * arrives yields the same events a client without it gets as plain lines (which carry no Content-Encoding: nodes
     * of earlier releases read them as before).
     */
    @Test
    void aGzipStreamCarriesTheSameEventsAsAPlainOne() throws Exception {
        List<String> tokens = devicesOfANewOrganization("gzip", "host-", 300, 43);
        Stream plain = new Stream(tokens.get(0), "");
        BlockingQueue<JsonNode> gzipped = new LinkedBlockingQueue<>();
        HttpResponse<java.io.InputStream> response = HTTP.send(HttpRequest.newBuilder(URI.create(base
                        + "/api/v1/peers/stream")).header("Authorization", "Bearer " + tokens.get(0))
                .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals("gzip", response.headers().firstValue("Content-Encoding").orElse(null));
        Thread reader = new Thread(() -> {
            try (var in = new java.util.zip.GZIPInputStream(response.body())) {
                java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
                for (int b = in.read(); b >= 0; b = in.read()) {
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    JsonNode event = JSON.readTree(line.toByteArray());
                    line.reset();
                    String type = event.get("type").asText();
                    if (!type.equals("keepalive") && !type.equals("relays") && !type.equals("dns")) {
                        gzipped.add(event);
                    }
                }
            } catch (java.io.IOException e) {
                gzipped.add(JSON.createObjectNode().put("type", "failed").put("error", e.toString()));
            }
        });
        reader.setDaemon(true);
        reader.start();
        JsonNode snapshot = plain.next();
        assertEquals("snapshot", snapshot.get("type").asText());
        assertEquals(299, snapshot.get("peers").size());
        assertEquals(snapshot, next(gzipped), "the snapshot, decoded as it arrived");
        for (int round = 0; round < 3; round++) {
            call("POST", "/api/v1/devices/self/endpoints", tokens.get(1 + round),
                    "{\"endpoints\":[{\"address\":\"198.51.100." + round + ":41641\",\"source\":\"stun\"}]}", 200);
            JsonNode upsert = plain.next();
            assertEquals("upsert", upsert.get("type").asText(), upsert.toString());
            assertEquals(upsert, next(gzipped), "each change arrives whole on its own, not held back by the encoding");
        }
        plain.close();
        response.body().close();

        HttpResponse<java.io.InputStream> unasked = HTTP.send(HttpRequest.newBuilder(URI.create(base
                        + "/api/v1/peers/stream")).header("Authorization", "Bearer " + tokens.get(2)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, unasked.statusCode());
        assertTrue(unasked.headers().firstValue("Content-Encoding").isEmpty(), "not asked for, not sent");
        assertEquals('{', unasked.body().read(), "plain NDJSON");
        unasked.body().close();
    }

    /**
     * A new organization named {@code name} with {@code count} devices registered by a reusable key, hostnames
     * {@code hostname} + index, public keys told apart by {@code mark}; their device tokens.
     */
    private static List<String> devicesOfANewOrganization(String name, String hostname, int count, int mark)
            throws Exception {
        String org = call("POST", "/api/v1/organizations", ControlApiTest.ADMIN, "{\"name\":\"" + name + "\"}", 201)
                .get("id").asText();
        String key = call("POST", "/api/v1/organizations/" + org + "/keys", ControlApiTest.ADMIN,
                "{\"reusable\":true}", 201).get("key").asText();
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] publicKey = new byte[32];
            publicKey[0] = (byte) i;
            publicKey[1] = (byte) (i >> 8);
            publicKey[31] = (byte) mark;
            tokens.add(call("POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"" + hostname + i + "\"}",
                    201).get("token").asText());
        }
        return tokens;
    }

    /** The watcher gauge on the admin metrics endpoint. */
    private static double watchers() throws Exception {
        HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .header("Authorization", "Bearer " + ControlApiTest.ADMIN).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        return metrics.body().lines().filter(line -> line.startsWith("meshwork_peer_stream_watchers "))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1))).findFirst()
                .orElseThrow();
    }

    @Test
    void streamsTheirClientsDropLeaveTheCountAndTheFeed() throws Exception {
        List<String> tokens = devicesOfANewOrganization("drop", "drop-", 20, 44);
        double before = watchers();
        URI uri = URI.create(base);
        List<java.net.Socket> sockets = new ArrayList<>();
        for (String token : tokens) {
            java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort());
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET /api/v1/peers/stream HTTP/1.1\r\nHost: " + uri.getHost()
                    + "\r\nAuthorization: Bearer " + token + "\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            sockets.add(socket);
        }
        for (java.net.Socket socket : sockets) {
            String head = new String(socket.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 200", head);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (watchers() < before + tokens.size() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(before + tokens.size(), watchers(), "every open stream is counted");
        // The clients go away without ending their streams: control sees the connections torn down.
        for (java.net.Socket socket : sockets) {
            socket.close();
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (watchers() > before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(before, watchers(), "every dropped stream left the count");
        // The feed let them go too: a change still reaches a new stream of the organization.
        Stream again = new Stream(tokens.get(0), "");
        assertEquals("snapshot", again.next().get("type").asText());
        call("POST", "/api/v1/devices/self/endpoints", tokens.get(1),
                "{\"endpoints\":[{\"address\":\"198.51.100.9:41641\",\"source\":\"stun\"}]}", 200);
        assertEquals("upsert", again.next().get("type").asText());
        again.close();
    }

    private static JsonNode next(BlockingQueue<JsonNode> events) throws InterruptedException {
        JsonNode event = events.poll(30, TimeUnit.SECONDS);
        assertNotNull(event, "no event within 30 s");
        return event;
    }

    private static long revision(String org) throws Exception {
        return call("GET", "/api/v1/organizations/" + org, ControlApiTest.ADMIN, null, 200).get("revision").asLong();
    }

    private static List<String> ids(JsonNode peers) {
        List<String> ids = new ArrayList<>();
        peers.forEach(peer -> ids.add(peer.get("id").asText()));
        return ids;
    }

    /**
     * A snapshot at {@code revision} (any, when negative) of every other device the watcher may learn, with
     * {@code watcher}'s policy: web servers accept from everyone and laptops are open, so all see each other; the
     * databases accept from the web servers only, so no database learns another.
     */
    private static void assertWholeMap(List<Device> devices, Device watcher, JsonNode snapshot, long revision) {
        assertEquals("snapshot", snapshot.get("type").asText(), snapshot.toString());
        if (revision >= 0) {
            assertEquals(revision, snapshot.get("revision").asLong());
        }
        boolean watcherIsDatabase = watcher.hostname().startsWith("db-");
        Set<String> expected = new HashSet<>();
        devices.stream().filter(device -> !device.equals(watcher))
                .filter(device -> !watcherIsDatabase || !device.hostname().startsWith("db-"))
                .forEach(device -> expected.add(device.id()));
        List<String> peers = ids(snapshot.get("peers"));
        assertEquals(expected.size(), peers.size(), "each peer once, itself not among them");
        assertEquals(expected, new HashSet<>(peers));

        JsonNode policy = snapshot.get("policy");
        if (watcher.hostname().startsWith("laptop-")) {
            assertFalse(policy.get("enforced").asBoolean(), "no group applies to " + watcher.hostname());
            return;
        }
        assertTrue(policy.get("enforced").asBoolean(), policy.toString());
        boolean isDatabase = watcher.hostname().startsWith("db-");
        assertEquals(isDatabase ? "database" : "web", policy.at("/groups/0").asText());
        assertEquals(1, policy.get("groups").size());
        JsonNode rule = policy.at("/rules/0");
        assertEquals(isDatabase ? 5432 : 443, rule.get("fromPort").asInt());
        TreeSet<String> allowed = new TreeSet<>();
        if (isDatabase) {
            devices.subList(DATABASES, DATABASES + WEB_SERVERS).forEach(web -> web.overlayIps()
                    .forEach(ip -> allowed.add(ip + (ip.contains(":") ? "/128" : "/32"))));
        } else {
            allowed.add("0.0.0.0/0");
        }
        TreeSet<String> actual = new TreeSet<>();
        rule.get("peers").forEach(peer -> actual.add(peer.asText()));
        assertEquals(allowed, actual, "the rule of " + watcher.hostname());
    }
}
