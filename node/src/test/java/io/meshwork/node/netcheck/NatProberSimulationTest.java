package io.meshwork.node.netcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.meshwork.protocol.nat.ClassicNatType;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.nat.NatReport;
import io.meshwork.protocol.stun.StunResponder;
import io.meshwork.protocol.stun.StunServerAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The prober's whole procedure against simulated NATs of every mapping × filtering kind. */
class NatProberSimulationTest {

    private static final InetSocketAddress LOCAL = new InetSocketAddress(ip("10.0.0.2"), 5000);
    private static final InetAddress PUBLIC_IP = ip("203.0.113.1");
    private static final StunResponder RFC5780_SERVER = new StunResponder(
            StunServerAddresses.rfc5780(ip("198.51.100.1"), ip("198.51.100.2"), 3478), "sim");
    private static final StunResponder PLAIN_SERVER = new StunResponder(
            StunServerAddresses.single(ip("192.0.2.7"), 3478), "sim");

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    private static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    private NatReport probe(MappingBehavior mapping, FilteringBehavior filtering, boolean hairpinning,
            List<InetSocketAddress> servers) throws Exception {
        SimulatedNatTransport transport = new SimulatedNatTransport(LOCAL, PUBLIC_IP, mapping, filtering,
                hairpinning, List.of(RFC5780_SERVER, PLAIN_SERVER));
        try (NatProber prober = new NatProber(transport, scheduler)) {
            return prober.probe(servers, Duration.ofMillis(400)).get(10, TimeUnit.SECONDS).report();
        }
    }

    static Stream<Arguments> natKinds() {
        List<MappingBehavior> mappings = List.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                MappingBehavior.ADDRESS_DEPENDENT, MappingBehavior.ADDRESS_AND_PORT_DEPENDENT);
        List<FilteringBehavior> filterings = List.of(FilteringBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_DEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
        List<Arguments> kinds = new ArrayList<>();
        for (MappingBehavior mapping : mappings) {
            for (FilteringBehavior filtering : filterings) {
                kinds.add(Arguments.of(mapping, filtering));
            }
        }
        return kinds.stream();
    }

    @ParameterizedTest(name = "{0} mapping, {1} filtering")
    @MethodSource("natKinds")
    void classifiesTheSimulatedNat(MappingBehavior mapping, FilteringBehavior filtering) throws Exception {
        NatReport report = probe(mapping, filtering, false,
                List.of(RFC5780_SERVER.addresses().primary(), PLAIN_SERVER.addresses().primary()));
        assertEquals(mapping, report.mapping());
        assertEquals(filtering, report.filtering());
        assertFalse(report.noNat());
        assertEquals(Optional.of(false), report.hairpin());
        assertEquals(Optional.of(false), report.portPreserving());
        ClassicNatType expected = mapping != MappingBehavior.ENDPOINT_INDEPENDENT ? ClassicNatType.SYMMETRIC
                : switch (filtering) {
                    case ENDPOINT_INDEPENDENT -> ClassicNatType.FULL_CONE;
                    case ADDRESS_DEPENDENT -> ClassicNatType.RESTRICTED_CONE;
                    default -> ClassicNatType.PORT_RESTRICTED_CONE;
                };
        assertEquals(expected, report.classic());
    }

    @Test
    void bothAddressesOfOneServerGivenAsServersStillMeasureAddressDependentFiltering() throws Exception {
        // Test I to the second address first would open the filter for that IP and fake endpoint-independent
        // filtering; the prober must run the filtering tests before contacting it.
        NatReport report = probe(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_DEPENDENT, false,
                List.of(RFC5780_SERVER.addresses().primary(), new InetSocketAddress(ip("198.51.100.2"), 3478)));
        assertEquals(FilteringBehavior.ADDRESS_DEPENDENT, report.filtering());
        assertEquals(ClassicNatType.RESTRICTED_CONE, report.classic());
    }

    @Test
    void hairpinningNatIsReported() throws Exception {
        NatReport report = probe(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT, true,
                List.of(RFC5780_SERVER.addresses().primary()));
        assertEquals(Optional.of(true), report.hairpin());
    }

    @Test
    void plainServerFirstThenRfc5780ServerStillMeasuresFiltering() throws Exception {
        NatReport report = probe(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, false,
                List.of(PLAIN_SERVER.addresses().primary(), RFC5780_SERVER.addresses().primary()));
        assertEquals(FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, report.filtering());
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
        assertEquals(ClassicNatType.PORT_RESTRICTED_CONE, report.classic());
    }
}
