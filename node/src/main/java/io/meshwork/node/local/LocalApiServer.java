package io.meshwork.node.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import io.meshwork.node.transport.UnixSocketServer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's local control socket: a Unix domain socket in the state directory, readable by its owner only,
 * that {@code meshwork status}, {@code ping} and {@code node down} talk to.
 *
 * <p>Protocol: the client sends one JSON object on one line, {@code {"command": "status"}},
 * {@code {"command": "ping", "peer": "db-1", "count": 3}} or {@code {"command": "down"}}; the server answers with
 * JSON lines and ends with {@code {"end": true}}, or with {@code {"error": "..."}} alone. Requests over
 * {@value #MAX_REQUEST_CHARS} characters or not JSON are answered with an error.
 */
public final class LocalApiServer implements AutoCloseable {

    public static final String SOCKET_NAME = "node.sock";
    static final int MAX_REQUEST_CHARS = 4096;
    private static final int MAX_PING_COUNT = 1000;
    private static final Logger log = LoggerFactory.getLogger(LocalApiServer.class);

    private final UnixSocketServer server;
    private final LocalApiHandler handler;
    private final ObjectMapper json = new ObjectMapper();

    private LocalApiServer(LocalApiHandler handler, UnixSocketServer server) {
        this.handler = handler;
        this.server = server;
    }

    /** Listens on {@code stateDirectory/node.sock}, replacing a stale socket file left by a dead agent. */
    public static LocalApiServer start(Path stateDirectory, LocalApiHandler handler) throws IOException {
        Path socketPath = stateDirectory.resolve(SOCKET_NAME);
        if (Files.exists(socketPath) && LocalApiClient.isAlive(socketPath)) {
            throw new IOException("another agent is running with state directory " + stateDirectory);
        }
        LocalApiServer[] self = new LocalApiServer[1];
        UnixSocketServer server = UnixSocketServer.start(socketPath, "rw-------", "local-api",
                client -> self[0].serve(client));
        self[0] = new LocalApiServer(handler, server);
        return self[0];
    }

    public Path socketPath() {
        return server.socketPath();
    }

    private void serve(SocketChannel client) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client),
                StandardCharsets.UTF_8));
        OutputStream out = Channels.newOutputStream(client);
        try {
            answer(readBoundedLine(in), out);
        } catch (IllegalArgumentException e) {
            write(out, Map.of("error", e.getMessage()));
        } catch (UncheckedIOException e) {
            log.debug("local api client went away: {}", e.toString());
        } catch (RuntimeException e) {
            log.warn("local api request failed: {}", e.toString());
            write(out, Map.of("error", "internal error: " + e));
        }
    }

    private void answer(String line, OutputStream out) throws IOException {
        JsonNode request;
        try {
            request = json.readTree(line);
        } catch (IOException e) {
            throw new IllegalArgumentException("request is not JSON");
        }
        if (request == null || !request.isObject()) {
            throw new IllegalArgumentException("request must be a JSON object");
        }
        String command = request.path("command").asText("");
        switch (command) {
            case "status" -> {
                write(out, handler.status());
                write(out, Map.of("end", true));
            }
            case "ping" -> {
                String peer = request.path("peer").asText("");
                int count = request.path("count").asInt(1);
                if (peer.isBlank()) {
                    throw new IllegalArgumentException("ping needs a peer");
                }
                if (count < 1 || count > MAX_PING_COUNT) {
                    throw new IllegalArgumentException("ping count must be between 1 and " + MAX_PING_COUNT);
                }
                handler.ping(peer, count, reply -> {
                    try {
                        write(out, reply);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                write(out, Map.of("end", true));
            }
            case "down" -> {
                write(out, Map.of("end", true));
                handler.shutdown();
            }
            default -> throw new IllegalArgumentException("unknown command \"" + command
                    + "\" (expected status, ping or down)");
        }
    }

    private static String readBoundedLine(BufferedReader in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (line.length() >= MAX_REQUEST_CHARS) {
                throw new IllegalArgumentException("request longer than " + MAX_REQUEST_CHARS + " characters");
            }
            line.append((char) c);
        }
        return line.toString();
    }

    private void write(OutputStream out, Object value) throws IOException {
        byte[] bytes = json.writeValueAsBytes(value);
        synchronized (out) {
            out.write(bytes);
            out.write('\n');
            out.flush();
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
