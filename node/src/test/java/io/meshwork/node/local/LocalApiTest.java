package io.meshwork.node.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalApiTest {

    private final CountDownLatch shutdown = new CountDownLatch(1);

    private final LocalApiHandler handler = new LocalApiHandler() {
        @Override
        public NodeStatus status() {
            return new NodeStatus(
                    new NodeStatus.Self("dev-1", "alpha", List.of("100.64.0.1"), Map.of("classic", "symmetric")),
                    List.of(new NodeStatus.Peer("dev-2", "beta", List.of("100.64.0.2"), "direct",
                            "203.0.113.7:41641", null, "udp", 1.5, "2026-11-25T03:00:00Z", 10, 20,
                            "direct probe answered in 1.5 ms")));
        }

        @Override
        public void ping(String peer, int count, Consumer<PingReply> replies) {
            if (!peer.equals("beta")) {
                throw new IllegalArgumentException("no peer named " + peer);
            }
            for (int seq = 1; seq <= count; seq++) {
                replies.accept(new PingReply(seq, peer, "relay", "relay-1", 12.0));
            }
        }

        @Override
        public void shutdown() {
            shutdown.countDown();
        }
    };

    @Test
    void statusPingAndDownRoundTrip(@TempDir Path state) throws Exception {
        try (LocalApiServer server = LocalApiServer.start(state, handler)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(server.socketPath())));
            LocalApiClient client = new LocalApiClient(state);

            NodeStatus status = client.status();
            assertEquals(handler.status(), status);

            List<PingReply> replies = new ArrayList<>();
            client.ping("beta", 3, replies::add);
            assertEquals(3, replies.size());
            assertEquals(new PingReply(3, "beta", "relay", "relay-1", 12.0), replies.get(2));

            LocalApiClient.LocalApiException unknown =
                    assertThrows(LocalApiClient.LocalApiException.class, () -> client.ping("gamma", 1, r -> { }));
            assertEquals("no peer named gamma", unknown.getMessage());

            client.down();
            assertTrue(shutdown.await(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void hostileRequestsGetErrorsAndTheServerKeepsServing(@TempDir Path state) throws Exception {
        try (LocalApiServer server = LocalApiServer.start(state, handler)) {
            assertTrue(raw(server.socketPath(), "not json\n").contains("\"error\":\"request is not JSON\""));
            assertTrue(raw(server.socketPath(), "[1,2]\n").contains("must be a JSON object"));
            assertTrue(raw(server.socketPath(), "{\"command\":\"reboot\"}\n").contains("unknown command"));
            assertTrue(raw(server.socketPath(), "{\"command\":\"ping\",\"peer\":\"beta\",\"count\":0}\n")
                    .contains("ping count must be between 1 and 1000"));
            assertTrue(raw(server.socketPath(), "{\"command\":\"status\"," + "x".repeat(5000) + "\n")
                    .contains("longer than 4096"));
            assertEquals("alpha", new LocalApiClient(state).status().self().hostname());
        }
    }

    @Test
    void noAgentIsAClearError(@TempDir Path state) {
        LocalApiClient.LocalApiException error =
                assertThrows(LocalApiClient.LocalApiException.class, () -> new LocalApiClient(state).status());
        assertTrue(error.getMessage().startsWith("no agent is running here"), error.getMessage());
    }

    @Test
    void aSecondAgentOnTheSameStateIsRefusedButAStaleSocketIsReplaced(@TempDir Path state) throws Exception {
        try (LocalApiServer first = LocalApiServer.start(state, handler)) {
            IOException refused = assertThrows(IOException.class, () -> LocalApiServer.start(state, handler));
            assertTrue(refused.getMessage().startsWith("another agent is running"));
        }
        Files.createFile(state.resolve(LocalApiServer.SOCKET_NAME));
        try (LocalApiServer replaced = LocalApiServer.start(state, handler)) {
            assertEquals("alpha", new LocalApiClient(state).status().self().hostname());
        }
    }

    private static String raw(Path socket, String request) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            ByteBuffer answer = ByteBuffer.allocate(65536);
            while (channel.read(answer) > 0) {
                // read until the server closes
            }
            return new String(answer.array(), 0, answer.position(), StandardCharsets.UTF_8);
        }
    }
}
