package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.wireguard.Key;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registration against a local HTTP stub of control that fails or loses answers as told. */
class RegistrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RegisterResponse ANSWER = new RegisterResponse("org-d1", "org", "mwd.org-d1.secret",
            List.of("100.64.0.1"), "cert", "ca", List.of(), List.of(), null, "active");

    @TempDir
    Path state;

    private HttpServer server;
    /** The public keys the stub was sent, in order. */
    private final List<String> sentKeys = Collections.synchronizedList(new ArrayList<>());
    private final List<Duration> pauses = new ArrayList<>();

    /** What the stub does with the n-th request (from 1): an HTTP status, or 0 to drop the connection unanswered. */
    private interface Script {
        int statusFor(int request);
    }

    private ControlClient stub(Script script) throws IOException {
        AtomicInteger requests = new AtomicInteger();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/register", exchange -> handle(exchange, script.statusFor(
                requests.incrementAndGet())));
        server.start();
        return new ControlClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    }

    private void handle(HttpExchange exchange, int status) throws IOException {
        sentKeys.add(JSON.readTree(exchange.getRequestBody()).get("publicKey").asText());
        if (status == 0) {
            // Control admitted the device, but the answer never reaches the node.
            exchange.getResponseBody().close();
            exchange.close();
            return;
        }
        byte[] body = status == 201 ? JSON.writeValueAsBytes(ANSWER)
                : ("{\"error\":\"status " + status + "\"}").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private NodeIdentity register(ControlClient control) throws IOException {
        return Registration.register(control, "http://control", "mwk.org.k.s", "laptop", state, pauses::add);
    }

    @Test
    void aFailedRegistrationKeepsTheKeyAndTheNextStartRegistersWithIt() throws Exception {
        IOException failed = assertThrows(IOException.class, () -> register(stub(request -> 503)));
        assertTrue(failed.getMessage().contains("status 503"), failed.getMessage());
        assertEquals(Registration.ATTEMPTS, sentKeys.size(), "retried on a 5xx");
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4)), pauses);
        assertEquals(1, sentKeys.stream().distinct().count(), "every attempt sends the same public key");
        Path pending = state.resolve(Registration.PENDING_KEY);
        assertTrue(Files.exists(pending));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(pending));
        assertFalse(Files.exists(state.resolve(NodeIdentity.FILE)));
        String firstKey = sentKeys.get(0);
        assertEquals(firstKey, Key.fromBase64(Files.readString(pending)).publicKey().toBase64());
        server.stop(0);

        // The next start: the first answer is lost on the way, the retry gets it.
        sentKeys.clear();
        NodeIdentity identity = register(stub(request -> request == 1 ? 0 : 201));
        assertEquals(List.of(firstKey, firstKey), sentKeys, "the key of the failed start, twice");
        assertEquals("org-d1", identity.registration().id());
        assertEquals(firstKey, Key.fromBase64(identity.privateKey()).publicKey().toBase64());
        assertEquals(identity, NodeIdentity.load(state));
        assertFalse(Files.exists(pending), "the pending key goes once the identity is saved");
    }

    @Test
    void refusalsAreNotRetriedButTimeoutsAndThrottlingAre() throws Exception {
        ControlClient control = stub(request -> request == 1 ? 429 : request == 2 ? 408 : 401);
        IOException refused = assertThrows(IOException.class, () -> register(control));
        assertTrue(refused.getMessage().contains("status 401"), refused.getMessage());
        assertEquals(3, sentKeys.size(), "429 and 408 are retried, 401 is not");
        assertTrue(Files.exists(state.resolve(Registration.PENDING_KEY)), "a refusal keeps the key for the next start");
    }

    @Test
    void aRegistrationThatSucceedsAtOnceLeavesOnlyTheIdentity() throws Exception {
        NodeIdentity identity = register(stub(request -> 201));
        assertEquals(1, sentKeys.size());
        assertTrue(pauses.isEmpty());
        assertEquals(sentKeys.get(0), Key.fromBase64(identity.privateKey()).publicKey().toBase64());
        assertFalse(Files.exists(state.resolve(Registration.PENDING_KEY)));
        assertTrue(Files.exists(state.resolve(NodeIdentity.FILE)));
    }
}
