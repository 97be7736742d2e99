package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.ControlServer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Control keeps answering while every thread of the JVM's common fork-join pool is blocked by other code. Pekko's
 * ask stages run continuations added without an executor on that pool; before control handed its answers on from
 * its own dispatcher ({@link io.meshwork.control.Answers}), registrations and relay-directory requests then waited forever, and an
 * organization's peer streams and relay lists with them.
 */
class BusyCommonPoolTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Its own threads: the client must not need the common pool either. */
    private static final ExecutorService CLIENT_THREADS = Executors.newCachedThreadPool();
    private static final HttpClient HTTP = HttpClient.newBuilder().executor(CLIENT_THREADS).build();
    private static ControlServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-pool"), Map.of());
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        CLIENT_THREADS.shutdownNow();
    }

    private static HttpResponse<String> call(String method, String path, String token, String body)
            throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(40))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(String method, String path, String token, String body) throws Exception {
        HttpResponse<String> response = call(method, path, token, body);
        assertEquals(2, response.statusCode() / 100, method + " " + path + ": " + response.statusCode() + " "
                + response.body());
        return JSON.readTree(response.body());
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void registrationsRelayListsAndPeerStreamsAreAnsweredWhileTheCommonPoolIsBlocked() throws Exception {
        String org = ok("POST", "/api/v1/organizations", ControlApiTest.ADMIN, "{\"name\":\"pool\"}")
                .get("id").asText();
        String key = ok("POST", "/api/v1/organizations/" + org + "/keys", ControlApiTest.ADMIN,
                "{\"reusable\":true}").get("key").asText();
        CountDownLatch release = new CountDownLatch(1);
        int workers = Math.max(1, ForkJoinPool.getCommonPoolParallelism());
        CountDownLatch blocked = new CountDownLatch(workers);
        for (int i = 0; i < workers; i++) {
            ForkJoinPool.commonPool().execute(() -> {
                blocked.countDown();
                // Not a managed block: the pool starts no thread to make up for it, like most blocking code.
                while (release.getCount() > 0) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }
        try {
            assertTrue(blocked.await(30, TimeUnit.SECONDS), "every common-pool thread is taken");
            for (int i = 0; i < 3; i++) {
                byte[] publicKey = new byte[32];
                publicKey[0] = (byte) (i + 1);
                publicKey[31] = 77;
                JsonNode registered = ok("POST", "/api/v1/register", key, "{\"publicKey\":\""
                        + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"pool-" + i + "\"}");
                assertTrue(registered.get("token").asText().startsWith("mwd."), registered.toString());
            }
            assertTrue(ok("GET", "/api/v1/relays", ControlApiTest.ADMIN, null).isArray());
            assertEquals(3, ok("GET", "/api/v1/organizations/" + org, ControlApiTest.ADMIN, null)
                    .get("devices").asInt());
            assertTrue(ok("GET", "/api/v1/organizations/" + org + "/dns", ControlApiTest.ADMIN, null)
                    .has("domain"));
            byte[] publicKey = new byte[32];
            publicKey[31] = 78;
            String token = ok("POST", "/api/v1/register", key, "{\"publicKey\":\""
                    + Base64.getEncoder().encodeToString(publicKey) + "\",\"hostname\":\"watcher\"}")
                    .get("token").asText();
            HttpResponse<InputStream> stream = HTTP.send(HttpRequest.newBuilder(
                    URI.create(base + "/api/v1/peers/stream")).header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, stream.statusCode());
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(),
                    StandardCharsets.UTF_8))) {
                JsonNode first = JSON.readTree(lines.readLine());
                assertEquals("snapshot", first.get("type").asText(), first.toString());
                assertEquals(3, first.get("peers").size(), first.toString());
            }
        } finally {
            release.countDown();
        }
    }
}
