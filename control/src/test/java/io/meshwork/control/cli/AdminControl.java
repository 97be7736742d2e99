package io.meshwork.control.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.Base64;
import java.util.Map;

/**
 * A control server for the {@code meshwork admin} tests, over plain HTTP on loopback with an admin token, and the
 * API calls the tests set their scenes with.
 */
final class AdminControl implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final SecureRandom RANDOM = new SecureRandom();

    final String adminToken;
    final String url;
    private final ControlServer server;

    /** A control with {@code adminToken}, its data in a new temporary directory named after {@code name}. */
    AdminControl(String adminToken, String name) throws Exception {
        this.adminToken = adminToken;
        server = ControlServer.start(ControlServer.configuration(ConfigFactory.parseMap(Map.of(
                "meshwork.control.data-dir", Files.createTempDirectory(name).toString(),
                "meshwork.control.http.port", 0,
                "meshwork.control.admin-token", adminToken,
                "meshwork.control.metrics", "127.0.0.1:0",
                "pekko.remote.artery.canonical.port", 0))));
        url = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    /** {@code meshwork admin ARGS} with the admin token. */
    AdminRun admin(String... args) {
        return AdminRun.run(url, adminToken, args);
    }

    /** POSTs {@code body} (JSON text, or an object to write as JSON) with {@code token} (none when null). */
    HttpResponse<String> post(String path, String token, Object body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String text ? text
                        : JSON.writeValueAsString(body)));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Registers a device with a new public key using {@code key}; answers the registration (its id, token, ...). */
    JsonNode register(String key, String hostname) throws Exception {
        byte[] publicKey = new byte[32];
        RANDOM.nextBytes(publicKey);
        HttpResponse<String> registered = post("/api/v1/register", key, Map.of("hostname", hostname,
                "publicKey", Base64.getEncoder().encodeToString(publicKey)));
        assertEquals(201, registered.statusCode(), registered.body());
        return JSON.readTree(registered.body());
    }

    @Override
    public void close() {
        server.close();
    }
}
