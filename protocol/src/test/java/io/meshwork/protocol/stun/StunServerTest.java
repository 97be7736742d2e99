package io.meshwork.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server on real loopback sockets: 127.0.0.1 and 127.0.0.2 both live on lo, so RFC 5780 mode works. */
class StunServerTest {

    private StunServer server;
    private DatagramChannel client;
    private Selector selector;

    @BeforeEach
    void start() throws Exception {
        server = StunServer.startOnFreePort(InetAddress.getByName("127.0.0.1"),
                Optional.of(InetAddress.getByName("127.0.0.2")), "meshwork test");
        client = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        client.configureBlocking(false);
        selector = Selector.open();
        client.register(selector, SelectionKey.OP_READ);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        selector.close();
        client.close();
    }

    /** Sends and waits up to two seconds for one datagram; returns its source, or null on timeout. */
    private InetSocketAddress exchange(byte[] request, InetSocketAddress to, ByteBuffer answer) throws Exception {
        client.send(ByteBuffer.wrap(request), to);
        answer.clear();
        if (selector.select(2_000) == 0) {
            return null;
        }
        selector.selectedKeys().clear();
        InetSocketAddress source = (InetSocketAddress) client.receive(answer);
        answer.flip();
        return source;
    }

    @Test
    void answersFromTheSocketTheChangeRequestAsksFor() throws Exception {
        StunServerAddresses addresses = server.addresses();
        InetSocketAddress primary = addresses.primary();
        ByteBuffer answer = ByteBuffer.allocate(1500);
        boolean[][] changes = {{false, false}, {true, false}, {false, true}, {true, true}};
        for (boolean[] change : changes) {
            StunMessage request = StunMessage.bindingRequest(TransactionId.random(),
                    new StunAttribute.ChangeRequest(change[0], change[1]));
            InetSocketAddress source = exchange(StunEncoder.encode(request, null, true), primary, answer);
            InetSocketAddress expected = addresses.changed(primary, change[0], change[1]).orElseThrow();
            assertEquals(expected, source);
            StunMessage response = StunDecoder.decode(answer);
            assertEquals(request.transactionId(), response.transactionId());
            assertEquals(Optional.of(client.getLocalAddress()), response.mappedAddress().map(a -> (Object) a));
            assertEquals(Optional.of(expected), response.responseOrigin());
            assertEquals(addresses.changed(expected, true, true), response.otherAddress());
        }
        assertEquals(4, answeredSoon(4));
    }

    /** The server counts an answer after sending it, so the client can see the answer a moment before the count. */
    private long answeredSoon(long expected) throws InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (server.answered() < expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return server.answered();
    }

    @Test
    void malformedDatagramsAreDroppedAndCounted() throws Exception {
        ByteBuffer answer = ByteBuffer.allocate(1500);
        assertNull(exchange(new byte[] {0, 1, 0, 0}, server.addresses().primary(), answer));
        assertEquals(1, server.dropped(StunResponder.DropReason.MALFORMED));
        // The server keeps serving after garbage.
        byte[] request = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random()));
        assertNotNull(exchange(request, server.addresses().primary(), answer));
        assertEquals(1, answeredSoon(1));
    }
}
