package io.meshwork.simulation;

import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;

/**
 * The network situations of the simulation grid (docs/architecture.md, "Simulation and lab"), each able to build its
 * sites on a {@link VirtualNetwork}. Every preset yields one site to put hosts in; {@link #SAME_LAN} is meant for two
 * hosts at once.
 */
public enum NatPreset {
    /** A host on the internet itself. */
    NO_NAT,
    /** Endpoint-independent mapping and filtering, hairpinning: the friendliest NAT there is. */
    FULL_CONE,
    /** Endpoint-independent mapping, address-dependent filtering. */
    RESTRICTED_CONE,
    /** Endpoint-independent mapping, address-and-port-dependent filtering: Linux MASQUERADE, most home routers. */
    PORT_RESTRICTED_CONE,
    /** A fresh random public port per destination endpoint (Linux {@code --random-fully}). */
    SYMMETRIC_RANDOM,
    /** A fresh public port per destination endpoint from one counter: the kind port prediction can open. */
    SYMMETRIC_SEQUENTIAL,
    /**
     * A port-restricted home NAT behind a carrier-grade NAT with endpoint-independent mapping and filtering and
     * hairpinning, as RFC 6888 asks of CGNs (REQ-1, REQ-7); the carrier picks random ports.
     */
    CARRIER_GRADE_DOUBLE_NAT,
    /** A home NAT that drops all UDP. */
    UDP_BLOCKED,
    /** One port-restricted home NAT with no hairpinning, for two hosts that must find each other on the LAN. */
    SAME_LAN,
    /**
     * Linux {@code MASQUERADE} on a gateway whose input chain accepts (a router without a firewall, a Docker or VM
     * host, a cloud NAT instance): an unsolicited probe leaves a conntrack entry on the gateway and the host's own
     * first packet to that peer then leaves from another port (the conntrack collision).
     */
    INPUT_ACCEPTING,
    /**
     * A symmetric NAT (random ports) whose gateway mapped the node's WireGuard port ({@code 51820}) by a port-mapping
     * protocol: that port keeps one public port for every destination and lets everyone in. The simulation does not
     * run PCP, NAT-PMP or UPnP; the mapping is there from the start.
     */
    PORT_MAPPED,
    /**
     * A dual-stack site: its IPv4 behind a symmetric NAT (random ports, as {@link #SYMMETRIC_RANDOM}), its IPv6 a
     * routed /64 of its own behind a stateful firewall on the gateway that admits inbound packets only for flows a
     * host inside opened, by address and port (ip6tables {@code ESTABLISHED,RELATED}). Its hosts have a global IPv6
     * address; every other preset's hosts have none.
     */
    DUAL_STACK;

    /** The WireGuard port a {@link #PORT_MAPPED} gateway forwards: the simulated nodes' listen port. */
    public static final int MAPPED_PORT = 51820;

    /** What a home router behind which a preset puts its hosts does, for the presets with one NAT. */
    public NatBehavior homeBehavior() {
        NatBehavior portRestricted = NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
        return switch (this) {
            case NO_NAT -> throw new IllegalStateException("NO_NAT has no NAT");
            case FULL_CONE -> NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ENDPOINT_INDEPENDENT).withHairpinning(true);
            case RESTRICTED_CONE -> NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT,
                    FilteringBehavior.ADDRESS_DEPENDENT);
            case PORT_RESTRICTED_CONE, CARRIER_GRADE_DOUBLE_NAT, SAME_LAN -> portRestricted;
            case SYMMETRIC_RANDOM -> NatBehavior.of(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT,
                    FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT).withPortAllocation(PortAllocation.RANDOM);
            case SYMMETRIC_SEQUENTIAL -> NatBehavior.of(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT,
                    FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT).withPortAllocation(PortAllocation.SEQUENTIAL);
            case UDP_BLOCKED -> portRestricted.withUdpBlocked(true);
            case INPUT_ACCEPTING -> portRestricted.withAcceptsInput(true);
            case PORT_MAPPED -> SYMMETRIC_RANDOM.homeBehavior().withForwardedPort(MAPPED_PORT);
            case DUAL_STACK -> SYMMETRIC_RANDOM.homeBehavior();
        };
    }

    /** The carrier-grade NAT of {@link #CARRIER_GRADE_DOUBLE_NAT}. */
    public static NatBehavior carrierBehavior() {
        return NatBehavior.of(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT)
                .withPortAllocation(PortAllocation.RANDOM)
                .withHairpinning(true);
    }

    /**
     * Builds this preset's sites on {@code network} and returns the one hosts go in: the internet for
     * {@link #NO_NAT}, the home site (named {@code name}) otherwise; the carrier site of
     * {@link #CARRIER_GRADE_DOUBLE_NAT} is named {@code name + "-carrier"}.
     */
    public Site build(VirtualNetwork network, String name) {
        return switch (this) {
            case NO_NAT -> network.internet();
            case CARRIER_GRADE_DOUBLE_NAT -> {
                // RFC 6598: the shared address space between a CGN and its subscribers.
                Site carrier = network.addNatSite(name + "-carrier", carrierBehavior(), network.internet(),
                        "100.64.0.0/10");
                yield network.addNatSite(name, homeBehavior(), carrier);
            }
            case INPUT_ACCEPTING -> {
                // A Docker host or cloud NAT instance somewhere: its own distance from the rest (5 to 64 ms, fixed
                // by the name), so two such sites hear of each other at different moments, as real ones do.
                Site site = network.addNatSite(name, homeBehavior(), network.internet());
                site.uplink().setProfile(LinkProfile.of(java.time.Duration.ofMillis(5 + Math.floorMod(name.hashCode(), 60))));
                yield site;
            }
            case DUAL_STACK -> {
                Site site = network.addNatSite(name, homeBehavior(), network.internet());
                network.enableIpv6(site);
                yield site;
            }
            default -> network.addNatSite(name, homeBehavior(), network.internet());
        };
    }
}
