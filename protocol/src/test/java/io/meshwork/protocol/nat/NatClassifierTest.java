package io.meshwork.protocol.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Scripted observations of every mapping × filtering combination, and the report each must give. */
class NatClassifierTest {

    private static final InetSocketAddress LOCAL = address("10.0.0.2", 5000);
    private static final InetSocketAddress IP1_P = address("198.51.100.1", 3478);
    private static final InetSocketAddress IP1_P1 = address("198.51.100.1", 3479);
    private static final InetSocketAddress IP2_P = address("198.51.100.2", 3478);
    private static final InetSocketAddress IP2_P1 = address("198.51.100.2", 3479);

    private static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetSocketAddress publicAt(int port) {
        return address("203.0.113.1", port);
    }

    /** What a NAT with {@code mapping} reports for each server, in RFC 5780 §4.3 test order. */
    private static List<BindingObservation> bindingsFor(MappingBehavior mapping) {
        return switch (mapping) {
            case ENDPOINT_INDEPENDENT -> List.of(
                    BindingObservation.answered(IP1_P, publicAt(5000)),
                    BindingObservation.answered(IP2_P, publicAt(5000)),
                    BindingObservation.answered(IP2_P1, publicAt(5000)));
            case ADDRESS_DEPENDENT -> List.of(
                    BindingObservation.answered(IP1_P, publicAt(40001)),
                    BindingObservation.answered(IP2_P, publicAt(40002)),
                    BindingObservation.answered(IP2_P1, publicAt(40002)));
            case ADDRESS_AND_PORT_DEPENDENT -> List.of(
                    BindingObservation.answered(IP1_P, publicAt(40001)),
                    BindingObservation.answered(IP2_P, publicAt(40002)),
                    BindingObservation.answered(IP2_P1, publicAt(40003)));
            case ENDPOINT_DEPENDENT -> List.of(
                    BindingObservation.answered(IP1_P, publicAt(40001)),
                    BindingObservation.answered(IP2_P, publicAt(40002)),
                    BindingObservation.unanswered(IP2_P1));
            case UNKNOWN -> List.of(
                    BindingObservation.answered(IP1_P, publicAt(40001)),
                    BindingObservation.unanswered(IP2_P));
        };
    }

    private static NatObservations observations(MappingBehavior mapping, FilteringBehavior filtering) {
        Optional<Boolean> testTwo = filtering == FilteringBehavior.UNKNOWN ? Optional.empty()
                : Optional.of(filtering == FilteringBehavior.ENDPOINT_INDEPENDENT);
        Optional<Boolean> testThree = switch (filtering) {
            case ADDRESS_DEPENDENT -> Optional.of(true);
            case ADDRESS_AND_PORT_DEPENDENT -> Optional.of(false);
            default -> Optional.empty();
        };
        return new NatObservations(List.of(LOCAL), bindingsFor(mapping), testTwo, testThree, Optional.of(false));
    }

    private static ClassicNatType expectedClassic(MappingBehavior mapping, FilteringBehavior filtering) {
        if (mapping == MappingBehavior.UNKNOWN) {
            return ClassicNatType.UNKNOWN;
        }
        if (mapping != MappingBehavior.ENDPOINT_INDEPENDENT) {
            return ClassicNatType.SYMMETRIC;
        }
        return switch (filtering) {
            case ENDPOINT_INDEPENDENT -> ClassicNatType.FULL_CONE;
            case ADDRESS_DEPENDENT -> ClassicNatType.RESTRICTED_CONE;
            case ADDRESS_AND_PORT_DEPENDENT -> ClassicNatType.PORT_RESTRICTED_CONE;
            case UNKNOWN -> ClassicNatType.UNKNOWN;
        };
    }

    static Stream<Arguments> everyCombination() {
        List<Arguments> combinations = new ArrayList<>();
        for (MappingBehavior mapping : MappingBehavior.values()) {
            for (FilteringBehavior filtering : FilteringBehavior.values()) {
                combinations.add(Arguments.of(mapping, filtering, expectedClassic(mapping, filtering)));
            }
        }
        return combinations.stream();
    }

    @ParameterizedTest(name = "{0} mapping, {1} filtering -> {2}")
    @MethodSource("everyCombination")
    void classifiesEveryMappingAndFiltering(MappingBehavior mapping, FilteringBehavior filtering,
            ClassicNatType classic) {
        NatReport report = NatClassifier.classify(observations(mapping, filtering));
        assertTrue(report.udpReachable());
        assertEquals(mapping, report.mapping());
        assertEquals(filtering, report.filtering());
        assertEquals(classic, report.classic());
        assertFalse(report.noNat());
        assertEquals(Optional.of(mapping == MappingBehavior.ENDPOINT_INDEPENDENT), report.portPreserving());
    }

    @Test
    void noAnswersMeanUdpBlocked() {
        NatReport report = NatClassifier.classify(new NatObservations(List.of(LOCAL),
                List.of(BindingObservation.unanswered(IP1_P), BindingObservation.unanswered(IP2_P)),
                Optional.empty(), Optional.empty(), Optional.empty()));
        assertFalse(report.udpReachable());
        assertEquals(ClassicNatType.BLOCKED, report.classic());
        assertEquals(List.of(), report.publicEndpoints());
        assertEquals(MappingBehavior.UNKNOWN, report.mapping());
        assertEquals(Optional.empty(), report.portPreserving());
    }

    @Test
    void mappedAddressEqualToTheLocalOneMeansNoNat() {
        InetSocketAddress local = address("198.51.100.50", 5000);
        NatReport report = NatClassifier.classify(new NatObservations(List.of(local),
                List.of(BindingObservation.answered(IP1_P, local)),
                Optional.of(true), Optional.empty(), Optional.of(true)));
        assertTrue(report.noNat());
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
        assertEquals(FilteringBehavior.ENDPOINT_INDEPENDENT, report.filtering());
        assertEquals(ClassicNatType.OPEN, report.classic());
        assertEquals(Optional.of(true), report.hairpin());
        assertEquals(List.of(local), report.publicEndpoints());
    }

    @Test
    void differentPortsOfOneServerIpAloneRevealPortDependentMapping() {
        NatReport report = NatClassifier.classify(new NatObservations(List.of(LOCAL), List.of(
                BindingObservation.answered(IP1_P, publicAt(40001)),
                BindingObservation.answered(IP1_P1, publicAt(40002))),
                Optional.empty(), Optional.empty(), Optional.empty()));
        assertEquals(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT, report.mapping());
        assertEquals(ClassicNatType.SYMMETRIC, report.classic());
        assertEquals(List.of(publicAt(40001), publicAt(40002)), report.publicEndpoints());
        assertEquals(Optional.of(false), report.portPreserving());
    }

    @Test
    void portPreservationIsReportedSeparatelyFromMapping() {
        NatReport report = NatClassifier.classify(new NatObservations(List.of(LOCAL), List.of(
                BindingObservation.answered(IP1_P, publicAt(61000)),
                BindingObservation.answered(IP2_P, publicAt(61000))),
                Optional.of(false), Optional.of(false), Optional.of(true)));
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
        assertEquals(Optional.of(false), report.portPreserving());
        assertEquals(Optional.of(true), report.hairpin());
        assertEquals(ClassicNatType.PORT_RESTRICTED_CONE, report.classic());
    }

    @Test
    void aPortPreservingMappingDisplacedForSomeFlowsStaysEndpointIndependent() {
        // Test I kept the local port; test II and III, flows started after a conntrack collision, left from the
        // displaced port the NAT's by-source table hands every later flow.
        NatReport report = NatClassifier.classify(new NatObservations(List.of(LOCAL), List.of(
                BindingObservation.answered(IP1_P, publicAt(5000)),
                BindingObservation.answered(IP2_P, publicAt(41234)),
                BindingObservation.answered(IP2_P1, publicAt(41234))),
                Optional.of(false), Optional.of(false), Optional.of(false)));
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
        assertEquals(ClassicNatType.PORT_RESTRICTED_CONE, report.classic());
        assertEquals(List.of(publicAt(5000), publicAt(41234)), report.publicEndpoints());
        assertEquals(Optional.of(false), report.portPreserving());
        // The other way round: the old flow is test II's.
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, NatClassifier.classify(new NatObservations(List.of(LOCAL),
                List.of(BindingObservation.answered(IP1_P, publicAt(41234)),
                        BindingObservation.answered(IP2_P, publicAt(5000))),
                Optional.empty(), Optional.empty(), Optional.empty())).mapping());
    }

    @Test
    void oneMappedEndpointAnsweredFromTwoServerIpsIsNoMappingPerDestination() {
        NatReport report = NatClassifier.classify(new NatObservations(List.of(LOCAL), List.of(
                BindingObservation.answered(IP1_P, publicAt(40001)),
                BindingObservation.answered(IP1_P1, publicAt(41234)),
                BindingObservation.answered(IP2_P, publicAt(41234))),
                Optional.empty(), Optional.empty(), Optional.empty()));
        assertEquals(MappingBehavior.ENDPOINT_INDEPENDENT, report.mapping());
    }

    @Test
    void aMappingPerDestinationIsStillSymmetricWhenOnePortWasPreserved() {
        // Port-preserving towards the first server, then a port per further destination: two other ports.
        NatReport report = NatClassifier.classify(new NatObservations(List.of(LOCAL), List.of(
                BindingObservation.answered(IP1_P, publicAt(5000)),
                BindingObservation.answered(IP2_P, publicAt(40002)),
                BindingObservation.answered(IP2_P1, publicAt(40003))),
                Optional.empty(), Optional.empty(), Optional.empty()));
        assertEquals(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT, report.mapping());
        assertEquals(ClassicNatType.SYMMETRIC, report.classic());
    }
}
