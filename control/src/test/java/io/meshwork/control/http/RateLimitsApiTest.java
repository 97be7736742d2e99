package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static io.meshwork.control.http.ControlApiTest.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.ControlServer;
import io.meshwork.control.http.ControlApiTest.Answer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The rate limits of docs/api.md through a real HTTP client, with small limits so a test reaches them. */
class RateLimitsApiTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static ControlServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-limits"), Map.of(
                "meshwork.control.limits.failed-auth-per-second", 0.2,
                "meshwork.control.limits.failed-auth-burst", 5,
                "meshwork.control.limits.reports-per-second", 0.2,
                "meshwork.control.limits.reports-burst", 3));
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String publicKey(int seed) {
        byte[] key = new byte[32];
        key[0] = (byte) seed;
        key[31] = 11;
        return Base64.getEncoder().encodeToString(key);
    }

    private static String registration(int seed) {
        return "{\"publicKey\":\"" + publicKey(seed) + "\",\"hostname\":\"h" + seed + "\"}";
    }

    /** An organization's reusable registration key. */
    private static String key(String name) throws Exception {
        String id = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"" + name + "\"}").body()
                .get("id").asText();
        return call(base, "POST", "/api/v1/organizations/" + id + "/keys", ADMIN, "{\"reusable\":true}").body()
                .get("key").asText();
    }

    @Test
    void aBurstOfBadKeysFromOneSourceIsRefusedWith429WhileOtherCredentialsAndSourcesStillWork() throws Exception {
        String key = key("limits");
        String organizationId = TokenKind.REGISTRATION_KEY.parse(key).orElseThrow().organizationId();
        String deviceToken = call(base, "POST", "/api/v1/register", key, registration(1)).body().get("token")
                .asText();
        String forged = "mwk." + organizationId + ".k00000000.forged";
        // All from 127.0.0.3: a source of its own.
        for (int i = 0; i < 5; i++) {
            assertEquals(401, status(from("127.0.0.3", "POST", "/api/v1/register", forged, registration(2))));
        }
        String limited = from("127.0.0.3", "POST", "/api/v1/register", forged, registration(2));
        assertEquals(429, status(limited), limited);
        String retryAfter = header(limited, "Retry-After");
        assertTrue(Long.parseLong(retryAfter) >= 1 && Long.parseLong(retryAfter) <= 5, "Retry-After " + retryAfter);
        assertTrue(header(limited, "Content-Type").startsWith("application/json"), limited);
        String body = limited.substring(limited.indexOf("\r\n\r\n") + 4);
        assertTrue(new ObjectMapper().readTree(body).get("error").asText().contains("too many"), body);
        assertEquals(429, status(from("127.0.0.3", "POST", "/api/v1/register", key, registration(3))),
                "refused before the key is looked at, good or not");

        // Other kinds of credential from the same source still work, and so do other sources.
        assertEquals(200, status(from("127.0.0.3", "POST", "/api/v1/devices/self/endpoints", deviceToken,
                "{\"endpoints\":[{\"address\":\"198.51.100.1:41641\",\"source\":\"stun\"}]}")));
        assertEquals(200, status(from("127.0.0.3", "GET", "/api/v1/organizations/" + organizationId, ADMIN, "")));
        assertEquals(201, call(base, "POST", "/api/v1/register", key, registration(4)).status());
    }

    @Test
    void endpointReportsOverTheDevicesLimitAre429AndOtherDevicesStillReport() throws Exception {
        String key = key("reports");
        String first = call(base, "POST", "/api/v1/register", key, registration(10)).body().get("token").asText();
        String second = call(base, "POST", "/api/v1/register", key, registration(11)).body().get("token").asText();
        String report = "{\"endpoints\":[{\"address\":\"198.51.100.2:41641\",\"source\":\"stun\"}]}";
        for (int i = 0; i < 3; i++) {
            assertEquals(200, call(base, "POST", "/api/v1/devices/self/endpoints", first, report).status());
        }
        HttpResponse<String> limited = HTTP.send(HttpRequest.newBuilder(URI.create(base
                        + "/api/v1/devices/self/endpoints")).header("Authorization", "Bearer " + first)
                .POST(HttpRequest.BodyPublishers.ofString(report)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(429, limited.statusCode(), limited.body());
        assertTrue(limited.headers().firstValue("Retry-After").isPresent());
        assertTrue(new ObjectMapper().readTree(limited.body()).get("error").asText().contains("endpoint reports"));
        Answer other = call(base, "POST", "/api/v1/devices/self/endpoints", second, report);
        assertEquals(200, other.status(), String.valueOf(other.body()));
    }

    private static int status(String response) {
        return Integer.parseInt(response.substring(response.indexOf(' ') + 1, response.indexOf(' ') + 4));
    }

    private static String header(String response, String name) {
        for (String line : response.substring(0, response.indexOf("\r\n\r\n")).split("\r\n")) {
            if (line.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                return line.substring(name.length() + 1).strip();
            }
        }
        throw new AssertionError("no " + name + " in " + response);
    }

    /** The whole response to a request sent from {@code sourceIp}: another loopback address is another source. */
    private static String from(String sourceIp, String method, String path, String token, String body)
            throws Exception {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(sourceIp, 0));
            socket.connect(server.httpAddress(), 5000);
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + content.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(content);
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
