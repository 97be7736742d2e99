package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.relay.server.RelayHarness.Peer;
import io.meshwork.relay.testing.TestDevices;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Before a client authenticates the relay does little for it: one hello per connection, no writes to a client that
 * does not read, and a cap on unauthenticated connections per source address and in total; each refusal counted.
 */
class PreAuthLimitsTest {

    private final TestDevices devices = new TestDevices("pre-auth test CA");
    private final EngineDriver driver = new EngineDriver();
    private final RelayHarness harness = new RelayHarness();

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    /** A stream that records what the relay writes and whether it is readable by the client. */
    private static final class RecordingStream implements FrameStream {
        final List<RelayFrame> written = new ArrayList<>();
        boolean writable = true;
        boolean open = true;

        @Override
        public boolean writable() {
            return writable;
        }

        @Override
        public void write(RelayFrame frame) {
            written.add(frame);
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }

    private static ByteBuffer streamed(RelayFrame frame) {
        return ByteBuffer.wrap(RelayFrameCodec.encodeStream(frame));
    }

    @Test
    void aSecondHelloOnOneConnectionClosesIt() {
        RelayEngine relay = driver.engine(RelayConfig.builder(devices.anchors()));
        TestDevices.Device device = EngineDriver.enroll(devices, "laptop");
        RecordingStream stream = new RecordingStream();
        StreamConnection connection = relay.openStream(new InetSocketAddress("198.51.100.1", 5000), stream);
        ClientHello hello = new ClientHello(RelayHandshake.VERSION, device.keys().publicKey());
        for (int i = 0; i < 100; i++) {
            connection.onStreamFrame(streamed(hello));
        }
        assertEquals(1, stream.written.size(), "one challenge, however many hellos");
        assertInstanceOf(ServerChallenge.class, stream.written.get(0));
        assertFalse(stream.open);
        assertEquals(1, relay.metrics().drops(DropReason.HELLO_REPEATED));
    }

    @Test
    void aClientThatDoesNotReadGetsNoAnswerAndIsClosed() {
        RelayEngine relay = driver.engine(RelayConfig.builder(devices.anchors()));
        TestDevices.Device device = EngineDriver.enroll(devices, "laptop");
        RecordingStream stream = new RecordingStream();
        stream.writable = false;
        StreamConnection connection = relay.openStream(new InetSocketAddress("198.51.100.1", 5000), stream);
        connection.onStreamFrame(streamed(new ClientHello(RelayHandshake.VERSION, device.keys().publicKey())));
        assertTrue(stream.written.isEmpty());
        assertFalse(stream.open);
        assertEquals(1, relay.metrics().drops(DropReason.PRE_AUTH_UNWRITABLE));
    }

    @Test
    void aStrayFrameBeforeAuthenticationIsAnsweredOnceAndCloses() {
        RelayEngine relay = driver.engine(RelayConfig.builder(devices.anchors()));
        RecordingStream stream = new RecordingStream();
        StreamConnection connection = relay.openStream(new InetSocketAddress("198.51.100.1", 5000), stream);
        for (int i = 0; i < 10; i++) {
            connection.onStreamFrame(streamed(new RelayFrame.Ping(i)));
        }
        assertEquals(1, stream.written.size());
        assertEquals(AuthStatus.UNAUTHENTICATED, assertInstanceOf(AuthResult.class, stream.written.get(0)).status());
        assertFalse(stream.open);
        assertEquals(1, relay.metrics().drops(DropReason.UNAUTHENTICATED));
    }

    @Test
    void unauthenticatedConnectionsAreCappedPerSourceAndInTotalUntilOneAuthenticates() {
        RelayEngine relay = driver.engine(RelayConfig.builder(devices.anchors()).maxPendingConnections(2, 3));
        TestDevices.Device device = EngineDriver.enroll(devices, "laptop");
        RecordingStream first = new RecordingStream();
        StreamConnection authenticating = relay.openStream(new InetSocketAddress("198.51.100.1", 5001), first);
        relay.openStream(new InetSocketAddress("198.51.100.1", 5002), new RecordingStream());
        RecordingStream thirdFromSource = new RecordingStream();
        relay.openStream(new InetSocketAddress("198.51.100.1", 5003), thirdFromSource);
        assertFalse(thirdFromSource.open);
        assertEquals(1, relay.metrics().drops(DropReason.CONNECTION_LIMIT_SOURCE));

        RecordingStream otherSource = new RecordingStream();
        relay.openStream(new InetSocketAddress("203.0.113.1", 5000), otherSource);
        assertTrue(otherSource.open);
        RecordingStream overTotal = new RecordingStream();
        relay.openStream(new InetSocketAddress("203.0.113.2", 5000), overTotal);
        assertFalse(overTotal.open);
        assertEquals(1, relay.metrics().drops(DropReason.CONNECTION_LIMIT_TOTAL));

        authenticating.onStreamFrame(streamed(new ClientHello(RelayHandshake.VERSION, device.keys().publicKey())));
        ServerChallenge challenge = assertInstanceOf(ServerChallenge.class, first.written.get(0));
        authenticating.onStreamFrame(streamed(EngineDriver.auth(device, challenge)));
        assertTrue(authenticating.authenticated());
        RecordingStream afterAuthentication = new RecordingStream();
        relay.openStream(new InetSocketAddress("198.51.100.1", 5004), afterAuthentication);
        assertTrue(afterAuthentication.open, "an authenticated connection no longer counts as pending");
    }

    @Test
    void connectionsPastThePerSourceCapAreClosedByTheServer() throws Exception {
        harness.start(config -> config.maxPendingConnections(4, 1_000));
        InetSocketAddress relay = harness.relay.tcpAddress().orElseThrow();
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket socket = new Socket();
                socket.connect(relay);
                held.add(socket);
            }
            // The relay counts a connection once its channel is active: wait until all four are in.
            awaitTrue(() -> harness.relay.pendingConnections() == 4);
            for (int i = 0; i < 3; i++) {
                try (Socket refused = new Socket()) {
                    refused.connect(relay);
                    refused.setSoTimeout(5_000);
                    assertTrue(closedByRelay(refused), "connection past the cap is closed");
                }
            }
            assertEquals(3, harness.relay.metrics().drops(DropReason.CONNECTION_LIMIT_SOURCE));
            held.remove(0).close();
            awaitTrue(() -> harness.relay.pendingConnections() == 3);
            Peer device = harness.peer("laptop", harness.tcpOnly());
            device.awaitConnected();
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
    }

    @Test
    void aClientSendingHellosWithoutReadingIsDisconnected() throws Exception {
        harness.start(config -> { });
        byte[] hello = RelayFrameCodec.encodeStream(new ClientHello(RelayHandshake.VERSION,
                harness.devices.enroll("flooder").keys().publicKey()));
        byte[] burst = new byte[hello.length * 1024];
        for (int i = 0; i < 1024; i++) {
            System.arraycopy(hello, 0, burst, i * hello.length, hello.length);
        }
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096);
            socket.connect(harness.relay.tcpAddress().orElseThrow());
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            boolean writeRefused = false;
            try {
                // Far more hellos than one challenge's worth, none of the answers read.
                for (int i = 0; i < 64; i++) {
                    out.write(burst);
                }
                out.flush();
            } catch (SocketException e) {
                writeRefused = true; // the relay closed the connection while we were still writing
            }
            assertTrue(writeRefused || closedByRelay(socket), "the relay closed the connection");
        }
        awaitTrue(() -> harness.relay.metrics().drops(DropReason.HELLO_REPEATED) == 1);
        awaitTrue(() -> harness.relay.pendingConnections() == 0);
    }

    /** Reads until the relay closes the connection: true on end of stream or reset. */
    private static boolean closedByRelay(Socket socket) throws IOException {
        DataInputStream in = new DataInputStream(socket.getInputStream());
        try {
            while (true) {
                in.readByte();
            }
        } catch (EOFException | SocketException e) {
            return true;
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(10);
        }
    }
}
