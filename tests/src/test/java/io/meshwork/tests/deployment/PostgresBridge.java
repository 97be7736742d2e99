package io.meshwork.tests.deployment;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Carries PostgreSQL connections into a network namespace. The database listens on the machine's loopback, which
 * a namespace cannot reach; the file system is shared, though. So the test's JVM accepts on a Unix socket and
 * connects to PostgreSQL over TCP ({@link #unixToTcp}), and this command, run inside the namespace, accepts TCP
 * on the namespace's loopback and connects to that Unix socket. Bytes pass through untouched.
 */
@Command(name = "postgres-bridge", description = "Forwards TCP connections on --listen to the Unix socket --unix.")
public final class PostgresBridge implements Callable<Integer> {

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT")
    String listen;

    @Option(names = "--unix", required = true, paramLabel = "PATH")
    Path socket;

    public PostgresBridge() {}

    @Override
    public Integer call() throws IOException {
        int colon = listen.lastIndexOf(':');
        ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(
                listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1))));
        System.out.println("bridging " + listen + " to " + socket);
        acceptLoop(server, () -> UnixDomainSocketAddress.of(socket));
        return 0;
    }

    /**
     * Accepts on a new Unix socket at {@code socket} and connects each connection to {@code target} over TCP, on
     * daemon threads, until the returned handle is closed.
     */
    public static AutoCloseable unixToTcp(Path socket, InetSocketAddress target) throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)
                .bind(UnixDomainSocketAddress.of(socket));
        Thread acceptor = new Thread(() -> acceptLoop(server, () -> target), "postgres-bridge");
        acceptor.setDaemon(true);
        acceptor.start();
        return () -> {
            server.close();
            Files.deleteIfExists(socket);
        };
    }

    private static void acceptLoop(ServerSocketChannel server, Supplier<SocketAddress> target) {
        while (server.isOpen()) {
            SocketChannel accepted;
            try {
                accepted = server.accept();
            } catch (IOException closed) {
                return;
            }
            try {
                SocketAddress address = target.get();
                SocketChannel upstream = address instanceof UnixDomainSocketAddress
                        ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
                upstream.connect(address);
                AtomicInteger directionsOpen = new AtomicInteger(2);
                pump(accepted, upstream, directionsOpen);
                pump(upstream, accepted, directionsOpen);
            } catch (IOException e) {
                close(accepted);
            }
        }
    }

    /**
     * Copies {@code from} to {@code to} on its own thread (reads and writes of a channel do not block each other);
     * the last direction to finish closes both channels.
     */
    private static void pump(SocketChannel from, SocketChannel to, AtomicInteger directionsOpen) {
        Thread thread = new Thread(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            try {
                while (from.read(buffer) >= 0) {
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        to.write(buffer);
                    }
                    buffer.clear();
                }
                to.shutdownOutput();
                if (directionsOpen.decrementAndGet() == 0) {
                    close(from);
                    close(to);
                }
            } catch (IOException e) {
                close(from);
                close(to);
            }
        }, "postgres-bridge-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private static void close(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Already gone.
        }
    }
}
