package io.meshwork.lab.tools;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A TCP transfer whose bytes can be checked end to end: the sender streams seeded pseudo-random bytes, both
 * sides print {@code bytes=N sha256=HEX}, and a test compares the lines; the receiver first prints
 * {@code from=IP}, the address the connection came from. Runs inside lab hosts through
 * {@code Host.java(TcpTransfer.class, ...)}.
 */
@Command(name = "tcp-transfer", description = "Send or receive a checked TCP byte stream.")
public final class TcpTransfer implements Callable<Integer> {

    @Option(names = "--listen", paramLabel = "PORT", description = "Receive on this port (one connection).")
    Integer listenPort;

    @Option(names = "--connect", paramLabel = "HOST:PORT", description = "Send to this address.")
    String connect;

    @Option(names = "--bytes", defaultValue = "1048576", description = "How many bytes to send.")
    long bytes;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the pseudo-random stream.")
    long seed;

    @Override
    public Integer call() throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long total = 0;
        if (listenPort != null) {
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(listenPort));
                System.out.println("listening");
                System.out.flush();
                try (Socket socket = server.accept(); InputStream in = socket.getInputStream()) {
                    // Who connected, as this host sees it (a test of NAT reads the source address here).
                    System.out.println("from=" + socket.getInetAddress().getHostAddress());
                    System.out.flush();
                    byte[] buffer = new byte[65536];
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        digest.update(buffer, 0, n);
                        total += n;
                    }
                }
            }
        } else if (connect != null) {
            int colon = connect.lastIndexOf(':');
            Random random = new Random(seed);
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(connect.substring(0, colon),
                        Integer.parseInt(connect.substring(colon + 1))), 10_000);
                OutputStream out = socket.getOutputStream();
                byte[] buffer = new byte[65536];
                while (total < bytes) {
                    random.nextBytes(buffer);
                    int n = (int) Math.min(buffer.length, bytes - total);
                    out.write(buffer, 0, n);
                    digest.update(buffer, 0, n);
                    total += n;
                }
                socket.shutdownOutput();
            }
        } else {
            System.err.println("tcp-transfer: give --listen PORT or --connect HOST:PORT");
            return 2;
        }
        System.out.println("bytes=" + total + " sha256=" + HexFormat.of().formatHex(digest.digest()));
        return 0;
    }
}
