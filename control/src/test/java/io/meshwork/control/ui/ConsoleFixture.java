package io.meshwork.control.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.meshwork.control.ControlServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/**
 * A control server for the console's tests, over HTTPS with a self-signed certificate (the console's cookie is
 * Secure), and the API calls the tests set their scenes with: organizations, keys, registered devices, path reports.
 */
final class ConsoleFixture implements AutoCloseable {

    static final String ADMIN = "mwa.console-admin";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** An answer of the API: its status and its body as JSON (null when empty or not JSON). */
    record Answer(int status, JsonNode body, String text, HttpResponse<String> response) {}

    /** A registered device: its id and its device token. */
    record Registered(String id, String token) {}

    final ControlServer server;
    final String url;
    private final HttpClient http;

    /** Control over HTTPS, as on any address but loopback. */
    ConsoleFixture() throws Exception {
        this(true);
    }

    /** {@code tls} false: plain HTTP on loopback, as {@code meshwork control} runs by default. */
    ConsoleFixture(boolean tls) throws Exception {
        server = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", Files.createTempDirectory("mw-console").toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", ADMIN,
                "meshwork.control.metrics", "127.0.0.1:0",
                "meshwork.control.tls.self-signed", tls,
                // The tests report a device's paths again at once, to watch the map change.
                "meshwork.control.paths.min-interval", "1ms",
                "pekko.remote.artery.canonical.port", 0))));
        url = server.url();
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (tls) {
            client.sslContext(server.pin().controlContext());
        }
        http = client.build();
    }

    Answer call(String method, String path, String token, Object body) throws Exception {
        return call(method, path, token, body, Map.of());
    }

    Answer call(String method, String path, String token, Object body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body instanceof String text ? text
                                : JSON.writeValueAsString(body)));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (body != null && !headers.containsKey("Content-Type")) {
            request.header("Content-Type", "application/json");
        }
        headers.forEach(request::header);
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        try {
            json = response.body().isBlank() ? null : JSON.readTree(response.body());
        } catch (Exception notJson) {
            json = null;
        }
        return new Answer(response.statusCode(), json, response.body(), response);
    }

    /** A new organization; answers its id and API token. */
    String[] organization(String name) throws Exception {
        Answer created = call("POST", "/api/v1/organizations", ADMIN, Map.of("name", name));
        return new String[] {created.body().get("id").asText(), created.body().get("apiToken").asText()};
    }

    String key(String organizationId, boolean approvalRequired) throws Exception {
        return call("POST", "/api/v1/organizations/" + organizationId + "/keys", ADMIN,
                Map.of("reusable", true, "approvalRequired", approvalRequired)).body().get("key").asText();
    }

    Registered register(String key, String hostname, Map<String, String> metadata) throws Exception {
        byte[] publicKey = new byte[32];
        RANDOM.nextBytes(publicKey);
        Answer registered = call("POST", "/api/v1/register", key, Map.of("publicKey",
                Base64.getEncoder().encodeToString(publicKey), "hostname", hostname, "metadata", metadata));
        if (registered.status() != 201) {
            throw new IllegalStateException("registration refused: " + registered.text());
        }
        return new Registered(registered.body().get("id").asText(), registered.body().get("token").asText());
    }

    /** A one-time login link made with {@code token}. */
    String loginLink(String token) throws Exception {
        Answer link = call("POST", "/api/v1/ui/login-links", token, null);
        if (link.status() != 201) {
            throw new IllegalStateException("no login link: " + link.text());
        }
        return link.body().get("url").asText();
    }

    @Override
    public void close() {
        server.close();
    }
}
