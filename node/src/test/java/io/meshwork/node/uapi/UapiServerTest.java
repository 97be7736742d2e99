package io.meshwork.node.uapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.dataplane.TunDevice;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.wireguard.Key;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The UAPI socket against clients that break the protocol's framing: every such request gets a protocol error,
 * is not applied, and ends the connection, and the server never reads more of it than its bounds allow.
 */
@Timeout(60) // a guard against a server that never answers, not a measurement
class UapiServerTest {

    private static final String PROTOCOL_ERROR = "errno=" + UapiProtocol.EPROTO + "\n\n";
    /** Far more than any bound of the server: a client that would still be writing when a bounded server gave up. */
    private static final int FLOOD_BYTES = 16 << 20;

    @TempDir
    Path directory;
    private WireGuardDevice device;
    private UapiServer server;

    @BeforeEach
    void start() throws IOException {
        device = new WireGuardDevice(new IdleTun(), port -> new IdleTransport());
        server = UapiServer.start(device, directory);
    }

    @AfterEach
    void stop() {
        server.close();
        device.close();
    }

    @Test
    void wellFormedRequestsAreAnsweredOnOneConnection() throws IOException {
        Key key = Key.generatePrivate();
        try (SocketChannel client = connect()) {
            send(client, "set=1\nprivate_key=" + key.toHex() + "\nlisten_port=0\n\n");
            assertEquals("errno=0\n\n", readAnswer(client));
            send(client, "get=1\n\n");
            String answer = readAnswer(client);
            assertTrue(answer.startsWith("private_key=" + key.toHex() + "\n"), answer);
            assertTrue(answer.endsWith("errno=0\n\n"), answer);
        }
        assertEquals(key, device.privateKey());
    }

    @Test
    void anEndlessOperationLineIsAProtocolErrorAndTheServerStopsReadingIt() throws Exception {
        try (SocketChannel client = connect()) {
            Flood flood = Flood.start(client, new byte[0]);
            assertEquals(PROTOCOL_ERROR, readAnswer(client));
            assertClosed(client);
            assertNotNull(flood.finish(), "the server read all " + FLOOD_BYTES + " bytes of one line");
        }
    }

    @Test
    void anEndlessLineInsideARequestIsAProtocolErrorAndNothingOfTheRequestIsApplied() throws Exception {
        String start = "set=1\nprivate_key=" + Key.generatePrivate().toHex() + "\nallowed_ip=";
        try (SocketChannel client = connect()) {
            Flood flood = Flood.start(client, start.getBytes(StandardCharsets.US_ASCII));
            assertEquals(PROTOCOL_ERROR, readAnswer(client));
            assertClosed(client);
            assertNotNull(flood.finish(), "the server read all " + FLOOD_BYTES + " bytes of one line");
        }
        assertNull(device.privateKey());
    }

    @Test
    void aLineOfExactlyTheLongestLengthIsReadAndOneByteMoreIsNot() throws IOException {
        String longest = "fwmark=" + "0".repeat(UapiServer.MAX_LINE_BYTES - "fwmark=".length());
        try (SocketChannel client = connect()) {
            send(client, "set=1\n" + longest + "\n\n");
            assertEquals("errno=0\n\n", readAnswer(client), "a long run of zeros is still the number 0");
            send(client, "set=1\n" + longest + "0\n\n");
            assertEquals(PROTOCOL_ERROR, readAnswer(client));
            assertClosed(client);
        }
    }

    @Test
    void aRequestOfTheMostLinesIsAppliedAndOneLineMoreIsAProtocolError() throws Exception {
        Key key = Key.generatePrivate();
        String mostLines = "fwmark=0\n".repeat(UapiServer.MAX_LINES_PER_REQUEST - 1);
        try (SocketChannel client = connect()) {
            send(client, "set=1\nprivate_key=" + key.toHex() + "\n" + mostLines + "\n");
            assertEquals("errno=0\n\n", readAnswer(client));
            assertEquals(key, device.privateKey());

            Flood flood = Flood.start(client,
                    ("set=1\nprivate_key=" + Key.generatePrivate().toHex() + "\n" + mostLines + "fwmark=0\n\n")
                            .getBytes(StandardCharsets.US_ASCII), false);
            assertEquals(PROTOCOL_ERROR, readAnswer(client));
            assertClosed(client);
            flood.finish();
        }
        assertEquals(key, device.privateKey(), "nothing of the refused request was applied");
    }

    @Test
    void aClientEndingInsideARequestGetsAProtocolErrorAndNothingIsApplied() throws IOException {
        String[] truncated = {
            "set=1\nprivate_key=" + Key.generatePrivate().toHex() + "\n", // no blank line
            "set=1\nprivate_key=" + Key.generatePrivate().toHex(), // inside a line of the request
            "get=", // inside the operation line
        };
        for (String request : truncated) {
            try (SocketChannel client = connect()) {
                send(client, request);
                client.shutdownOutput();
                assertEquals(PROTOCOL_ERROR, readAnswer(client), request);
                assertClosed(client);
            }
            assertNull(device.privateKey(), request);
        }
    }

    private SocketChannel connect() throws IOException {
        SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
        client.connect(UnixDomainSocketAddress.of(server.socketPath()));
        return client;
    }

    private static void send(SocketChannel client, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        while (bytes.hasRemaining()) {
            client.write(bytes);
        }
    }

    /** Reads up to and including the blank line that ends an answer. */
    private static String readAnswer(SocketChannel client) throws IOException {
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        byte previous = 0;
        while (true) {
            one.clear();
            if (client.read(one) < 0) {
                return answer + "<end of stream>";
            }
            byte b = one.get(0);
            answer.write(b);
            if (b == '\n' && previous == '\n') {
                return answer.toString(StandardCharsets.US_ASCII);
            }
            previous = b;
        }
    }

    /** The server closed the connection: the stream ends (or is reset, when it closed with input unread). */
    private static void assertClosed(SocketChannel client) {
        try {
            assertEquals(-1, client.read(ByteBuffer.allocate(1)), "the connection stays open");
        } catch (IOException reset) {
            // closed with bytes of ours unread: as good as an end of stream
        }
    }

    /** Writes a prefix and then, optionally, {@link #FLOOD_BYTES} without a newline, from a thread of its own. */
    private static final class Flood {
        private final Thread thread;
        private final AtomicReference<IOException> failure = new AtomicReference<>();

        private Flood(SocketChannel client, byte[] prefix, boolean flood) {
            thread = new Thread(() -> {
                try {
                    send(client, new String(prefix, StandardCharsets.US_ASCII));
                    if (flood) {
                        byte[] chunk = new byte[64 << 10];
                        Arrays.fill(chunk, (byte) 'a');
                        for (int written = 0; written < FLOOD_BYTES; written += chunk.length) {
                            ByteBuffer bytes = ByteBuffer.wrap(chunk);
                            while (bytes.hasRemaining()) {
                                client.write(bytes);
                            }
                        }
                    }
                } catch (IOException e) {
                    failure.set(e);
                }
            }, "uapi-flood");
            thread.start();
        }

        static Flood start(SocketChannel client, byte[] prefix) {
            return new Flood(client, prefix, true);
        }

        static Flood start(SocketChannel client, byte[] prefix, boolean flood) {
            return new Flood(client, prefix, flood);
        }

        /** Waits for the writer; the error that stopped it, or null when it wrote everything. */
        IOException finish() throws InterruptedException {
            thread.join();
            return failure.get();
        }
    }

    private static final class IdleTun implements TunDevice {
        private volatile boolean closed;

        @Override
        public String name() {
            return "wgu";
        }

        @Override
        public int mtu() {
            return 1420;
        }

        @Override
        public int read(ByteBuffer buffer, int timeoutMillis) {
            if (closed) {
                return -1;
            }
            try {
                Thread.sleep(timeoutMillis);
            } catch (InterruptedException e) {
                return -1;
            }
            return closed ? -1 : 0;
        }

        @Override
        public void write(ByteBuffer packet) {}

        @Override
        public void close() {
            closed = true;
        }
    }

    private static final class IdleTransport implements PacketTransport {
        @Override
        public InetSocketAddress localAddress() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), 51820);
        }

        @Override
        public void send(ByteBuffer datagram, InetSocketAddress destination) {}

        @Override
        public void register(DatagramKind kind, PacketHandler handler) {}

        @Override
        public void unregister(DatagramKind kind) {}

        @Override
        public long droppedDatagrams() {
            return 0;
        }

        @Override
        public void close() {}
    }
}
