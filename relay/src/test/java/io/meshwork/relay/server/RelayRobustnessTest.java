package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.relay.UdpSessionKey;
import io.meshwork.protocol.stun.StunDecoder;
import io.meshwork.protocol.stun.StunEncoder;
import io.meshwork.protocol.stun.StunMessage;
import io.meshwork.protocol.stun.StunServer;
import io.meshwork.protocol.stun.StunServerAddresses;
import io.meshwork.protocol.stun.TransactionId;
import io.meshwork.relay.metrics.MetricsHttpServer;
import io.meshwork.relay.server.RelayHarness.Peer;
import io.meshwork.relay.testing.TestDevices;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Hostile and unhealthy clients: floods, slow readers, garbage, silence. */
class RelayRobustnessTest {

    private final RelayHarness harness = new RelayHarness();

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void aFloodingClientDoesNotStarveAnother() throws Exception {
        harness.start(config -> config.clientRateLimit(256 << 10, 64 << 10));
        Peer flooder = harness.peer("flooder", harness.udpOnly());
        Peer victim = harness.peer("victim", harness.tcpOnly());
        Peer sender = harness.peer("sender", harness.udpOnly());
        Peer receiver = harness.peer("receiver", harness.tcpOnly());
        for (Peer peer : new Peer[] {flooder, victim, sender, receiver}) {
            peer.awaitConnected();
        }
        AtomicBoolean flooding = new AtomicBoolean(true);
        // About 20 MB/s, eighty times the flooder's limit; an unpaced loop would only measure how fast the
        // flooder's own socket queue grows.
        Thread flood = new Thread(() -> {
            ByteBuffer payload = ByteBuffer.allocate(1200);
            while (flooding.get()) {
                for (int i = 0; i < 8; i++) {
                    flooder.client.sendPacket(victim.key(), payload.duplicate());
                    flooder.client.sendPacket(receiver.key(), payload.duplicate());
                }
                LockSupport.parkNanos(1_000_000);
            }
        });
        flood.start();
        try {
            sender.deliverTo(receiver, 200, "steady");
        } finally {
            flooding.set(false);
            flood.join();
        }
        assertTrue(harness.relay.metrics().drops(DropReason.RATE_LIMITED) > 0, "the flood was rate limited");
    }

    @Test
    void aClientThatStopsReadingLosesOnlyItsOwnTraffic() throws Exception {
        harness.start(config -> config.tcpQueueBytes(64 << 10));
        TestDevices.Device stuckDevice = harness.devices.enroll("stuck");
        Peer sender = harness.peer("sender", harness.udpOnly());
        Peer other = harness.peer("other", harness.tcpOnly());
        sender.awaitConnected();
        other.awaitConnected();
        try (Socket stuck = new Socket()) {
            stuck.setReceiveBufferSize(4096);
            stuck.connect(harness.relay.tcpAddress().orElseThrow());
            authenticateOverTcp(stuck, stuckDevice);
            ByteBuffer payload = ByteBuffer.allocate(1400);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (harness.relay.metrics().drops(DropReason.DESTINATION_QUEUE_FULL) == 0
                    && System.nanoTime() < deadline) {
                for (int i = 0; i < 100; i++) {
                    sender.client.sendPacket(stuckDevice.keys().publicKey(), payload.duplicate());
                }
                Thread.sleep(5);
            }
            assertTrue(harness.relay.metrics().drops(DropReason.DESTINATION_QUEUE_FULL) > 0,
                    "frames for the stuck client were dropped once its queue filled");
            sender.deliverTo(other, 50, "unaffected");
        }
    }

    @Test
    void udpGarbageIsDroppedAndCounted() throws Exception {
        harness.start(config -> { });
        Peer alice = harness.peer("alice", harness.both());
        Peer bob = harness.peer("bob", harness.both());
        alice.awaitConnected();
        bob.awaitConnected();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0))) {
            InetSocketAddress relay = harness.relay.udpAddress().orElseThrow();
            send(socket, relay, new byte[] {1, 2, 3});
            send(socket, relay, new byte[] {(byte) 0xF1, 'M', 'W', 'R', (byte) 0xEE, 0});
            send(socket, relay, new byte[] {(byte) 0xF1, 'M', 'W', 'R', 0x06, 1, 2});
            send(socket, relay, RelayFrameCodec.encodeDatagram(new ClientHello(1, bob.key())));
        }
        alice.deliverTo(bob, 5, "still-working");
        assertEquals(1, harness.relay.metrics().drops(DropReason.NOT_RELAY));
        assertEquals(1, harness.relay.metrics().drops(DropReason.UNKNOWN_TYPE));
        assertEquals(1, harness.relay.metrics().drops(DropReason.MALFORMED));
        assertEquals(1, harness.relay.metrics().drops(DropReason.UNPADDED_HELLO));
    }

    @Test
    void spoofedAndForgedUdpDatagramsReachNobodyWhileTheDevicesOwnFlow() throws Exception {
        harness.start(config -> { });
        Peer bob = harness.peer("bob", harness.udpOnly());
        bob.awaitConnected();
        TestDevices.Device laptop = harness.devices.enroll("laptop");
        InetSocketAddress relay = harness.relay.udpAddress().orElseThrow();
        try (DatagramSocket device = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0));
                DatagramSocket spoofer = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0))) {
            device.setSoTimeout(5_000);
            UdpSessionKey key = authenticateOverUdp(device, relay, laptop);
            byte[] first = RelayFrameCodec.encodeDatagram(key.seal(0, packet(bob, "first")));
            send(device, relay, first);
            assertEquals(laptop.keys().publicKey() + " first", bob.packets.poll(5, TimeUnit.SECONDS));

            // The same (valid) datagram from another address, and a forged tag from the device's own address.
            send(spoofer, relay, RelayFrameCodec.encodeDatagram(key.seal(1, packet(bob, "spoofed"))));
            RelayFrame.Sealed honest = key.seal(2, packet(bob, "forged"));
            byte[] tag = new byte[UdpSessionKey.TAG_BYTES];
            send(device, relay, RelayFrameCodec.encodeDatagram(
                    new RelayFrame.Sealed(honest.sessionId(), 2, ByteBuffer.wrap(tag), honest.inner())));
            send(device, relay, first);
            // Datagrams through one relay socket stay in order on loopback: the marker comes after anything
            // the relay had forwarded of the three above.
            send(device, relay, RelayFrameCodec.encodeDatagram(key.seal(3, packet(bob, "marker"))));
            assertEquals(laptop.keys().publicKey() + " marker", bob.packets.poll(5, TimeUnit.SECONDS));
        }
        assertEquals(1, harness.relay.metrics().drops(DropReason.UNAUTHENTICATED));
        assertEquals(1, harness.relay.metrics().drops(DropReason.BAD_MAC));
        assertEquals(1, harness.relay.metrics().drops(DropReason.REPLAYED));
    }

    private static RelayFrame packet(Peer to, String text) {
        return new RelayFrame.SendPacket(to.key(), ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void tcpUnknownTypesAreSkippedButBadFramingCloses() throws Exception {
        harness.start(config -> { });
        try (Socket socket = new Socket()) {
            socket.connect(harness.relay.tcpAddress().orElseThrow());
            socket.setSoTimeout(5_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.write(new byte[] {0, 3, (byte) 0xEE, 1, 2});
            out.write(RelayFrameCodec.encodeStream(new ClientHello(RelayHandshake.VERSION, harness.devices
                    .enroll("probe").keys().publicKey())));
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertInstanceOf(ServerChallenge.class, readStreamFrame(in), "connection kept after an unknown type");
            out.write(new byte[] {(byte) 0xFF, (byte) 0xFF, 0, 0});
            out.flush();
            assertTrue(closedByPeer(in), "connection closed after a length prefix out of range");
        }
        assertEquals(1, harness.relay.metrics().drops(DropReason.UNKNOWN_TYPE));
        assertEquals(1, harness.relay.metrics().drops(DropReason.FRAMING));
    }

    @Test
    void tcpConnectionsThatNeverAuthenticateAreClosed() throws Exception {
        harness.start(config -> config.handshakeTimeout(Duration.ofMillis(300)));
        try (Socket socket = new Socket()) {
            socket.connect(harness.relay.tcpAddress().orElseThrow());
            socket.setSoTimeout(5_000);
            assertTrue(closedByPeer(new DataInputStream(socket.getInputStream())));
        }
    }

    @Test
    void clientsReconnectAfterTheRelayRestarts() throws Exception {
        harness.start(config -> { });
        InetSocketAddress udp = harness.relay.udpAddress().orElseThrow();
        Peer alice = harness.peer("alice", harness.udpOnly());
        Peer bob = harness.peer("bob", harness.udpOnly());
        alice.awaitConnected();
        bob.awaitConnected();
        harness.relay.close();
        alice.awaitStatus(status -> !status.connected(), Duration.ofSeconds(10));
        harness.start(config -> config.udp(udp).tcp(null));
        alice.awaitConnected();
        bob.awaitConnected();
        alice.deliverTo(bob, 5, "after-restart");
    }

    @Test
    void idleClientsExpire() throws Exception {
        harness.start(config -> config.idleTimeout(Duration.ofMillis(400)));
        TestDevices.Device device = harness.devices.enroll("quiet");
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0))) {
            socket.setSoTimeout(5_000);
            InetSocketAddress relay = harness.relay.udpAddress().orElseThrow();
            authenticateOverUdp(socket, relay, device);
            assertEquals(1, harness.relay.clientCount());
            Goodbye goodbye = assertInstanceOf(Goodbye.class, receive(socket));
            assertEquals(CloseReason.IDLE, goodbye.reason());
            assertEquals(0, harness.relay.clientCount());
        }
    }

    @Test
    void stunBindingRequestsAreAnsweredOnTheRelayPort() throws Exception {
        harness.start(config -> { });
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0))) {
            socket.setSoTimeout(5_000);
            send(socket, harness.relay.udpAddress().orElseThrow(),
                    StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random())));
            DatagramPacket answer = new DatagramPacket(new byte[1500], 1500);
            socket.receive(answer);
            StunMessage response = StunDecoder.decode(ByteBuffer.wrap(answer.getData(), 0, answer.getLength()));
            assertEquals(socket.getLocalSocketAddress(), response.mappedAddress().orElseThrow());
        }
    }

    @Test
    void theSeparateStunServerSharesTheRelaysPerSourceBudget() throws Exception {
        harness.start(config -> config.sourceAnswerRate(1, 2, 100));
        int port;
        try (DatagramSocket free = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0))) {
            port = free.getLocalPort();
        }
        StunServer stun = harness.track(StunServer.start(new StunServerAddresses(RelayHarness.LOOPBACK,
                Optional.empty(), port), "meshwork relay", harness.relay::mayAnswerStun));
        InetSocketAddress server = new InetSocketAddress(RelayHarness.LOOPBACK, port);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0))) {
            for (int i = 0; i < 5; i++) {
                send(socket, server, StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random())));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (stun.answered() + stun.refused() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        assertEquals(2, stun.answered(), "the burst of two is answered");
        assertEquals(3, stun.refused());
        assertEquals(3, harness.relay.metrics().drops(DropReason.STUN_RATE_LIMITED));
    }

    @Test
    void metricsAreServedOverHttp() throws Exception {
        harness.start(config -> { });
        Peer alice = harness.peer("alice", harness.both());
        Peer bob = harness.peer("bob", harness.tcpOnly());
        alice.awaitConnected();
        bob.awaitConnected();
        alice.deliverTo(bob, 3, "counted");
        MetricsHttpServer http = harness.track(MetricsHttpServer.start(
                new InetSocketAddress(RelayHarness.LOOPBACK, 0), harness.relay.metrics()));
        HttpClient client = HttpClient.newHttpClient();
        URI base = URI.create("http://127.0.0.1:" + http.address().getPort());
        HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("meshwork_relay_clients{transport=\"udp\"} 1.0"), metrics.body());
        assertTrue(metrics.body().contains("meshwork_relay_clients{transport=\"tcp\"} 1.0"), metrics.body());
        assertTrue(metrics.body().contains("meshwork_relay_forwarded_frames_total{from=\"udp\",to=\"tcp\"} 3.0"),
                metrics.body());
        assertTrue(metrics.body().contains("meshwork_relay_forwarded_payload_bytes_total{from=\"udp\",to=\"tcp\"}"),
                metrics.body());
        assertTrue(metrics.body().contains("meshwork_relay_drops_total{reason=\"rate_limited\"}"), metrics.body());
        assertTrue(metrics.body().contains("meshwork_relay_authentications_total{status=\"ok\"} 2.0"), metrics.body());
        HttpResponse<String> missing = client.send(HttpRequest.newBuilder(base.resolve("/nope")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().startsWith("{"));
    }

    private static void authenticateOverTcp(Socket socket, TestDevices.Device device) throws Exception {
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        DataInputStream in = new DataInputStream(socket.getInputStream());
        out.write(RelayFrameCodec.encodeStream(new ClientHello(RelayHandshake.VERSION, device.keys().publicKey())));
        out.flush();
        ServerChallenge challenge = (ServerChallenge) readStreamFrame(in);
        out.write(RelayFrameCodec.encodeStream(auth(device, challenge)));
        out.flush();
        assertEquals(AuthStatus.OK, ((AuthResult) readStreamFrame(in)).status());
        assertInstanceOf(ObservedAddress.class, readStreamFrame(in));
    }

    /** The handshake over {@code socket}; returns the key the session's frames are sealed with. */
    private static UdpSessionKey authenticateOverUdp(DatagramSocket socket, InetSocketAddress relay,
            TestDevices.Device device) throws Exception {
        send(socket, relay, RelayFrameCodec.encodeDatagram(
                new ClientHello(RelayHandshake.VERSION, device.keys().publicKey()), RelayHandshake.MIN_UDP_HELLO_BYTES));
        ServerChallenge challenge = (ServerChallenge) receive(socket);
        send(socket, relay, RelayFrameCodec.encodeDatagram(auth(device, challenge)));
        AuthResult result = (AuthResult) receive(socket);
        assertEquals(AuthStatus.OK, result.status());
        ObservedAddress observed = (ObservedAddress) receive(socket);
        assertEquals(Transport.UDP, observed.transport());
        assertEquals(socket.getLocalSocketAddress(), observed.address());
        UdpSessionKey key = RelayHandshake.clientSessionKey(device.keys(), challenge.serverKey(),
                challenge.challenge()).orElseThrow();
        assertEquals(key.id(), result.udpSessionId());
        return key;
    }

    private static ClientAuth auth(TestDevices.Device device, ServerChallenge challenge) throws Exception {
        ByteBuffer certificate = ByteBuffer.wrap(device.certificate().getEncoded());
        byte[] proof = RelayHandshake.prove(device.keys(), challenge.serverKey(), challenge.challenge(), certificate)
                .orElseThrow();
        return new ClientAuth(device.keys().publicKey(), challenge.challenge(), ByteBuffer.wrap(proof), certificate);
    }

    private static RelayFrame readStreamFrame(DataInputStream in) throws Exception {
        int length = in.readUnsignedShort();
        byte[] frame = new byte[length];
        in.readFully(frame);
        return RelayFrameCodec.decodeFrame(ByteBuffer.wrap(frame));
    }

    private static boolean closedByPeer(DataInputStream in) throws Exception {
        try {
            while (true) {
                in.readByte();
            }
        } catch (EOFException e) {
            return true;
        }
    }

    private static void send(DatagramSocket socket, InetSocketAddress to, byte[] datagram) throws Exception {
        socket.send(new DatagramPacket(datagram, datagram.length, to));
    }

    private static RelayFrame receive(DatagramSocket socket) throws Exception {
        DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
        socket.receive(packet);
        return RelayFrameCodec.decodeDatagram(ByteBuffer.wrap(packet.getData(), 0, packet.getLength()));
    }
}
