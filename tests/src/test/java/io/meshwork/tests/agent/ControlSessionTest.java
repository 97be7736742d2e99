package io.meshwork.tests.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import io.meshwork.node.agent.ControlClient;
import io.meshwork.node.agent.ControlSession;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.RegisterRequest;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.wireguard.Key;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The node's control session against a real control server: snapshot, then changes; a control restart is
 * ridden out with backoff and the stream resumes from the last revision (changes, not a new snapshot); a device
 * control refuses ends the session.
 */
class ControlSessionTest {

    private static final String ADMIN = "mwa.session-test";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ActorTestKit testKit = ActorTestKit.create();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @AfterAll
    static void shutdown() {
        testKit.shutdownTestKit();
    }

    @Test
    void followsThePeerMapAndResumesAfterControlRestarts() throws Exception {
        Path data = Files.createTempDirectory("mw-session");
        int port = freePort();
        ControlServer server = start(data, port);
        try {
            String base = "http://127.0.0.1:" + port;
            ControlClient client = new ControlClient(URI.create(base));
            String org = admin(base, "POST", "/api/v1/organizations", "{\"name\":\"session\"}").get("id").asText();
            String key = admin(base, "POST", "/api/v1/organizations/" + org + "/keys", "{\"reusable\":true}")
                    .get("key").asText();
            RegisterResponse self = register(client, key, "self");
            RegisterResponse other = register(client, key, "other");

            LinkedBlockingQueue<PeerMapEvent> events = new LinkedBlockingQueue<>();
            ActorRef<ControlSession.Command> session = testKit.spawn(ControlSession.create(client, self.token(),
                    events::add, () -> { }, Executors.newSingleThreadExecutor()));
            session.tell(ControlSession.Start.INSTANCE);
            PeerMapEvent snapshot = next(events, e -> e.type().equals(PeerMapEvent.SNAPSHOT));
            assertTrue(snapshot.peers().stream().anyMatch(p -> p.id().equals(other.id())), snapshot.toString());

            client.reportEndpoints(other.token(), new EndpointReport(
                    List.of(new Endpoint("198.51.100.7:51820", "stun")), Map.of()));
            PeerMapEvent moved = next(events, e -> e.type().equals(PeerMapEvent.UPSERT));
            assertEquals("198.51.100.7:51820", moved.peers().get(0).endpoints().get(0).address());

            server.close();
            Thread.sleep(1500);
            server = start(data, port);
            RegisterResponse late = register(client, key, "late");
            PeerMapEvent joined = next(events, e -> e.peers() != null
                    && e.peers().stream().anyMatch(p -> p.id().equals(late.id())));
            assertEquals(PeerMapEvent.UPSERT, joined.type(), "resumed with the change, not a new snapshot");
            assertTrue(joined.revision() > moved.revision());
        } finally {
            server.close();
        }
    }

    @Test
    void aDeviceControlRefusesEndsTheSession() throws Exception {
        Path data = Files.createTempDirectory("mw-session");
        int port = freePort();
        try (ControlServer server = start(data, port)) {
            ControlClient client = new ControlClient(URI.create("http://127.0.0.1:" + port));
            CountDownLatch refused = new CountDownLatch(1);
            ActorRef<ControlSession.Command> session = testKit.spawn(ControlSession.create(client,
                    "mwd.nobody.forged", event -> { }, refused::countDown, Executors.newSingleThreadExecutor()));
            session.tell(ControlSession.Start.INSTANCE);
            assertTrue(refused.await(20, TimeUnit.SECONDS), "a refused device stops its agent");
        }
    }

    @Test
    void aDeviceWaitingForApprovalKeepsAskingAndGetsItsPeersOnceApproved() throws Exception {
        Path data = Files.createTempDirectory("mw-session");
        int port = freePort();
        try (ControlServer server = start(data, port)) {
            String base = "http://127.0.0.1:" + port;
            ControlClient client = new ControlClient(URI.create(base));
            String org = admin(base, "POST", "/api/v1/organizations", "{\"name\":\"gated\"}").get("id").asText();
            String open = admin(base, "POST", "/api/v1/organizations/" + org + "/keys", "{\"reusable\":true}")
                    .get("key").asText();
            String gated = admin(base, "POST", "/api/v1/organizations/" + org + "/keys",
                    "{\"reusable\":true,\"approvalRequired\":true}").get("key").asText();
            RegisterResponse member = register(client, open, "member");
            RegisterResponse newcomer = register(client, gated, "newcomer");
            assertEquals("pending", newcomer.status());

            LinkedBlockingQueue<PeerMapEvent> events = new LinkedBlockingQueue<>();
            CountDownLatch refused = new CountDownLatch(1);
            List<String> states = new java.util.concurrent.CopyOnWriteArrayList<>();
            ActorRef<ControlSession.Command> session = testKit.spawn(ControlSession.create(client, newcomer.token(),
                    events::add, refused::countDown, Executors.newSingleThreadExecutor(), states::add));
            session.tell(ControlSession.Start.INSTANCE);
            Thread.sleep(1500);
            assertEquals(1, refused.getCount(), "waiting for approval is not a refusal");
            assertTrue(events.isEmpty(), "no peers before approval: " + events);
            assertEquals(List.of(ControlSession.WAITING_FOR_APPROVAL), states, "what status shows meanwhile");

            admin(base, "POST", "/api/v1/devices/" + newcomer.id() + "/approve", "");
            PeerMapEvent snapshot = next(events, e -> e.type().equals(PeerMapEvent.SNAPSHOT));
            assertTrue(snapshot.peers().stream().anyMatch(p -> p.id().equals(member.id())), snapshot.toString());
            assertEquals(1, refused.getCount());
            assertEquals(List.of(ControlSession.WAITING_FOR_APPROVAL, ControlSession.CONNECTED), states);
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static ControlServer start(Path data, int port) throws Exception {
        Map<String, Object> overrides = new HashMap<>(Map.of(
                "meshwork.control.data-dir", data.toString(),
                "meshwork.control.http.port", port,
                "meshwork.control.admin-token", ADMIN,
                "meshwork.control.stream-coalesce-window", "50ms",
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0));
        return ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(overrides)));
    }

    private static RegisterResponse register(ControlClient client, String key, String hostname) throws Exception {
        return client.register(key, new RegisterRequest(Key.generatePrivate().publicKey().toBase64(), hostname,
                Map.of(), List.of()));
    }

    private static JsonNode admin(String base, String method, String path, String body) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + ADMIN)
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(response.statusCode() < 300, response.body());
        return JSON.readTree(response.body());
    }

    private static PeerMapEvent next(LinkedBlockingQueue<PeerMapEvent> events, Predicate<PeerMapEvent> wanted)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            PeerMapEvent event = events.poll(1, TimeUnit.SECONDS);
            if (event != null && wanted.test(event)) {
                return event;
            }
        }
        assertNotNull(null, "no such event within 60 s");
        return null;
    }
}
