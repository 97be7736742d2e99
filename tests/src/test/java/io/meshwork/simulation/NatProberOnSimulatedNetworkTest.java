package io.meshwork.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.netcheck.NatProber;
import io.meshwork.node.netcheck.NetcheckResult;
import io.meshwork.protocol.nat.ClassicNatType;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.nat.NatReport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The node's real {@link NatProber} on a {@link VirtualTransport}, its timers on virtual time, against an RFC
 * 5780 STUN server and a plain one: every preset and every mapping × filtering pair must be classified as
 * what the simulated NAT actually does, also when the servers come in an order that could fool the prober.
 */
class NatProberOnSimulatedNetworkTest {

    private static final int NODE_PORT = 41641;
    private static final Duration PROBE_BUDGET = NatProber.DEFAULT_TIMEOUT;

    private final DiscreteEventScheduler scheduler = new DiscreteEventScheduler(11);
    private final VirtualNetwork network = new VirtualNetwork(scheduler);
    private final SimStunServer rfc5780 = SimStunServer.rfc5780(network, "stun-a", "203.0.113.10", "203.0.113.11",
            SimStunServer.DEFAULT_PORT);
    private final SimStunServer plain = SimStunServer.single(network, "stun-b", "198.51.100.20",
            SimStunServer.DEFAULT_PORT);

    private NatReport probeFrom(Site site) {
        return probeFrom(site, List.of(rfc5780.primary(), plain.primary()));
    }

    private NatReport probeFrom(Site site, List<InetSocketAddress> servers) {
        return probeFrom(site, servers, NODE_PORT);
    }

    private NatReport probeFrom(Site site, List<InetSocketAddress> servers, int port) {
        VirtualTransport transport = site.addHost("node").bind(port);
        try (NatProber prober = new NatProber(transport, new VirtualTimeExecutor(scheduler))) {
            CompletableFuture<NetcheckResult> result = prober.probe(servers, PROBE_BUDGET);
            assertTrue(scheduler.runUntil(result::isDone, PROBE_BUDGET.plusSeconds(1)),
                    "the probe ends within its budget of virtual time");
            assertTrue(scheduler.now().compareTo(PROBE_BUDGET) <= 0, "took " + scheduler.now());
            return result.join().report();
        }
    }

    /** The public IP the internet sees for hosts of {@code site}: its outermost NAT's. */
    private static InetAddress outermostPublicIp(Site site) {
        Site outermost = site;
        while (outermost.parent().filter(parent -> !parent.isInternet()).isPresent()) {
            outermost = outermost.parent().orElseThrow();
        }
        return outermost.requireNat().publicIp();
    }

    @ParameterizedTest
    @EnumSource(NatPreset.class)
    void everyPresetIsClassifiedAsWhatItIs(NatPreset preset) {
        Site site = preset.build(network, "site");
        // A port-mapped gateway is a full cone for the mapped port only: the node probes from there.
        NatReport report = preset == NatPreset.PORT_MAPPED
                ? probeFrom(site, List.of(rfc5780.primary(), plain.primary()), NatPreset.MAPPED_PORT)
                : probeFrom(site);
        if (preset == NatPreset.UDP_BLOCKED) {
            assertFalse(report.udpReachable());
            assertEquals(ClassicNatType.BLOCKED, report.classic());
            return;
        }
        assertTrue(report.udpReachable());
        InetAddress publicIp = preset == NatPreset.NO_NAT ? network.host("node").address() : outermostPublicIp(site);
        assertTrue(report.publicEndpoints().stream().allMatch(endpoint -> endpoint.getAddress().equals(publicIp)),
                report.publicEndpoints() + " all at " + publicIp);
        ClassicNatType expectedClassic = switch (preset) {
            case NO_NAT -> ClassicNatType.OPEN;
            case FULL_CONE -> ClassicNatType.FULL_CONE;
            case RESTRICTED_CONE -> ClassicNatType.RESTRICTED_CONE;
            case PORT_RESTRICTED_CONE, CARRIER_GRADE_DOUBLE_NAT, SAME_LAN, INPUT_ACCEPTING ->
                    ClassicNatType.PORT_RESTRICTED_CONE;
            case PORT_MAPPED -> ClassicNatType.FULL_CONE;
            case SYMMETRIC_RANDOM, SYMMETRIC_SEQUENTIAL, DUAL_STACK -> ClassicNatType.SYMMETRIC;
            case UDP_BLOCKED -> throw new AssertionError("handled above");
        };
        assertEquals(expectedClassic, report.classic());
        assertEquals(preset == NatPreset.NO_NAT, report.noNat());
        boolean symmetric = expectedClassic == ClassicNatType.SYMMETRIC;
        assertEquals(symmetric ? MappingBehavior.ADDRESS_AND_PORT_DEPENDENT : MappingBehavior.ENDPOINT_INDEPENDENT,
                report.mapping());
        // Home routers keep the node's port; symmetric NATs and the carrier's random allocation do not.
        boolean keepsPort = !symmetric && preset != NatPreset.CARRIER_GRADE_DOUBLE_NAT;
        assertEquals(Optional.of(keepsPort), report.portPreserving());
        // Of the presets, the full cone router and the carrier-grade NAT hairpin (the home NAT in front of the
        // latter lets the looped packet back in, since the node sent to that very endpoint); with no NAT the
        // packet to our own address simply arrives.
        boolean hairpin = preset == NatPreset.NO_NAT || preset == NatPreset.FULL_CONE
                || preset == NatPreset.CARRIER_GRADE_DOUBLE_NAT;
        assertEquals(Optional.of(hairpin), report.hairpin());
    }

    static Stream<Arguments> mappingsAndFilterings() {
        List<Arguments> all = new ArrayList<>();
        for (MappingBehavior mapping : List.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                MappingBehavior.ADDRESS_DEPENDENT, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT)) {
            for (FilteringBehavior filtering : List.of(FilteringBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ADDRESS_DEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT)) {
                for (PortAllocation allocation : PortAllocation.values()) {
                    all.add(Arguments.of(mapping, filtering, allocation));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} mapping, {1} filtering, {2} ports")
    @MethodSource("mappingsAndFilterings")
    void everyMappingAndFilteringIsMeasuredAsConfigured(MappingBehavior mapping, FilteringBehavior filtering,
            PortAllocation allocation) {
        Site site = network.addNatSite("home", NatBehavior.of(mapping, filtering).withPortAllocation(allocation),
                network.internet());
        NatReport report = probeFrom(site);
        assertEquals(mapping, report.mapping());
        assertEquals(filtering, report.filtering());
        assertEquals(Optional.of(false), report.hairpin());
        assertEquals(Optional.of(allocation == PortAllocation.PRESERVING
                && mapping == MappingBehavior.ENDPOINT_INDEPENDENT), report.portPreserving());
    }

    @Test
    void bothAddressesOfOneServerGivenAsServersStillMeasureAddressDependentFiltering() {
        // Test I to the second address first would open the filter for that IP and fake endpoint-independent
        // filtering; the prober must run the filtering tests before contacting it.
        Site site = network.addNatSite("home", NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_DEPENDENT), network.internet());
        NatReport report = probeFrom(site, List.of(rfc5780.primary(),
                new InetSocketAddress(rfc5780.alternateIp().orElseThrow(), SimStunServer.DEFAULT_PORT)));
        assertEquals(FilteringBehavior.ADDRESS_DEPENDENT, report.filtering());
        assertEquals(ClassicNatType.RESTRICTED_CONE, report.classic());
    }

    @Test
    void plainServerFirstThenRfc5780ServerStillMeasuresFiltering() {
        Site site = network.addNatSite("home", NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT), network.internet());
        NatReport report = probeFrom(site, List.of(plain.primary(), rfc5780.primary()));
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
        assertEquals(FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, report.filtering());
        assertEquals(ClassicNatType.PORT_RESTRICTED_CONE, report.classic());
    }

    /**
     * A netcheck across a conntrack collision at a gateway that accepts input (docs/architecture.md, "Paths"): test
     * I's flow is older than the collision and keeps the node's port; test II and III are new flows and, as Linux's
     * by-source table hands out, leave from the displaced port. The mapping is still one per socket: classified
     * endpoint-independent, with both ports among the public endpoints.
     */
    @Test
    void aNetcheckAcrossAConntrackCollisionStaysEndpointIndependent() {
        Site site = NatPreset.INPUT_ACCEPTING.build(network, "dock");
        VirtualTransport node = site.addHost("node").bind(NODE_PORT);
        VirtualTransport peer = network.addPublicHost("peer", "198.51.100.77").bind(51820);
        InetSocketAddress mapped = new InetSocketAddress(site.requireNat().publicIp(), NODE_PORT);
        node.send(java.nio.ByteBuffer.wrap(new byte[] {1}), rfc5780.primary());
        scheduler.advance(Duration.ofMillis(200));
        // The peer's probe reaches the gateway first; the node's own packet to the peer then collides.
        peer.send(java.nio.ByteBuffer.wrap(new byte[] {2}), mapped);
        scheduler.advance(Duration.ofMillis(200));
        node.send(java.nio.ByteBuffer.wrap(new byte[] {3}), peer.localAddress());
        scheduler.advance(Duration.ofMillis(200));
        assertEquals(1, site.requireNat().conntrackCollisions());

        try (NatProber prober = new NatProber(node, new VirtualTimeExecutor(scheduler))) {
            CompletableFuture<NetcheckResult> result = prober.probe(List.of(rfc5780.primary()), PROBE_BUDGET);
            assertTrue(scheduler.runUntil(result::isDone, PROBE_BUDGET.plusSeconds(1)));
            NatReport report = result.join().report();
            assertEquals(2, report.publicEndpoints().size(), "the node's port and the displaced one: " + report);
            assertTrue(report.publicEndpoints().contains(mapped), report.toString());
            assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping(), report.toString());
            assertEquals(ClassicNatType.PORT_RESTRICTED_CONE, report.classic());
        }
    }
}
