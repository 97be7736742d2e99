package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The client against a fake socket: no relay needed to check what it sends and how it gives up. */
class RelayClientTest {

    private static final InetSocketAddress RELAY_UDP = new InetSocketAddress("192.0.2.1", 3340);

    private static RelayCredential credential() {
        return new RelayCredential(RelayKeyPair.generate(new SecureRandom()), new byte[] {0x30, 0});
    }

    @Test
    void sendsPaddedHellosThenFallsBackToTcpAndBacksOff() throws Exception {
        RecordingTransport transport = new RecordingTransport(new InetSocketAddress("127.0.0.1", 40000));
        RelayCredential credential = credential();
        List<RelayStatus> statuses = new CopyOnWriteArrayList<>();
        int closedPort;
        try (ServerSocket unused = new ServerSocket(0)) {
            closedPort = unused.getLocalPort();
        }
        RelayAddress relay = RelayAddress.of(RELAY_UDP, new InetSocketAddress("127.0.0.1", closedPort));
        RelayClientConfig config = RelayClientConfig.defaults()
                .withUdpAnswerTimeout(Duration.ofMillis(300))
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(100));
        try (RelayClient client = RelayClient.start(relay, credential, transport, new RelayListener() {
            @Override
            public void onPacket(RelayKey source, ByteBuffer payload) {
            }

            @Override
            public void onStatus(RelayStatus status) {
                statuses.add(status);
            }
        }, config)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (statuses.stream().filter(s -> s.state() == RelayStatus.State.BACKING_OFF).count() < 2
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            PacketTransport.PacketHandler fromRelay = transport.handler(DatagramKind.RELAY);
            assertTrue(fromRelay != null, "the client listens for relay datagrams");
            fromRelay.onDatagram(ByteBuffer.wrap(new byte[] {(byte) 0xF1, 'M', 'W', 'R', 0x0B}), RELAY_UDP);
            fromRelay.onDatagram(ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(new RelayFrame.Pong(1))),
                    new InetSocketAddress("192.0.2.99", 3340));
            assertEquals(2, client.droppedInbound(), "a malformed frame and one from a stranger");
            assertFalse(client.sendPacket(credential.publicKey(), ByteBuffer.allocate(1)), "nothing sent unconnected");
            assertEquals(1, client.droppedOutbound());
        }
        assertEquals(null, transport.handler(DatagramKind.RELAY), "close gives the socket back");
        List<RelayStatus.State> states = statuses.stream().map(RelayStatus::state).toList();
        int firstTcp = states.indexOf(RelayStatus.State.CONNECTING_TCP);
        assertTrue(firstTcp > 0 && states.get(firstTcp - 1) == RelayStatus.State.CONNECTING_UDP, states.toString());
        assertTrue(states.subList(firstTcp, states.size()).contains(RelayStatus.State.BACKING_OFF), states.toString());
        assertTrue(transport.sent.size() >= 2, "hello repeated while unanswered");
        for (byte[] datagram : transport.datagrams()) {
            assertTrue(datagram.length >= RelayHandshake.MIN_UDP_HELLO_BYTES);
            RelayFrame frame = RelayFrameCodec.decodeDatagram(ByteBuffer.wrap(datagram));
            assertEquals(credential.publicKey(), ((ClientHello) frame).clientKey());
        }
    }
}
