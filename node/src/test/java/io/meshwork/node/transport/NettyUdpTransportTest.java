package io.meshwork.node.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwork.protocol.demux.DatagramKind;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NettyUdpTransportTest {

    private static final InetSocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @Test
    void routesEachKindToItsHandlerAndCountsTheRest() throws Exception {
        try (NettyUdpTransport transport = NettyUdpTransport.bind(LOOPBACK);
                DatagramSocket peer = new DatagramSocket(LOOPBACK)) {
            BlockingQueue<String> seen = new ArrayBlockingQueue<>(10);
            transport.register(DatagramKind.WIREGUARD, (datagram, sender) -> seen.add("wg:" + datagram.remaining()));
            transport.register(DatagramKind.PROBE, (datagram, sender) -> seen.add("probe:" + sender.getPort()));

            byte[] wireGuard = new byte[32];
            wireGuard[0] = 4;
            byte[] probe = new byte[12];
            System.arraycopy(DatagramKind.PROBE_MAGIC, 0, probe, 0, DatagramKind.PROBE_MAGIC.length);
            byte[] junk = {9, 9, 9};
            for (byte[] payload : new byte[][] {junk, wireGuard, probe}) {
                peer.send(new DatagramPacket(payload, payload.length, transport.localAddress()));
            }
            assertEquals("wg:32", seen.poll(5, TimeUnit.SECONDS));
            assertEquals("probe:" + peer.getLocalPort(), seen.poll(5, TimeUnit.SECONDS));
            assertEquals(1, transport.droppedDatagrams());
        }
    }

    @Test
    void sendsToAPeer() throws Exception {
        try (NettyUdpTransport transport = NettyUdpTransport.bind(LOOPBACK);
                DatagramSocket peer = new DatagramSocket(LOOPBACK)) {
            peer.setSoTimeout(5000);
            transport.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), (InetSocketAddress) peer.getLocalSocketAddress());
            DatagramPacket received = new DatagramPacket(new byte[16], 16);
            peer.receive(received);
            assertEquals(3, received.getLength());
            assertEquals(transport.localAddress().getPort(), received.getPort());
        }
    }

    /**
     * A segmented send (UDP GSO where the kernel has it) from one transport, received by another (UDP GRO where
     * the kernel has it): the receiver sees each datagram whole, in order, and a batch end after them; a plain
     * socket sees the same datagrams one by one.
     */
    @Test
    void segmentedSendsArriveAsSeparateDatagramsInOrder() throws Exception {
        try (NettyUdpTransport sender = NettyUdpTransport.bind(LOOPBACK);
                NettyUdpTransport receiver = NettyUdpTransport.bind(LOOPBACK);
                DatagramSocket plain = new DatagramSocket(LOOPBACK)) {
            BlockingQueue<byte[]> seen = new ArrayBlockingQueue<>(1000);
            java.util.concurrent.atomic.AtomicInteger batchEnds = new java.util.concurrent.atomic.AtomicInteger();
            receiver.register(DatagramKind.WIREGUARD, new PacketTransport.PacketHandler() {
                @Override
                public void onDatagram(ByteBuffer datagram, InetSocketAddress from) {
                    byte[] copy = new byte[datagram.remaining()];
                    datagram.duplicate().get(copy);
                    seen.add(copy);
                }

                @Override
                public void onBatchEnd() {
                    batchEnds.incrementAndGet();
                }
            });
            java.util.Random random = new java.util.Random(4);
            for (int[] shape : new int[][] {{1452, 40, 1000}, {100, 64, 33}, {1200, 7, 1200}, {48, 1, 48}}) {
                int size = shape[0];
                int count = shape[1];
                int last = shape[2];
                ByteBuffer datagrams = ByteBuffer.allocate(size * (count - 1) + last);
                for (int i = 0; i < count; i++) {
                    byte[] datagram = new byte[i == count - 1 ? last : size];
                    random.nextBytes(datagram);
                    // A WireGuard transport message as far as the demultiplexer can tell: type 4, little-endian.
                    datagram[0] = 4;
                    datagram[1] = 0;
                    datagram[2] = 0;
                    datagram[3] = 0;
                    datagrams.put(datagram);
                }
                datagrams.flip();
                sender.sendLaterSegments(datagrams.duplicate(), size, receiver.localAddress());
                sender.flush();
                sender.sendLaterSegments(datagrams.duplicate(), size, (InetSocketAddress) plain.getLocalSocketAddress());
                sender.flush();
                plain.setSoTimeout(5000);
                for (int i = 0; i < count; i++) {
                    byte[] expected = new byte[i == count - 1 ? last : size];
                    datagrams.get(i * size, expected);
                    byte[] got = seen.poll(5, TimeUnit.SECONDS);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected, got, "datagram " + i + " of " + size);
                    DatagramPacket received = new DatagramPacket(new byte[2048], 2048);
                    plain.receive(received);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected,
                            java.util.Arrays.copyOf(received.getData(), received.getLength()));
                }
            }
            org.junit.jupiter.api.Assertions.assertTrue(batchEnds.get() > 0);
        }
    }

    @Test
    void sendsWithALimitedTtlFromTheSameSocketAndTheNextSendsAreOrdinary() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(),
                "TTL-limited sends need the epoll transport (Linux)");
        try (NettyUdpTransport transport = NettyUdpTransport.bind(LOOPBACK);
                DatagramSocket peer = new DatagramSocket(LOOPBACK)) {
            peer.setSoTimeout(5000);
            InetSocketAddress to = (InetSocketAddress) peer.getLocalSocketAddress();
            // Loopback does not route, so even TTL 1 arrives: this checks the send path, the lab checks the hops.
            assertEquals(true, transport.sendWithTtl(ByteBuffer.wrap(new byte[] {7}), to, 1));
            transport.send(ByteBuffer.wrap(new byte[] {8, 8}), to);
            DatagramPacket received = new DatagramPacket(new byte[16], 16);
            peer.receive(received);
            assertEquals(1, received.getLength());
            assertEquals(transport.localAddress().getPort(), received.getPort());
            peer.receive(received);
            assertEquals(2, received.getLength());
            assertEquals(false, transport.sendWithTtl(ByteBuffer.wrap(new byte[] {7}), to, 0), "TTL 0 is refused");
            assertEquals(false, transport.sendWithTtl(ByteBuffer.wrap(new byte[] {7}),
                    new InetSocketAddress(InetAddress.getByName("::1"), to.getPort()), 2), "IPv4 only");
        }
    }

    @Test
    void bindingATakenPortFailsWithAClearError() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(LOOPBACK)) {
            TransportException error = assertThrows(TransportException.class,
                    () -> NettyUdpTransport.bind((InetSocketAddress) taken.getLocalSocketAddress()));
            assertEquals(true, error.getMessage().startsWith("cannot bind UDP socket"));
        }
    }

    @Test
    void fallsBackToIpv4WhenTheIpv6WildcardCannotBeBound() {
        java.util.List<InetSocketAddress> tried = new java.util.ArrayList<>();
        InetSocketAddress bound = NettyUdpTransport.bindAnyAddress(51999, address -> {
            tried.add(address);
            if (address.getAddress() instanceof java.net.Inet6Address) {
                throw new TransportException("cannot bind UDP socket to " + address + ": Address family not supported",
                        null);
            }
            return address;
        });
        assertEquals("0.0.0.0", bound.getAddress().getHostAddress());
        assertEquals(51999, bound.getPort());
        assertEquals(java.util.List.of("::", "0.0.0.0"), tried.stream()
                .map(address -> io.meshwork.protocol.net.IpLiteral.format(address.getAddress())).toList());
    }

    @Test
    void aPortTakenOnBothFamiliesFailsWithTheDualStackBindsReason() {
        TransportException failure = assertThrows(TransportException.class,
                () -> NettyUdpTransport.bindAnyAddress(0, address -> {
                    throw new TransportException("cannot bind UDP socket to " + address, null);
                }));
        assertEquals("cannot bind UDP socket to "
                + new InetSocketAddress(io.meshwork.protocol.net.IpLiteral.parse("::"), 0), failure.getMessage());
        assertEquals(1, failure.getSuppressed().length, "the IPv4 attempt's failure rides along");
    }

    @Test
    void aPortInUseIsReportedAsSuch() throws Exception {
        try (NettyUdpTransport first = NettyUdpTransport.bindAnyAddress(0)) {
            TransportException failure = assertThrows(TransportException.class,
                    () -> NettyUdpTransport.bindAnyAddress(first.localAddress().getPort()));
            org.junit.jupiter.api.Assertions.assertTrue(failure.getMessage().contains("in use"), failure.getMessage());
        }
    }

    @Test
    void theWildcardSocketIsDualStackAndCarriesIpv4AndIpv6() throws Exception {
        InetAddress ipv6Loopback = InetAddress.getByName("::1");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(java.nio.file.Path.of(
                "/proc/net/if_inet6")) && java.net.NetworkInterface.getByInetAddress(ipv6Loopback) != null,
                "IPv6 is off on this host: the dual-stack socket falls back to IPv4 (tested above)");
        try (NettyUdpTransport transport = NettyUdpTransport.bindAnyAddress(0);
                DatagramSocket peer4 = new DatagramSocket(LOOPBACK);
                DatagramSocket peer6 = new DatagramSocket(new InetSocketAddress(ipv6Loopback, 0))) {
            org.junit.jupiter.api.Assertions.assertTrue(transport.dualStack(), transport.localAddress().toString());
            BlockingQueue<InetSocketAddress> senders = new ArrayBlockingQueue<>(10);
            transport.register(DatagramKind.WIREGUARD, (datagram, sender) -> senders.add(sender));
            byte[] wireGuard = new byte[32];
            wireGuard[0] = 4;
            int port = transport.localAddress().getPort();
            peer4.send(new DatagramPacket(wireGuard, wireGuard.length, InetAddress.getLoopbackAddress(), port));
            peer6.send(new DatagramPacket(wireGuard, wireGuard.length, ipv6Loopback, port));
            InetSocketAddress first = senders.poll(5, TimeUnit.SECONDS);
            InetSocketAddress second = senders.poll(5, TimeUnit.SECONDS);
            // IPv4 senders come as IPv4 addresses, not IPv4-mapped IPv6 ones: endpoints compare equal either way.
            assertEquals(java.util.Set.of(peer4.getLocalSocketAddress(), peer6.getLocalSocketAddress()),
                    java.util.Set.of(first, second));

            peer6.setSoTimeout(5000);
            transport.send(ByteBuffer.wrap(new byte[] {7}), (InetSocketAddress) peer6.getLocalSocketAddress());
            DatagramPacket received = new DatagramPacket(new byte[16], 16);
            peer6.receive(received);
            assertEquals(port, received.getPort());
        }
    }
}
