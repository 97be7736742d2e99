package io.meshwork.node.uapi;

import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.transport.UnixSocketServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves {@link UapiProtocol} on {@code /var/run/wireguard/IFNAME.sock}, where stock {@code wg} looks for
 * userspace WireGuard implementations. Requests on one connection are answered in turn until the client closes.
 */
public final class UapiServer implements AutoCloseable {

    public static final Path SOCKET_DIRECTORY = Path.of("/var/run/wireguard");
    private static final int MAX_LINES_PER_REQUEST = 100_000;
    private static final int MAX_LINE_LENGTH = 4096;

    private final UnixSocketServer server;
    private final WireGuardDevice device;

    private UapiServer(WireGuardDevice device, UnixSocketServer server) {
        this.device = device;
        this.server = server;
    }

    public static UapiServer start(WireGuardDevice device) throws IOException {
        return start(device, SOCKET_DIRECTORY);
    }

    public static UapiServer start(WireGuardDevice device, Path directory) throws IOException {
        UapiServer[] self = new UapiServer[1];
        UnixSocketServer server = UnixSocketServer.start(directory.resolve(device.name() + ".sock"), "rwx------",
                "uapi-" + device.name(), client -> self[0].serve(client));
        self[0] = new UapiServer(device, server);
        return self[0];
    }

    public Path socketPath() {
        return server.socketPath();
    }

    private void serve(SocketChannel client) throws IOException {
        BufferedReader in = new BufferedReader(
                new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
        OutputStream out = Channels.newOutputStream(client);
        String operation;
        while ((operation = in.readLine()) != null) {
            List<String> lines = readUntilBlank(in);
            if (lines == null) {
                write(out, "errno=" + UapiProtocol.EPROTO + "\n\n");
                return;
            }
            String answer = switch (operation) {
                case "get=1" -> lines.isEmpty() ? UapiProtocol.get(device) : "errno=" + UapiProtocol.EINVAL + "\n\n";
                case "set=1" -> UapiProtocol.set(device, lines);
                default -> "errno=" + UapiProtocol.EINVAL + "\n\n";
            };
            write(out, answer);
        }
    }

    /** The lines up to a blank line; null when the request is too long or ends early. */
    private static List<String> readUntilBlank(BufferedReader in) throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                return lines;
            }
            if (line.length() > MAX_LINE_LENGTH || lines.size() >= MAX_LINES_PER_REQUEST) {
                return null;
            }
            lines.add(line);
        }
        return null;
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        server.close();
    }
}
