package io.meshwork.control.http;

import static io.meshwork.control.http.ControlApiTest.ADMIN;
import static io.meshwork.control.http.ControlApiTest.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.ControlServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * X-Forwarded-For through a real HTTP connection (docs/operations.md, "Behind a proxy"): believed from
 * {@code meshwork.control.trusted-proxies} (here 127.0.0.20), ignored from anyone else. The failed-authentication
 * limit shows which source control saw: each source has a bucket of its own.
 */
class TrustedProxyApiTest {

    private static final String PROXY = "127.0.0.20";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ControlServer server;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        server = ControlApiTest.startServer(Files.createTempDirectory("mwc-proxy"), Map.of(
                "meshwork.control.trusted-proxies", List.of(PROXY + "/32"),
                "meshwork.control.limits.failed-auth-per-second", 0.01,
                "meshwork.control.limits.failed-auth-burst", 3));
        base = "http://127.0.0.1:" + server.httpAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anUntrustedPeersForwardedForIsIgnored() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertEquals(401, status(from("127.0.0.21", "203.0.113." + i, "nonsense")));
        }
        assertEquals(429, status(from("127.0.0.21", "203.0.113.99", "nonsense")),
                "another X-Forwarded-For is the same source: the connection's");
        assertEquals(429, status(from("127.0.0.21", null, "nonsense")));
    }

    @Test
    void aTrustedProxysForwardedForNamesTheSourceByItsRightmostUntrustedHop() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertEquals(401, status(from(PROXY, "203.0.113.50", "nonsense")));
        }
        assertEquals(429, status(from(PROXY, "203.0.113.50", "nonsense")));
        assertEquals(429, status(from(PROXY, "198.51.100.1, 203.0.113.50", "nonsense")),
                "what the client wrote left of its own hop changes nothing");
        assertEquals(401, status(from(PROXY, "203.0.113.51", "nonsense")), "another client behind the proxy");
        assertEquals(401, status(from(PROXY, "203.0.113.51, " + PROXY, "nonsense")),
                "a chain of trusted proxies is skipped: still 203.0.113.51, whose bucket is not spent");
    }

    @Test
    void aRegistrationThroughATrustedProxyCarriesNoEndpointObservedByControl() throws Exception {
        String organization = call(base, "POST", "/api/v1/organizations", ADMIN, "{\"name\":\"proxied\"}").body()
                .get("id").asText();
        String key = call(base, "POST", "/api/v1/organizations/" + organization + "/keys", ADMIN,
                "{\"reusable\":true}").body().get("key").asText();

        String proxied = from(PROXY, "203.0.113.60", key, registration(1));
        assertEquals(201, status(proxied), proxied);
        JsonNode viaProxy = JSON.readTree(body(proxied));
        assertTrue(viaProxy.path("observedAddress").isNull() || viaProxy.path("observedAddress").isMissingNode(),
                viaProxy.toString());
        JsonNode device = call(base, "GET", "/api/v1/devices/" + viaProxy.get("id").asText(), ADMIN, null).body();
        assertFalse(device.get("endpoints").toString().contains("control"), device.toString());

        String direct = from("127.0.0.22", "203.0.113.61", key, registration(2));
        assertEquals(201, status(direct), direct);
        assertTrue(JSON.readTree(body(direct)).get("observedAddress").asText().startsWith("127.0.0.22:"),
                "from anyone else the connection's address, whatever the header says: " + body(direct));
    }

    private static String registration(int seed) {
        byte[] key = new byte[32];
        key[0] = (byte) seed;
        key[31] = 55;
        return "{\"publicKey\":\"" + Base64.getEncoder().encodeToString(key) + "\",\"hostname\":\"p" + seed + "\"}";
    }

    private static int status(String response) {
        return Integer.parseInt(response.substring(response.indexOf(' ') + 1, response.indexOf(' ') + 4));
    }

    private static String body(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private static String from(String sourceIp, String forwardedFor, String token) throws Exception {
        return from(sourceIp, forwardedFor, token, "{}");
    }

    /** The whole response to a POST /api/v1/register sent from {@code sourceIp} with that X-Forwarded-For. */
    private static String from(String sourceIp, String forwardedFor, String token, String body) throws Exception {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(sourceIp, 0));
            socket.connect(server.httpAddress(), 5000);
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/v1/register HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + (forwardedFor == null ? "" : "\r\nX-Forwarded-For: " + forwardedFor)
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + content.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(content);
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
