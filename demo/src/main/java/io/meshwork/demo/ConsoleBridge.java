package io.meshwork.demo;

import io.meshwork.lab.Host;
import io.meshwork.lab.LabMesh;
import io.meshwork.lab.LabProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Brings the demo's control, which lives inside the lab's namespaces, to this machine's loopback so a browser can
 * open the web console, without adding anything to the machine's own network: a process in the hub's namespace
 * ({@link Inside}) takes connections on a Unix socket in the lab's directory (file systems are not
 * namespaced) and opens each to control's address there; this side listens on {@code 127.0.0.1} and hands each
 * connection to that socket. At most {@value #MAX_CONNECTIONS} connections at once; closed with the lab.
 */
public final class ConsoleBridge implements AutoCloseable {

    private static final int MAX_CONNECTIONS = 32;

    private final ServerSocketChannel listener;
    private final Thread acceptor;

    private ConsoleBridge(ServerSocketChannel listener, Path socket) {
        this.listener = listener;
        Semaphore slots = new Semaphore(MAX_CONNECTIONS);
        this.acceptor = new Thread(() -> {
            while (listener.isOpen()) {
                try {
                    SocketChannel browser = listener.accept();
                    if (!slots.tryAcquire()) {
                        browser.close();
                        continue;
                    }
                    SocketChannel inside = SocketChannel.open(StandardProtocolFamily.UNIX);
                    inside.connect(UnixDomainSocketAddress.of(socket));
                    splice(browser, inside, slots::release);
                } catch (IOException e) {
                    if (!listener.isOpen()) {
                        return;
                    }
                }
            }
        }, "console-bridge");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Starts the inside half in {@code hub}'s namespace towards {@code target} (host:port there) and listens on
     * {@code 127.0.0.1:port} (0: any free port); answers once both are up.
     */
    static ConsoleBridge open(Host hub, Path directory, String target, int port) throws IOException,
            InterruptedException {
        Path socket = directory.resolve("console.sock");
        Files.deleteIfExists(socket);
        LabProcess inside = hub.java(Inside.class, "--socket", socket.toString(), "--target", target);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(socket)) {
            if (!inside.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("the console bridge in the lab did not start: " + inside.output());
            }
            Thread.sleep(100);
        }
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.bind(new InetSocketAddress("127.0.0.1", port));
        } catch (java.net.BindException taken) {
            // Another program has the port: any free one will do.
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
        }
        return new ConsoleBridge(listener, socket);
    }

    /**
     * A new one-time login link to the console, through this bridge: control makes it for the lab's admin token
     * (its URL names control's address inside the lab), and the browser opens it here.
     */
    String loginLink(LabMesh mesh) throws IOException {
        String url = mesh.api("POST", "/api/v1/ui/login-links", "{}").path("url").asText();
        return "https://127.0.0.1:" + port() + url.substring(url.indexOf("/ui/"));
    }

    /** The port this side listens on. */
    int port() throws IOException {
        return ((InetSocketAddress) listener.getLocalAddress()).getPort();
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }

    /** Copies both ways until either side closes, then closes both and runs {@code done}. */
    static void splice(SocketChannel a, SocketChannel b, Runnable done) {
        Runnable closeBoth = new Runnable() {
            private boolean closed;

            @Override
            public synchronized void run() {
                if (!closed) {
                    closed = true;
                    try {
                        a.close();
                        b.close();
                    } catch (IOException ignored) {
                        // Closing is all that is left to do.
                    }
                    done.run();
                }
            }
        };
        for (SocketChannel[] direction : new SocketChannel[][] {{a, b}, {b, a}}) {
            Thread pump = new Thread(() -> {
                ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
                try {
                    while (direction[0].read(buffer) >= 0) {
                        buffer.flip();
                        while (buffer.hasRemaining()) {
                            direction[1].write(buffer);
                        }
                        buffer.clear();
                    }
                } catch (IOException ignored) {
                    // Either side went away: the connection is over.
                } finally {
                    closeBoth.run();
                }
            }, "console-bridge-pump");
            pump.setDaemon(true);
            pump.start();
        }
    }

    /** The half inside the lab: a Unix socket whose connections it opens to control's address. */
    @Command(name = "console-bridge", description = "Forward connections on a Unix socket to a TCP address.")
    public static final class Inside implements Callable<Integer> {

        @Option(names = "--socket", required = true, paramLabel = "PATH")
        Path socket;

        @Option(names = "--target", required = true, paramLabel = "HOST:PORT")
        String target;

        @Override
        public Integer call() throws IOException {
            int colon = target.lastIndexOf(':');
            InetSocketAddress address = new InetSocketAddress(target.substring(0, colon),
                    Integer.parseInt(target.substring(colon + 1)));
            Semaphore slots = new Semaphore(MAX_CONNECTIONS);
            try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                listener.bind(UnixDomainSocketAddress.of(socket));
                socket.toFile().deleteOnExit();
                while (true) {
                    SocketChannel outside = listener.accept();
                    if (!slots.tryAcquire()) {
                        outside.close();
                        continue;
                    }
                    try {
                        splice(outside, SocketChannel.open(address), slots::release);
                    } catch (IOException e) {
                        outside.close();
                        slots.release();
                    }
                }
            }
        }
    }
}
