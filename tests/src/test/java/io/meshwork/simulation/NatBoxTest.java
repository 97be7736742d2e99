package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 4787 behaviour of {@link NatBox}, asserted by the packets that pass and the ones that are dropped: a
 * client behind the NAT and servers on two public IPs, one with two ports.
 */
class NatBoxTest {

    private static final int CLIENT_PORT = 5000;

    private final DiscreteEventScheduler scheduler = new DiscreteEventScheduler(3);
    private final VirtualNetwork network = new VirtualNetwork(scheduler);
    private final Host serverOne = network.addPublicHost("server-one", "203.0.113.1");
    private final ProbeSocket oneA = ProbeSocket.open(serverOne, 3478, scheduler);
    private final ProbeSocket oneB = ProbeSocket.open(serverOne, 3479, scheduler);
    private final ProbeSocket two = ProbeSocket.open(network.addPublicHost("server-two", "203.0.113.2"), 3478,
            scheduler);

    private Site site;
    private ProbeSocket client;

    private void behindNat(NatBehavior behavior) {
        site = network.addNatSite("home", behavior, network.internet());
        client = ProbeSocket.open(site.addHost("client"), CLIENT_PORT, scheduler);
    }

    private InetSocketAddress mappingTowards(ProbeSocket server) {
        client.send("out", server.address());
        scheduler.advance(Duration.ofSeconds(1));
        return server.lastSender();
    }

    private NatCounters counters() {
        return site.requireNat().counters();
    }

    @Test
    void aGatewayAcceptingInputKeepsTheUnsolicitedPacketAndTheInsideHostsPacketLeavesFromAnotherPort() {
        behindNat(NatPreset.INPUT_ACCEPTING.homeBehavior());
        InetSocketAddress mapped = mappingTowards(oneA);
        assertEquals(CLIENT_PORT, mapped.getPort());

        // Server two writes to the mapped port before the client ever wrote to it: delivered to the gateway.
        two.send("early", mapped);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), client.texts(), "not for the client");
        assertEquals(1, site.requireNat().deliveredToGateway());

        // The client's own first packet to server two collides with that entry and leaves from another port ...
        InetSocketAddress displaced = mappingTowards(two);
        assertNotEquals(CLIENT_PORT, displaced.getPort());
        assertEquals(1, site.requireNat().conntrackCollisions());
        // ... and, as Linux's by-source table has it, so does the socket's next new flow (to another server), while
        // the flow it had before keeps the mapping's port; server two's packets to that port still go nowhere.
        assertEquals(displaced.getPort(), mappingTowards(oneB).getPort());
        assertEquals(1, site.requireNat().conntrackCollisions(), "taking the by-source port is no collision");
        assertEquals(CLIENT_PORT, mappingTowards(oneA).getPort());
        two.send("again", mapped);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), client.texts());
        // Answers to the displaced port do reach the client.
        two.send("answer", displaced);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("answer"), client.texts());

        // Quiet for longer than Linux keeps an unreplied entry: the local entry is gone, and so is the displaced
        // flow once it saw no traffic for two minutes; a new packet to server two leaves from the mapping's port.
        scheduler.advance(Duration.ofSeconds(121));
        mappingTowards(oneA);
        assertEquals(CLIENT_PORT, mappingTowards(two).getPort());
    }

    @Test
    void newFlowsTakeThePortOfTheSocketsNewestLiveFlowAndFallBackToTheSocketsOwnPort() {
        behindNat(NatPreset.INPUT_ACCEPTING.homeBehavior());
        ProbeSocket three = ProbeSocket.open(network.addPublicHost("server-three", "203.0.113.3"), 3478, scheduler);
        ProbeSocket four = ProbeSocket.open(network.addPublicHost("server-four", "203.0.113.4"), 3478, scheduler);
        InetSocketAddress mapped = mappingTowards(oneA);
        two.send("early", mapped);
        scheduler.advance(Duration.ofSeconds(1));
        int displaced = mappingTowards(two).getPort();
        assertNotEquals(CLIENT_PORT, displaced);
        assertEquals(displaced, mappingTowards(oneB).getPort(), "the newest flow's port");

        // The flow to server two (the collision) expires; the newer one to oneB on the same port is kept alive, and as
        // the socket's newest flow it still gives new flows its port, while the older flow to oneA keeps the mapping's.
        for (int i = 0; i < 4; i++) {
            scheduler.advance(Duration.ofSeconds(9));
            mappingTowards(oneB);
            mappingTowards(oneA);
        }
        assertEquals(displaced, mappingTowards(three).getPort(), "the newest live flow is on the displaced port");

        // Where that port's reply tuple is taken (server four wrote to it first), the socket's own port is next: no
        // random port, no collision counted, and the socket's newest flow is on its own port again.
        long collisions = site.requireNat().conntrackCollisions();
        four.send("early", new InetSocketAddress(mapped.getAddress(), displaced));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(CLIENT_PORT, mappingTowards(four).getPort());
        assertEquals(collisions, site.requireNat().conntrackCollisions());
        ProbeSocket five = ProbeSocket.open(network.addPublicHost("server-five", "203.0.113.5"), 3478, scheduler);
        assertEquals(CLIENT_PORT, mappingTowards(five).getPort());
    }

    @Test
    void aPacketWithTtlTwoMakesTheMappingAndDiesAtTheProviderRouter() {
        behindNat(NatPreset.PORT_RESTRICTED_CONE.homeBehavior());
        VirtualTransport raw = site.addHost("raw").bind(CLIENT_PORT);
        raw.sendWithTtl(java.nio.ByteBuffer.wrap("limited".getBytes()), two.address(), 2);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), two.texts(), "never arrives");
        assertEquals(1, site.requireNat().mappings().size(), "but the NAT mapped it");
        raw.sendWithTtl(java.nio.ByteBuffer.wrap("one".getBytes()), two.address(), 1);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(1, site.requireNat().droppedTtlExceeded(), "TTL 1 dies at the NAT itself");
    }

    static Stream<Arguments> mappingsAndFilterings() {
        List<Arguments> all = new ArrayList<>();
        for (MappingBehavior mapping : List.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                MappingBehavior.ADDRESS_DEPENDENT, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT)) {
            for (FilteringBehavior filtering : List.of(FilteringBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ADDRESS_DEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT)) {
                all.add(Arguments.of(mapping, filtering));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} mapping, {1} filtering")
    @MethodSource("mappingsAndFilterings")
    void mappingAndFilteringBehaveAsConfigured(MappingBehavior mapping, FilteringBehavior filtering) {
        behindNat(NatBehavior.of(mapping, filtering));
        InetSocketAddress first = mappingTowards(oneA);
        assertEquals(site.requireNat().publicIp(), first.getAddress());
        assertEquals(CLIENT_PORT, first.getPort(), "port preservation for the first mapping");

        // RFC 4787 §5: who may answer through the mapping made towards server one, port A.
        oneA.send("from the endpoint contacted", first);
        oneB.send("from the same IP, another port", first);
        two.send("from another IP", first);
        scheduler.advance(Duration.ofSeconds(1));
        List<String> expected = new ArrayList<>(List.of("from the endpoint contacted"));
        if (filtering != FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT) {
            expected.add("from the same IP, another port");
        }
        if (filtering == FilteringBehavior.ENDPOINT_INDEPENDENT) {
            expected.add("from another IP");
        }
        assertEquals(expected, client.texts());
        assertEquals(3 - expected.size(), counters().droppedByFilter());
        assertEquals(expected.size(), counters().translatedInbound());

        // RFC 4787 §4.1: which destinations share the mapping.
        InetSocketAddress samePortOtherServerPort = mappingTowards(oneB);
        InetSocketAddress otherIp = mappingTowards(two);
        assertEquals(mapping == MappingBehavior.ADDRESS_AND_PORT_DEPENDENT,
                !samePortOtherServerPort.equals(first), "new mapping for another port of the same IP");
        assertEquals(mapping != MappingBehavior.ENDPOINT_INDEPENDENT, !otherIp.equals(first),
                "new mapping for another IP");
        int expectedMappings = switch (mapping) {
            case ENDPOINT_INDEPENDENT -> 1;
            case ADDRESS_DEPENDENT -> 2;
            default -> 3;
        };
        assertEquals(expectedMappings, site.requireNat().mappings().size());
        assertEquals(expectedMappings, counters().mappingsCreated());
    }

    @Test
    void unsolicitedPacketsToUnmappedPortsAreDroppedAndCounted() {
        behindNat(NatPreset.FULL_CONE.homeBehavior());
        oneA.send("knock", new InetSocketAddress(site.requireNat().publicIp(), 6000));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), client.texts());
        assertEquals(1, counters().droppedNoMapping());
    }

    @Test
    void portPreservationFallsBackWhenTwoHostsUseTheSamePort() {
        behindNat(NatPreset.PORT_RESTRICTED_CONE.homeBehavior());
        ProbeSocket sibling = ProbeSocket.open(site.addHost("sibling"), CLIENT_PORT, scheduler);
        assertEquals(CLIENT_PORT, mappingTowards(oneA).getPort());
        sibling.send("out", oneA.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertNotEquals(CLIENT_PORT, oneA.lastSender().getPort());
        assertEquals(site.requireNat().publicIp(), oneA.lastSender().getAddress());
    }

    @Test
    void sequentialAllocationCountsUpByOnePerMapping() {
        behindNat(NatPreset.SYMMETRIC_SEQUENTIAL.homeBehavior());
        int first = mappingTowards(oneA).getPort();
        int second = mappingTowards(oneB).getPort();
        int third = mappingTowards(two).getPort();
        assertEquals(1, step(first, second));
        assertEquals(1, step(second, third));
    }

    @Test
    void randomAllocationIsNotSequential() {
        behindNat(NatPreset.SYMMETRIC_RANDOM.homeBehavior());
        int first = mappingTowards(oneA).getPort();
        int second = mappingTowards(oneB).getPort();
        int third = mappingTowards(two).getPort();
        assertTrue(step(first, second) != 1 || step(second, third) != 1, first + ", " + second + ", " + third);
        assertTrue(Stream.of(first, second, third).allMatch(port -> port >= 1024 && port <= 65535));
        assertEquals(3, Stream.of(first, second, third).distinct().count());
    }

    /** Distance from one port to the next in the NAT's range, counting the wrap from 65535 to 1024. */
    private static int step(int from, int to) {
        return Math.floorMod(to - from, 65535 - 1024 + 1);
    }

    @ParameterizedTest(name = "hairpinning {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void hairpinningLoopsPacketsToOurOwnPublicAddressBackInside(boolean hairpinning) {
        behindNat(NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT)
                .withHairpinning(hairpinning));
        ProbeSocket sibling = ProbeSocket.open(site.addHost("sibling"), 6000, scheduler);
        InetSocketAddress clientPublic = mappingTowards(oneA);
        sibling.send("out", oneA.address());
        scheduler.advance(Duration.ofSeconds(1));
        InetSocketAddress siblingPublic = oneA.lastSender();

        sibling.send("via the NAT", clientPublic);
        scheduler.advance(Duration.ofSeconds(1));
        if (hairpinning) {
            assertEquals(List.of("via the NAT"), client.texts());
            // RFC 4787 §6 REQ-9: the source is the sender's public endpoint, not its private one.
            assertEquals(siblingPublic, client.lastSender());
            assertEquals(1, counters().hairpinned());
        } else {
            assertEquals(List.of(), client.texts());
            assertEquals(1, counters().droppedHairpinDisabled());
        }
    }

    @Test
    void hairpinnedPacketsStillPassTheFilter() {
        behindNat(NatPreset.PORT_RESTRICTED_CONE.homeBehavior().withHairpinning(true));
        ProbeSocket sibling = ProbeSocket.open(site.addHost("sibling"), 6000, scheduler);
        InetSocketAddress clientPublic = mappingTowards(oneA);
        sibling.send("uninvited", clientPublic);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), client.texts());
        assertEquals(1, counters().droppedByFilter());
    }

    @Test
    void mappingsExpireWithoutOutboundTrafficAndOutboundTrafficRefreshesThem() {
        behindNat(NatPreset.FULL_CONE.homeBehavior().withMappingTimeout(Duration.ofSeconds(30)));
        InetSocketAddress mapped = mappingTowards(oneA);
        scheduler.advance(Duration.ofSeconds(20));
        client.send("keepalive", oneA.address());
        scheduler.advance(Duration.ofSeconds(20));
        oneA.send("after 40 s with a refresh at 21 s", mapped);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("after 40 s with a refresh at 21 s"), client.texts());

        scheduler.advance(Duration.ofSeconds(30));
        oneA.send("after 30 s of silence", mapped);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(1, client.texts().size());
        assertEquals(1, counters().droppedNoMapping());
        assertEquals(1, counters().mappingsExpired());
        assertEquals(List.of(), site.requireNat().mappings());
    }

    @ParameterizedTest(name = "refresh on inbound {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void inboundTrafficRefreshesOnlyWhenConfigured(boolean refreshOnInbound) {
        behindNat(NatPreset.FULL_CONE.homeBehavior().withMappingTimeout(Duration.ofSeconds(30))
                .withRefreshOnInbound(refreshOnInbound));
        InetSocketAddress mapped = mappingTowards(oneA);
        for (int second = 10; second <= 50; second += 10) {
            oneA.send("at " + second, mapped);
            scheduler.advance(Duration.ofSeconds(10));
        }
        // The mapping was made at 0 s; without inbound refresh it died at 30 s (plus the link's few ms).
        assertEquals(refreshOnInbound ? 5 : 3, client.texts().size(), client.texts().toString());
    }

    @Test
    void flushingMappingsCutsExistingFlowsAndTheNextPacketGetsAFreshMapping() {
        behindNat(NatPreset.SYMMETRIC_RANDOM.homeBehavior());
        InetSocketAddress before = mappingTowards(oneA);
        site.requireNat().flushMappings();
        oneA.send("to the flushed mapping", before);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), client.texts());
        assertEquals(1, counters().droppedNoMapping());
        InetSocketAddress after = mappingTowards(oneA);
        assertNotEquals(before, after);
        oneA.send("to the new mapping", after);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("to the new mapping"), client.texts());
    }

    @Test
    void aBlockingNatDropsUdpBothWays() {
        behindNat(NatPreset.UDP_BLOCKED.homeBehavior());
        client.send("out", oneA.address());
        oneA.send("in", new InetSocketAddress(site.requireNat().publicIp(), CLIENT_PORT));
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), oneA.texts());
        assertEquals(List.of(), client.texts());
        assertEquals(2, counters().droppedBlocked());
        assertEquals(2, network.counters().droppedByNats());
    }

    @Test
    void chainedNatsTranslateTwiceEachWay() {
        site = NatPreset.CARRIER_GRADE_DOUBLE_NAT.build(network, "home");
        client = ProbeSocket.open(site.addHost("client"), CLIENT_PORT, scheduler);
        Site carrier = network.site("home-carrier");
        InetSocketAddress mapped = mappingTowards(oneA);
        assertEquals(carrier.requireNat().publicIp(), mapped.getAddress());
        assertTrue(site.requireNat().publicIp().getHostAddress().startsWith("100."), "RFC 6598 shared space");
        oneA.send("reply", mapped);
        two.send("stranger", mapped);
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(List.of("reply"), client.texts());
        // The carrier NAT filters nothing; the home NAT drops the stranger.
        assertEquals(2, carrier.requireNat().counters().translatedInbound());
        assertEquals(1, counters().translatedInbound());
        assertEquals(1, counters().droppedByFilter());
        assertEquals(Optional.of(carrier), site.parent());
    }

    @ParameterizedTest
    @EnumSource(NatPreset.class)
    void everyPresetGivesASiteWhoseHostsReachTheInternetUnlessUdpIsBlocked(NatPreset preset) {
        site = preset.build(network, "site");
        client = ProbeSocket.open(site.addHost("client"), CLIENT_PORT, scheduler);
        client.send("hello", oneA.address());
        scheduler.advance(Duration.ofSeconds(1));
        assertEquals(preset == NatPreset.UDP_BLOCKED ? 0 : 1, oneA.texts().size());
        if (preset != NatPreset.UDP_BLOCKED) {
            oneA.send("answer", oneA.lastSender());
            scheduler.advance(Duration.ofSeconds(1));
            assertEquals(List.of("answer"), client.texts());
        }
    }
}
