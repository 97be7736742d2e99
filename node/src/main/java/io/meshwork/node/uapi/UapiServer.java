package io.meshwork.node.uapi;

import io.meshwork.node.dataplane.WireGuardDevice;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link UapiProtocol} on {@code /var/run/wireguard/IFNAME.sock}, where stock {@code wg} looks for
 * userspace WireGuard implementations. Requests on one connection are answered in turn until the client closes.
 */
public final class UapiServer implements AutoCloseable {

    public static final Path SOCKET_DIRECTORY = Path.of("/var/run/wireguard");
    private static final int MAX_LINES_PER_REQUEST = 100_000;
    private static final int MAX_LINE_LENGTH = 4096;
    private static final Logger log = LoggerFactory.getLogger(UapiServer.class);

    private final ServerSocketChannel server;
    private final Path socketPath;
    private final WireGuardDevice device;
    private final Thread acceptor;

    private UapiServer(ServerSocketChannel server, Path socketPath, WireGuardDevice device) {
        this.server = server;
        this.socketPath = socketPath;
        this.device = device;
        this.acceptor = new Thread(this::acceptLoop, "uapi-" + device.name());
        this.acceptor.setDaemon(true);
    }

    public static UapiServer start(WireGuardDevice device) throws IOException {
        return start(device, SOCKET_DIRECTORY);
    }

    public static UapiServer start(WireGuardDevice device, Path directory) throws IOException {
        Files.createDirectories(directory);
        Path socketPath = directory.resolve(device.name() + ".sock");
        Files.deleteIfExists(socketPath);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
        Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rwx------"));
        UapiServer uapi = new UapiServer(server, socketPath, device);
        uapi.acceptor.start();
        return uapi;
    }

    public Path socketPath() {
        return socketPath;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread worker = new Thread(() -> serve(client), "uapi-client");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.debug("uapi accept failed: {}", e.toString());
                }
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client;
                BufferedReader in = new BufferedReader(
                        new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(client)) {
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
        } catch (IOException e) {
            log.debug("uapi client: {}", e.toString());
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
        try {
            server.close();
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            log.debug("closing uapi: {}", e.toString());
        }
    }
}
