package io.meshwork.node.uapi;

import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.transport.UnixSocketServer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link UapiProtocol} on {@code /var/run/wireguard/IFNAME.sock}, where stock {@code wg} looks for
 * userspace WireGuard implementations. Requests on one connection are answered in turn until the client closes.
 *
 * <p>Whatever a client sends is read within fixed bounds ({@link #MAX_LINE_BYTES},
 * {@link #MAX_LINES_PER_REQUEST}): a request that breaks them, or that the client ends before its blank line, is
 * answered with {@code errno=71} (EPROTO, the errno wireguard-go reports for a request it cannot parse), nothing
 * of it is applied, and the connection is closed, since where the next request would start is unknown.
 */
public final class UapiServer implements AutoCloseable {

    public static final Path SOCKET_DIRECTORY = Path.of("/var/run/wireguard");
    /**
     * Longest line of a request, in bytes without its newline. The longest lines a client has reason to send
     * (an endpoint with a scoped IPv6 address, a key in hex) are under 100 bytes; a longer line is not UAPI, and
     * it is refused after this many bytes rather than buffered to its end.
     */
    static final int MAX_LINE_BYTES = 512;
    /**
     * Most lines of one request, its operation line and closing blank line not counted: a {@code set=1} for
     * thousands of peers with several allowed IPs each fits. With {@link #MAX_LINE_BYTES} it bounds what one
     * request holds in memory to 32 MiB.
     */
    static final int MAX_LINES_PER_REQUEST = 65_536;

    private static final Logger log = LoggerFactory.getLogger(UapiServer.class);

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
        LineReader in = new LineReader(new BufferedInputStream(Channels.newInputStream(client)));
        OutputStream out = Channels.newOutputStream(client);
        try {
            String operation;
            while ((operation = in.next()) != null) {
                List<String> lines = readUntilBlank(in);
                String answer = switch (operation) {
                    case "get=1" -> lines.isEmpty() ? UapiProtocol.get(device) : "errno=" + UapiProtocol.EINVAL + "\n\n";
                    case "set=1" -> UapiProtocol.set(device, lines);
                    default -> "errno=" + UapiProtocol.EINVAL + "\n\n";
                };
                write(out, answer);
            }
        } catch (MalformedRequest e) {
            log.debug("uapi {}: {}", device.name(), e.getMessage());
            write(out, "errno=" + UapiProtocol.EPROTO + "\n\n");
        }
    }

    /** The lines up to a blank line. */
    private static List<String> readUntilBlank(LineReader in) throws IOException, MalformedRequest {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = in.next();
            if (line == null) {
                throw new MalformedRequest("the stream ended before the request's blank line");
            }
            if (line.isEmpty()) {
                return lines;
            }
            if (lines.size() == MAX_LINES_PER_REQUEST) {
                throw new MalformedRequest("more than " + MAX_LINES_PER_REQUEST + " lines in one request");
            }
            lines.add(line);
        }
    }

    /** Splits a stream into lines of at most {@link #MAX_LINE_BYTES}, never holding more than that. */
    private static final class LineReader {
        private final InputStream in;
        private final byte[] line = new byte[MAX_LINE_BYTES];

        LineReader(InputStream in) {
            this.in = in;
        }

        /** The next line without its newline, or null when the stream ends where a line would start. */
        String next() throws IOException, MalformedRequest {
            int length = 0;
            while (true) {
                int b = in.read();
                if (b == '\n') {
                    return new String(line, 0, length, StandardCharsets.UTF_8);
                }
                if (b < 0) {
                    if (length == 0) {
                        return null;
                    }
                    throw new MalformedRequest("the stream ended inside a line");
                }
                if (length == MAX_LINE_BYTES) {
                    throw new MalformedRequest("a line longer than " + MAX_LINE_BYTES + " bytes");
                }
                line[length++] = (byte) b;
            }
        }
    }

    /** A request that breaks the protocol's framing or this server's bounds; the connection cannot go on. */
    private static final class MalformedRequest extends Exception {
        MalformedRequest(String message) {
            super(message, null, false, false);
        }
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
