package io.meshwork.node.transport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Unix domain socket server with a thread per client, for the local control planes of a node (its CLI socket,
 * the WireGuard UAPI socket). The socket file is made with the given permissions and removed on close.
 */
public final class UnixSocketServer implements AutoCloseable {

    /** Serves one connected client; the server closes the channel afterwards. */
    @FunctionalInterface
    public interface ClientHandler {
        void serve(SocketChannel client) throws IOException;
    }

    private static final Logger log = LoggerFactory.getLogger(UnixSocketServer.class);

    private final ServerSocketChannel server;
    private final Path socketPath;
    private final ClientHandler handler;
    private final String name;

    private UnixSocketServer(ServerSocketChannel server, Path socketPath, ClientHandler handler, String name) {
        this.server = server;
        this.socketPath = socketPath;
        this.handler = handler;
        this.name = name;
    }

    /**
     * Binds {@code socketPath} (its directory is created; an existing file there is replaced) with POSIX
     * {@code permissions} such as {@code rw-------}, and starts accepting.
     */
    public static UnixSocketServer start(Path socketPath, String permissions, String name, ClientHandler handler)
            throws IOException {
        Files.createDirectories(socketPath.getParent());
        Files.deleteIfExists(socketPath);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
        Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString(permissions));
        UnixSocketServer unix = new UnixSocketServer(server, socketPath, handler, name);
        Thread acceptor = new Thread(unix::acceptLoop, name);
        acceptor.setDaemon(true);
        acceptor.start();
        return unix;
    }

    public Path socketPath() {
        return socketPath;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread worker = new Thread(() -> {
                    try (client) {
                        handler.serve(client);
                    } catch (IOException | RuntimeException e) {
                        log.debug("{} client: {}", name, e.toString());
                    }
                }, name + "-client");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.debug("{} accept failed: {}", name, e.toString());
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            log.debug("closing {}: {}", name, e.toString());
        }
    }
}
