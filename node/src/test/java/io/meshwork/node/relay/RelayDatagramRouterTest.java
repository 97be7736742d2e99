package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Several relay clients on one socket: each gets the datagrams of its own relay, unknown senders are dropped. */
class RelayDatagramRouterTest {

    private static final InetSocketAddress EU = new InetSocketAddress("192.0.2.1", 3340);
    private static final InetSocketAddress US = new InetSocketAddress("192.0.2.2", 3340);

    @Test
    void eachClientGetsItsRelaysDatagramsOnly() {
        RecordingTransport socket = new RecordingTransport(new InetSocketAddress(0));
        RelayDatagramRouter router = new RelayDatagramRouter(socket);
        List<String> received = new ArrayList<>();
        PacketTransport eu = router.forRelay(EU);
        PacketTransport us = router.forRelay(US);
        eu.register(DatagramKind.RELAY, (datagram, sender) -> received.add("eu"));
        us.register(DatagramKind.RELAY, (datagram, sender) -> received.add("us"));
        socket.handler(DatagramKind.RELAY).onDatagram(ByteBuffer.allocate(4), US);
        socket.handler(DatagramKind.RELAY).onDatagram(ByteBuffer.allocate(4), EU);
        socket.handler(DatagramKind.RELAY).onDatagram(ByteBuffer.allocate(4),
                new InetSocketAddress("192.0.2.9", 3340));
        assertEquals(List.of("us", "eu"), received);
        assertEquals(1, router.droppedDatagrams());

        // A replaced client's late unregister leaves its successor for the same relay alone.
        PacketTransport euAgain = router.forRelay(EU);
        euAgain.register(DatagramKind.RELAY, (datagram, sender) -> received.add("eu-2"));
        eu.unregister(DatagramKind.RELAY);
        socket.handler(DatagramKind.RELAY).onDatagram(ByteBuffer.allocate(4), EU);
        assertEquals("eu-2", received.get(received.size() - 1));
        euAgain.unregister(DatagramKind.RELAY);
        socket.handler(DatagramKind.RELAY).onDatagram(ByteBuffer.allocate(4), EU);
        assertEquals(2, router.droppedDatagrams());
        assertThrows(IllegalArgumentException.class, () -> us.register(DatagramKind.STUN, (d, s) -> { }));
    }
}
