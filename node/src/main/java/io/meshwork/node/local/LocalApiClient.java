package io.meshwork.node.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/** Talks to a running agent through its local control socket (see {@link LocalApiServer}). */
public final class LocalApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socketPath;

    public LocalApiClient(Path stateDirectory) {
        this.socketPath = stateDirectory.resolve(LocalApiServer.SOCKET_NAME);
    }

    /** Thrown when no agent answers on the socket, or the agent answers with an error. */
    public static final class LocalApiException extends Exception {
        public LocalApiException(String message) {
            super(message);
        }
    }

    public NodeStatus status() throws LocalApiException {
        NodeStatus[] status = new NodeStatus[1];
        call(Map.of("command", "status"), line -> status[0] = JSON.convertValue(line, NodeStatus.class));
        if (status[0] == null) {
            throw new LocalApiException("the agent sent no status");
        }
        return status[0];
    }

    /** Pings a peer through the agent, handing each reply to {@code replies} as it arrives. */
    public void ping(String peer, int count, Consumer<PingReply> replies) throws LocalApiException {
        call(Map.of("command", "ping", "peer", peer, "count", count),
                line -> replies.accept(JSON.convertValue(line, PingReply.class)));
    }

    /** Asks the agent to shut down. */
    public void down() throws LocalApiException {
        call(Map.of("command", "down"), line -> { });
    }

    private void call(Map<String, Object> request, Consumer<JsonNode> onLine) throws LocalApiException {
        if (!Files.exists(socketPath)) {
            throw new LocalApiException("no agent is running here (no socket at " + socketPath
                    + "); start one with `meshwork node up`");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socketPath));
            OutputStream out = Channels.newOutputStream(channel);
            out.write(JSON.writeValueAsBytes(request));
            out.write('\n');
            out.flush();
            BufferedReader in = new BufferedReader(
                    new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode node = JSON.readTree(line);
                if (node.has("error")) {
                    throw new LocalApiException(node.get("error").asText());
                }
                if (node.path("end").asBoolean(false)) {
                    return;
                }
                onLine.accept(node);
            }
            throw new LocalApiException("the agent closed the connection before answering");
        } catch (IOException e) {
            throw new LocalApiException("cannot talk to the agent at " + socketPath + ": " + e.getMessage());
        }
    }

    /** True when an agent accepts connections on {@code socketPath}. */
    static boolean isAlive(Path socketPath) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socketPath));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
