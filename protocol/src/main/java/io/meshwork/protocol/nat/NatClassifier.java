package io.meshwork.protocol.nat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * Turns probe observations into a {@link NatReport}: a pure function, so every combination of NAT
 * behaviours is testable from a table without sockets.
 */
public final class NatClassifier {

    private NatClassifier() {
    }

    public static NatReport classify(NatObservations observations) {
        List<BindingObservation> answered = observations.bindings().stream()
                .filter(binding -> binding.mapped().isPresent())
                .toList();
        if (answered.isEmpty()) {
            return new NatReport(false, List.of(), MappingBehavior.UNKNOWN, FilteringBehavior.UNKNOWN,
                    Optional.empty(), Optional.empty(), false, ClassicNatType.BLOCKED);
        }
        LinkedHashSet<InetSocketAddress> publicEndpoints = new LinkedHashSet<>();
        answered.forEach(binding -> publicEndpoints.add(binding.mapped().orElseThrow()));
        // RFC 5780 §4.3: a mapped address equal to the local address means no NAT, and then the
        // effective mapping is endpoint-independent.
        boolean noNat = observations.localEndpoints().containsAll(publicEndpoints);
        MappingBehavior mapping = noNat ? MappingBehavior.ENDPOINT_INDEPENDENT : mapping(answered);
        if (mapping != MappingBehavior.ENDPOINT_INDEPENDENT && mapping != MappingBehavior.UNKNOWN
                && displaced(answered, observations.localEndpoints())) {
            mapping = MappingBehavior.ENDPOINT_INDEPENDENT;
        }
        FilteringBehavior filtering = filtering(observations);
        Optional<Boolean> portPreserving = portPreserving(observations.localEndpoints(), publicEndpoints);
        return new NatReport(true, new ArrayList<>(publicEndpoints), mapping, filtering, portPreserving,
                observations.hairpin(), noNat, classic(noNat, mapping, filtering));
    }

    /**
     * RFC 5780 §4.3, generalised from its three fixed tests to any set of answers: a different mapping
     * for two ports of one server IP means address-and-port-dependent; otherwise a different mapping for
     * two server IPs means address-dependent when a same-IP pair showed the port does not matter.
     */
    private static MappingBehavior mapping(List<BindingObservation> answered) {
        boolean differsByIp = false;
        boolean samePortInsensitive = false;
        boolean twoIps = false;
        for (int i = 0; i < answered.size(); i++) {
            for (int j = i + 1; j < answered.size(); j++) {
                InetSocketAddress serverA = answered.get(i).server();
                InetSocketAddress serverB = answered.get(j).server();
                boolean sameMapping = answered.get(i).mapped().equals(answered.get(j).mapped());
                if (serverA.getAddress().equals(serverB.getAddress())) {
                    if (serverA.getPort() != serverB.getPort()) {
                        if (!sameMapping) {
                            return MappingBehavior.ADDRESS_AND_PORT_DEPENDENT;
                        }
                        samePortInsensitive = true;
                    }
                } else {
                    twoIps = true;
                    differsByIp |= !sameMapping;
                }
            }
        }
        if (!twoIps) {
            return MappingBehavior.UNKNOWN;
        }
        if (!differsByIp) {
            return MappingBehavior.ENDPOINT_INDEPENDENT;
        }
        return samePortInsensitive ? MappingBehavior.ADDRESS_DEPENDENT : MappingBehavior.ENDPOINT_DEPENDENT;
    }

    /**
     * Whether mappings that differ by destination are a port-preserving NAT's one mapping, displaced for some flows,
     * rather than a mapping per destination: a Linux NAT whose gateway accepts unsolicited input keeps conntrack
     * entries for packets that reached it before the node sent anything their way (a peer's probe, a STUN server's
     * CHANGE-REQUEST answer); a flow of the node's whose reply tuple such an entry holds leaves from another port, and
     * every later new flow of that socket takes the port of its latest one (the NAT's by-source table). Two shapes
     * give it away: the local port kept towards some server while every other answer shows one and the same other
     * port (a mapping per destination gives each destination a port of its own), or one mapped endpoint answered
     * from two server IPs (a mapping per destination never shares a port across addresses). A port-preserving NAT
     * that maps per address would look the same as the first shape; such NATs are rare, Linux ones are not.
     */
    static boolean displaced(List<BindingObservation> answered, List<InetSocketAddress> localEndpoints) {
        java.util.Map<InetSocketAddress, java.util.Set<java.net.InetAddress>> serverIpsByMapped = new java.util.HashMap<>();
        for (BindingObservation binding : answered) {
            serverIpsByMapped.computeIfAbsent(binding.mapped().orElseThrow(), mapped -> new java.util.HashSet<>())
                    .add(binding.server().getAddress());
        }
        if (serverIpsByMapped.values().stream().anyMatch(ips -> ips.size() > 1)) {
            return true;
        }
        if (localEndpoints.isEmpty()) {
            return false;
        }
        int localPort = localEndpoints.get(0).getPort();
        java.util.Set<InetSocketAddress> others = new java.util.HashSet<>(serverIpsByMapped.keySet());
        boolean kept = others.removeIf(mapped -> mapped.getPort() == localPort);
        return kept && others.size() == 1;
    }

    /**
     * RFC 5780 §4.4: an answer from the alternate IP and port means endpoint-independent filtering;
     * failing that, an answer from the alternate port alone means address-dependent; neither means
     * address-and-port-dependent.
     */
    private static FilteringBehavior filtering(NatObservations observations) {
        Optional<Boolean> testTwo = observations.changeIpAndPortAnswered();
        if (testTwo.isEmpty()) {
            return FilteringBehavior.UNKNOWN;
        }
        if (testTwo.get()) {
            return FilteringBehavior.ENDPOINT_INDEPENDENT;
        }
        return observations.changePortAnswered()
                .map(answered -> answered ? FilteringBehavior.ADDRESS_DEPENDENT
                        : FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT)
                .orElse(FilteringBehavior.UNKNOWN);
    }

    /** RFC 4787 §4.1: port preservation keeps the local port as the public port. */
    private static Optional<Boolean> portPreserving(List<InetSocketAddress> localEndpoints,
            LinkedHashSet<InetSocketAddress> publicEndpoints) {
        if (localEndpoints.isEmpty()) {
            return Optional.empty();
        }
        int localPort = localEndpoints.get(0).getPort();
        return Optional.of(publicEndpoints.stream().allMatch(endpoint -> endpoint.getPort() == localPort));
    }

    /** The RFC 3489 §5 names: cones differ only in filtering; any endpoint-dependent mapping is symmetric. */
    static ClassicNatType classic(boolean noNat, MappingBehavior mapping, FilteringBehavior filtering) {
        if (noNat) {
            return ClassicNatType.OPEN;
        }
        return switch (mapping) {
            case ENDPOINT_INDEPENDENT -> switch (filtering) {
                case ENDPOINT_INDEPENDENT -> ClassicNatType.FULL_CONE;
                case ADDRESS_DEPENDENT -> ClassicNatType.RESTRICTED_CONE;
                case ADDRESS_AND_PORT_DEPENDENT -> ClassicNatType.PORT_RESTRICTED_CONE;
                case UNKNOWN -> ClassicNatType.UNKNOWN;
            };
            case ADDRESS_DEPENDENT, ADDRESS_AND_PORT_DEPENDENT, ENDPOINT_DEPENDENT -> ClassicNatType.SYMMETRIC;
            case UNKNOWN -> ClassicNatType.UNKNOWN;
        };
    }
}
