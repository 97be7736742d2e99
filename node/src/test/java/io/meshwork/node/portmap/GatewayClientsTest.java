package io.meshwork.node.portmap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.portmap.PortMapProtocol;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The PCP and NAT-PMP clients against a scripted gateway on loopback that answers every request with hostile
 * datagrams first (garbage, a reply for another nonce or port, oversized) and the real answer last: the client
 * must wait past the first, count them, and take the last.
 */
class GatewayClientsTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private ScriptedGateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void pcpTakesOnlyTheReplyWithItsNonce() throws Exception {
        gateway = new ScriptedGateway(request -> {
            byte[] nonce = java.util.Arrays.copyOfRange(request, 24, 36);
            byte[] other = nonce.clone();
            other[0] ^= 1;
            int lifetime = ByteBuffer.wrap(request, 4, 4).getInt();
            return List.of(new byte[] {1, 2, 3}, new byte[1500], pcpMapReply(other, 40000, lifetime),
                    pcpMapReply(nonce, 51820, lifetime));
        });
        DropCounter drops = new DropCounter();
        PcpClient client = new PcpClient(TIMEOUT, drops, Clock.systemUTC(), gateway.port());
        Lease lease = client.map(LOOPBACK, 51820, Duration.ofHours(2), null).orElseThrow();
        assertEquals(PortMapProtocol.PCP, lease.mapping().protocol());
        assertEquals(new InetSocketAddress("192.0.3.201", 51820), lease.mapping().external());
        assertEquals(Duration.ofHours(2), lease.lifetime());
        assertEquals(1, drops.count(DropCounter.Reason.NONCE_MISMATCH));
        assertEquals(2, drops.count(DropCounter.Reason.MALFORMED));

        // Renewal and deletion reuse the nonce (RFC 6887 §11.2.1, §15); deletion asks lifetime 0.
        Lease renewed = client.map(LOOPBACK, 51820, Duration.ofHours(2), lease).orElseThrow();
        assertArrayEquals(lease.nonce(), renewed.nonce());
        client.delete(renewed);
        byte[] delete = gateway.requests().get(gateway.requests().size() - 1);
        assertArrayEquals(lease.nonce(), java.util.Arrays.copyOfRange(delete, 24, 36));
        assertEquals(0, ByteBuffer.wrap(delete, 4, 4).getInt());
    }

    @Test
    void pcpRefusalIsNoMapping() throws Exception {
        gateway = new ScriptedGateway(request -> {
            byte[] reply = pcpMapReply(java.util.Arrays.copyOfRange(request, 24, 36), 51820, 0);
            reply[3] = 2;
            return List.of(reply);
        });
        PcpClient client = new PcpClient(TIMEOUT, new DropCounter(), Clock.systemUTC(), gateway.port());
        assertTrue(client.map(LOOPBACK, 51820, Duration.ofHours(2), null).isEmpty());
    }

    @Test
    void natPmpAsksTheAddressThenTheMapping() throws Exception {
        gateway = new ScriptedGateway(request -> request[1] == 0
                ? List.of(new byte[] {0, (byte) 0x81, 0, 0}, hex("008000000000003ac00003c9"))
                // a reply about another internal port answers another request
                : List.of(hex("008100000000003a9c409c4000001c20"), hex("008100000000003aca6cca6c00001c20")));
        DropCounter drops = new DropCounter();
        NatPmpClient client = new NatPmpClient(TIMEOUT, drops, Clock.systemUTC(), gateway.port());
        Lease lease = client.map(LOOPBACK, 51820, Duration.ofHours(2), null).orElseThrow();
        assertEquals(PortMapProtocol.NAT_PMP, lease.mapping().protocol());
        assertEquals(new InetSocketAddress("192.0.3.201", 51820), lease.mapping().external());
        assertEquals(Duration.ofSeconds(7200), lease.lifetime());
        assertNotNull(lease.epoch());
        assertEquals(1, drops.count(DropCounter.Reason.MALFORMED));
        assertTrue(client.stillValid(lease));
    }

    @Test
    void natPmpSeesAGatewayThatRestarted() throws Exception {
        List<String> epochs = new CopyOnWriteArrayList<>(List.of("00000e10", "00000e10", "00000002"));
        gateway = new ScriptedGateway(request -> {
            String epoch = epochs.size() > 1 ? epochs.remove(0) : epochs.get(0);
            return request[1] == 0 ? List.of(hex("00800000" + epoch + "c00003c9"))
                    : List.of(hex("00810000" + epoch + "ca6cca6c00001c20"));
        });
        NatPmpClient client = new NatPmpClient(TIMEOUT, new DropCounter(), Clock.systemUTC(), gateway.port());
        Lease lease = client.map(LOOPBACK, 51820, Duration.ofHours(2), null).orElseThrow();
        assertFalse(client.stillValid(lease));
    }

    @Test
    void silenceIsNoMapping() throws Exception {
        gateway = new ScriptedGateway(request -> List.of());
        PcpClient client = new PcpClient(Duration.ofMillis(200), new DropCounter(), Clock.systemUTC(), gateway.port());
        assertEquals(Optional.empty(), client.map(LOOPBACK, 51820, Duration.ofHours(2), null));
        // The request went twice: once, and again halfway through the timeout.
        assertEquals(2, gateway.requests().size());
    }

    private static byte[] pcpMapReply(byte[] nonce, int externalPort, int lifetime) {
        ByteBuffer reply = ByteBuffer.allocate(60);
        reply.put((byte) 2).put((byte) 0x81).put((byte) 0).put((byte) 0).putInt(lifetime).putInt(58).put(new byte[12]);
        reply.put(nonce).put((byte) 17).put(new byte[3]).putShort((short) 51820).putShort((short) externalPort);
        reply.put(hex("00000000000000000000ffffc00003c9"));
        return reply.array();
    }

    private static byte[] hex(String text) {
        return java.util.HexFormat.of().parseHex(text);
    }

    /** A UDP server on loopback answering each request with the datagrams its script gives. */
    private static final class ScriptedGateway implements AutoCloseable {
        private final DatagramSocket socket;
        private final List<byte[]> requests = new CopyOnWriteArrayList<>();
        private final Thread thread;

        ScriptedGateway(Function<byte[], List<byte[]>> script) throws Exception {
            socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
            thread = new Thread(() -> {
                byte[] buffer = new byte[2048];
                while (!socket.isClosed()) {
                    try {
                        DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                        socket.receive(in);
                        byte[] request = java.util.Arrays.copyOf(in.getData(), in.getLength());
                        requests.add(request);
                        for (byte[] reply : new ArrayList<>(script.apply(request))) {
                            socket.send(new DatagramPacket(reply, reply.length, in.getSocketAddress()));
                        }
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "scripted-gateway");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        List<byte[]> requests() {
            return requests;
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
