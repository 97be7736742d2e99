package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.transport.TransportException;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sockets, links and routing of the virtual network, packet by packet. */
class VirtualNetworkTest {

    private final DiscreteEventScheduler scheduler = new DiscreteEventScheduler(7);
    private final VirtualNetwork network = new VirtualNetwork(scheduler);

    private ProbeSocket open(Host host, int port) {
        return ProbeSocket.open(host, port, scheduler);
    }

    @Test
    void aDatagramArrivesAfterTheLatencyOfEveryLinkOnItsPath() {
        ProbeSocket a = open(network.addPublicHost("a", "203.0.113.1"), 1000);
        ProbeSocket b = open(network.addPublicHost("b", "203.0.113.2"), 2000);
        a.send("hello", b.address());
        // Two internet access links of 5 ms each.
        scheduler.advance(Duration.ofNanos(Duration.ofMillis(10).toNanos() - 1));
        assertEquals(List.of(), b.texts());
        scheduler.advance(Duration.ofNanos(1));
        assertEquals(List.of("hello"), b.texts());
        assertEquals(a.address(), b.lastSender());
        assertEquals(Duration.ofMillis(10).toNanos(), b.received().get(0).atNanos());
        assertEquals(1, network.counters().delivered());
    }

    @Test
    void packetsBetweenRegionsTakeTheRegionsLatencyMoreEachWay() {
        ProbeSocket eu = open(network.addPublicHost("eu", "203.0.113.1"), 1000);
        ProbeSocket us = open(network.addPublicHost("us", "203.0.113.2"), 2000);
        Site home = network.addNatSite("home", NatPreset.FULL_CONE.homeBehavior(), network.internet());
        ProbeSocket laptop = open(home.addHost("laptop"), 3000);
        network.placeInRegion(network.host("eu"), "eu");
        network.placeInRegion(network.host("us"), "us");
        network.placeInRegion(home, "eu");
        network.setRegionLatency("eu", "us", Duration.ofMillis(40));

        eu.send("across", us.address());
        scheduler.advance(Duration.ofNanos(Duration.ofMillis(50).toNanos() - 1));
        assertEquals(List.of(), us.texts(), "two 5 ms links and 40 ms between regions");
        scheduler.advance(Duration.ofNanos(1));
        assertEquals(List.of("across"), us.texts());

        laptop.send("near", eu.address());
        laptop.send("far", us.address());
        scheduler.advance(Duration.ofMillis(16));
        assertEquals(List.of("near"), eu.texts(), "a site's region is its NAT's public address's");
        scheduler.advance(Duration.ofMillis(40));
        assertEquals(List.of("across", "far"), us.texts());
        assertEquals(Duration.ZERO, network.regionDelay(eu.address().getAddress(), eu.address().getAddress()),
                "within a region: nothing more");
    }

    @Test
    void sendCopiesTheDatagramAndTheHandlersBufferDiesWithTheCall() {
        ProbeSocket a = open(network.addPublicHost("a"), 1000);
        Host bHost = network.addPublicHost("b");
        VirtualTransport b = bHost.bind(2000);
        List<ByteBuffer> kept = new ArrayList<>();
        List<byte[]> copied = new ArrayList<>();
        b.register(DatagramKind.PROBE, (datagram, sender) -> {
            kept.add(datagram);
            byte[] copy = new byte[datagram.remaining()];
            datagram.duplicate().get(copy);
            copied.add(copy);
        });
        byte[] original = ProbeSocket.datagram("payload");
        byte[] outgoing = original.clone();
        a.transport().send(ByteBuffer.wrap(outgoing), b.localAddress());
        outgoing[9] = 'X';
        scheduler.advance(Duration.ofSeconds(1));
        assertArrayEquals(original, copied.get(0));
        ByteBuffer stale = kept.get(0);
        while (stale.hasRemaining()) {
            assertEquals(0, stale.get());
        }
    }

    @Test
    void datagramsWithoutAHandlerOrOfUnknownShapeAreDroppedAndCounted() {
        ProbeSocket a = open(network.addPublicHost("a"), 1000);
        ProbeSocket b = open(network.addPublicHost("b"), 2000);
        byte[] wireGuardShape = {1, 0, 0, 0, 9, 9, 9, 9};
        a.transport().send(ByteBuffer.wrap(wireGuardShape), b.address());
        a.transport().send(ByteBuffer.wrap(new byte[] {(byte) 0xEE, 1, 2}), b.address());
        a.send("probe", b.address());
        b.transport().register(DatagramKind.STUN, (datagram, sender) -> {
            throw new IllegalStateException("a handler bug");
        });
        a.transport().send(ByteBuffer.wrap(stunShape()), b.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("probe"), b.texts());
        assertEquals(3, b.transport().droppedDatagrams());
        assertEquals(3, network.counters().droppedNoSocket());
        b.transport().unregister(DatagramKind.PROBE);
        a.send("unheard", b.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("probe"), b.texts());
        assertEquals(4, b.transport().droppedDatagrams());
    }

    private static byte[] stunShape() {
        ByteBuffer stun = ByteBuffer.allocate(20);
        stun.putShort((short) 1).putShort((short) 0).putInt(DatagramKind.STUN_MAGIC_COOKIE);
        return stun.array();
    }

    @Test
    void portZeroPicksAFreeEphemeralPortAndTakenPortsAreRefused() {
        Host host = network.addPublicHost("a");
        VirtualTransport first = host.bind(0);
        int port = first.localAddress().getPort();
        assertTrue(port >= 32768 && port <= 60999, "ephemeral port " + port);
        assertThrows(TransportException.class, () -> host.bind(port));
        first.close();
        host.bind(port).close();
    }

    @Test
    void closedSocketsNeitherSendNorReceive() {
        ProbeSocket a = open(network.addPublicHost("a"), 1000);
        ProbeSocket b = open(network.addPublicHost("b"), 2000);
        b.transport().close();
        a.send("to a closed port", b.address());
        b.send("from a closed socket", a.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), a.texts());
        assertEquals(1, network.counters().droppedNoSocket());
        assertEquals(1, b.transport().droppedDatagrams());
    }

    @Test
    void lossIsDrawnFromTheSeedAtRoughlyTheConfiguredRate() {
        ProbeSocket a = open(network.addPublicHost("a"), 1000);
        ProbeSocket b = open(network.addPublicHost("b"), 2000);
        a.transport().host().link().setProfile(VirtualNetwork.DEFAULT_WAN_LINK.withLoss(0.1));
        for (int i = 0; i < 2000; i++) {
            a.send("n" + i, b.address());
        }
        scheduler.advance(Duration.ofSeconds(1));
        long lost = a.transport().host().link().lost();
        assertTrue(lost > 140 && lost < 260, "lost " + lost + " of 2000 at 10%");
        assertEquals(2000 - lost, b.texts().size());
        assertEquals(lost, network.counters().droppedOnLinks());
    }

    @Test
    void jitterSpreadsArrivalsWithinItsBoundAndMayReorder() {
        ProbeSocket a = open(network.addPublicHost("a"), 1000);
        ProbeSocket b = open(network.addPublicHost("b"), 2000);
        a.transport().host().link().setProfile(LinkProfile.of(Duration.ofMillis(10)).withJitter(Duration.ofMillis(20)));
        for (int i = 0; i < 200; i++) {
            a.send(String.valueOf(i), b.address());
        }
        scheduler.advance(Duration.ofSeconds(1));
        long min = Duration.ofMillis(15).toNanos();
        long max = Duration.ofMillis(35).toNanos();
        assertTrue(b.received().stream().allMatch(r -> r.atNanos() >= min && r.atNanos() <= max));
        List<String> inOrder = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            inOrder.add(String.valueOf(i));
        }
        assertEquals(200, b.texts().size());
        assertNotEquals(inOrder, b.texts(), "20 ms of jitter on 200 back-to-back packets reorders some");
    }

    @Test
    void aLinkThatIsDownDropsWhatEntersItUntilItComesBack() {
        ProbeSocket a = open(network.addPublicHost("a"), 1000);
        ProbeSocket b = open(network.addPublicHost("b"), 2000);
        Link link = b.transport().host().link();
        link.down();
        a.send("lost", b.address());
        scheduler.advance(Duration.ofSeconds(1));
        link.up();
        a.send("through", b.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("through"), b.texts());
        assertEquals(1, link.droppedWhileDown());
    }

    @Test
    void hostsOnOneLanReachEachOtherByPrivateAddressWithoutTheNat() {
        Site lan = NatPreset.SAME_LAN.build(network, "home");
        ProbeSocket a = open(lan.addHost("a"), 41641);
        ProbeSocket b = open(lan.addHost("b"), 41641);
        a.send("over the LAN", b.address());
        scheduler.advance(Duration.ofMillis(1));
        assertEquals(List.of("over the LAN"), b.texts());
        assertEquals(a.address(), b.lastSender());
        assertEquals(0, lan.requireNat().counters().translatedOutbound());
    }

    @Test
    void privateAddressesOfAnotherSiteAreUnreachable() {
        Site one = network.addNatSite("one", NatPreset.FULL_CONE.homeBehavior(), network.internet());
        Site two = network.addNatSite("two", NatPreset.FULL_CONE.homeBehavior(), network.internet());
        ProbeSocket a = open(one.addHost("a"), 5000);
        ProbeSocket b = open(two.addHost("b"), 5000);
        a.send("to a private address elsewhere", b.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), b.texts());
        assertEquals(1, network.counters().droppedNoRoute());
    }

    @Test
    void overlappingPrivateSubnetsStaySeparate() {
        Site one = network.addNatSite("one", NatPreset.FULL_CONE.homeBehavior(), network.internet(), "192.168.1.0/24");
        Site two = network.addNatSite("two", NatPreset.FULL_CONE.homeBehavior(), network.internet(), "192.168.1.0/24");
        ProbeSocket a = open(one.addHost("a"), 5000);
        ProbeSocket twin = open(two.addHost("twin"), 5000);
        ProbeSocket neighbour = open(one.addHost("neighbour"), 5000);
        assertEquals(a.address(), twin.address());
        a.send("to my own LAN", neighbour.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("to my own LAN"), neighbour.texts());
        assertEquals(List.of(), twin.texts());
    }

    @Test
    void aMovedHostKeepsItsSocketWithANewAddressBehindTheNewNat() {
        ProbeSocket server = open(network.addPublicHost("server", "203.0.113.9"), 3478);
        Site home = network.addNatSite("home", NatPreset.PORT_RESTRICTED_CONE.homeBehavior(), network.internet());
        Site cafe = network.addNatSite("cafe", NatPreset.SYMMETRIC_RANDOM.homeBehavior(), network.internet());
        Host laptop = home.addHost("laptop");
        ProbeSocket socket = open(laptop, 41641);
        socket.send("from home", server.address());
        scheduler.advance(Duration.ofSeconds(1));
        InetSocketAddress atHome = server.lastSender();
        assertEquals(home.requireNat().publicIp(), atHome.getAddress());

        InetSocketAddress before = socket.address();
        laptop.moveTo(cafe);
        assertEquals(cafe, laptop.site());
        assertNotEquals(before.getAddress(), socket.address().getAddress());
        assertEquals(before.getPort(), socket.address().getPort());
        socket.send("from the cafe", server.address());
        scheduler.advance(Duration.ofSeconds(1));
        InetSocketAddress atCafe = server.lastSender();
        assertEquals(cafe.requireNat().publicIp(), atCafe.getAddress());

        server.send("to the cafe", atCafe);
        server.send("to the old home mapping", atHome);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("to the cafe"), socket.texts());
        assertEquals(1, network.counters().droppedNoRoute());
        assertEquals(List.of(), home.hosts());
    }

    @Test
    void hostsWithAddressBoundSocketsDoNotMove() {
        Host server = network.addPublicHost("server", "203.0.113.9", "203.0.113.10");
        Site home = network.addNatSite("home", NatPreset.FULL_CONE.homeBehavior(), network.internet());
        assertThrows(IllegalStateException.class, () -> server.moveTo(home));
    }

    @Test
    void unusableNatConfigurationsAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> NatBehavior.of(MappingBehavior.UNKNOWN, FilteringBehavior.ENDPOINT_INDEPENDENT));
        assertThrows(IllegalArgumentException.class,
                () -> NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.UNKNOWN));
        assertThrows(IllegalArgumentException.class, () -> network.addNatSite("internet",
                NatPreset.FULL_CONE.homeBehavior(), network.internet()));
    }
}
