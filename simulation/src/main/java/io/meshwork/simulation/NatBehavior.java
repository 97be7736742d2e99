package io.meshwork.simulation;

import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What a {@link NatBox} does, in RFC 4787 terms. The mapping and filtering values are the ones the prober
 * reports, so a test can compare a measured report with the configuration directly.
 *
 * @param mapping which destinations share a mapping (RFC 4787 §4.1); only the three concrete behaviours
 * @param filtering which inbound packets a mapping admits (RFC 4787 §5); only the three concrete behaviours
 * @param hairpinning whether a packet from inside to the NAT's own public address is looped back (RFC 4787 §6)
 * @param mappingTimeout how long a mapping lives without refresh (RFC 4787 §4.3: REQ-5 asks for 2 min at least)
 * @param refreshOnInbound whether inbound packets also refresh a mapping (RFC 4787 §4.3 REQ-6: outbound must,
 *        inbound may)
 * @param udpBlocked whether the NAT drops all UDP in both directions
 * @param acceptsInput whether the gateway's input chain accepts what no mapping admits, as a Linux router without a
 *        firewall, a Docker host or a cloud NAT instance does: the unsolicited packet is delivered to the gateway
 *        itself and leaves a conntrack entry, and a later packet from inside to that sender then collides with it
 *        and leaves from another port (Linux keeps one port per 5-tuple, not per socket). Modelled per 5-tuple with
 *        Linux's UDP timeouts (30 s one way, 120 s both ways); for endpoint-independent mapping only
 * @param forwardedPort an inside port the gateway maps permanently to the same outside port, as a port-mapping
 *        protocol (PCP, NAT-PMP, UPnP IGD) leaves it: traffic from that port uses the mapping whatever the NAT
 *        otherwise does, and everything sent to it gets in; 0 for none
 */
public record NatBehavior(MappingBehavior mapping, FilteringBehavior filtering, PortAllocation portAllocation,
        boolean hairpinning, Duration mappingTimeout, boolean refreshOnInbound, boolean udpBlocked,
        boolean acceptsInput, int forwardedPort) {

    /** RFC 4787 §4.3 REQ-5: a UDP mapping timer must not expire in less than two minutes. */
    public static final Duration DEFAULT_MAPPING_TIMEOUT = Duration.ofMinutes(2);

    public NatBehavior {
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(filtering, "filtering");
        Objects.requireNonNull(portAllocation, "portAllocation");
        Objects.requireNonNull(mappingTimeout, "mappingTimeout");
        if (mapping == MappingBehavior.UNKNOWN || mapping == MappingBehavior.ENDPOINT_DEPENDENT) {
            throw new IllegalArgumentException("a NAT needs a concrete mapping behaviour, not " + mapping);
        }
        if (filtering == FilteringBehavior.UNKNOWN) {
            throw new IllegalArgumentException("a NAT needs a concrete filtering behaviour");
        }
        if (mappingTimeout.isNegative() || mappingTimeout.isZero()) {
            throw new IllegalArgumentException("mapping timeout must be positive: " + mappingTimeout);
        }
        if (acceptsInput && mapping != MappingBehavior.ENDPOINT_INDEPENDENT) {
            throw new IllegalArgumentException("accepting input is modelled for endpoint-independent mapping only");
        }
        if (forwardedPort < 0 || forwardedPort > 65535) {
            throw new IllegalArgumentException("forwarded port out of range: " + forwardedPort);
        }
    }

    /** The behaviour of the record's first seven components, accepting no input and forwarding no port. */
    public NatBehavior(MappingBehavior mapping, FilteringBehavior filtering, PortAllocation portAllocation,
            boolean hairpinning, Duration mappingTimeout, boolean refreshOnInbound, boolean udpBlocked) {
        this(mapping, filtering, portAllocation, hairpinning, mappingTimeout, refreshOnInbound, udpBlocked, false, 0);
    }

    /** Port-preserving, no hairpinning, the RFC's two-minute timeout refreshed by outbound traffic only. */
    public static NatBehavior of(MappingBehavior mapping, FilteringBehavior filtering) {
        return new NatBehavior(mapping, filtering, PortAllocation.PRESERVING, false, DEFAULT_MAPPING_TIMEOUT,
                false, false);
    }

    public NatBehavior withPortAllocation(PortAllocation allocation) {
        return with(next -> next.portAllocation = allocation);
    }

    public NatBehavior withHairpinning(boolean enabled) {
        return with(next -> next.hairpinning = enabled);
    }

    public NatBehavior withMappingTimeout(Duration timeout) {
        return with(next -> next.mappingTimeout = timeout);
    }

    public NatBehavior withRefreshOnInbound(boolean enabled) {
        return with(next -> next.refreshOnInbound = enabled);
    }

    public NatBehavior withUdpBlocked(boolean blocked) {
        return with(next -> next.udpBlocked = blocked);
    }

    public NatBehavior withAcceptsInput(boolean accepts) {
        return with(next -> next.acceptsInput = accepts);
    }

    public NatBehavior withForwardedPort(int port) {
        return with(next -> next.forwardedPort = port);
    }

    /** This behaviour with what {@code change} sets changed, checked as any other. */
    private NatBehavior with(Consumer<Components> change) {
        Components next = new Components(this);
        change.accept(next);
        return new NatBehavior(next.mapping, next.filtering, next.portAllocation, next.hairpinning,
                next.mappingTimeout, next.refreshOnInbound, next.udpBlocked, next.acceptsInput, next.forwardedPort);
    }

    /** The record's components, to change some of them. */
    private static final class Components {
        MappingBehavior mapping;
        FilteringBehavior filtering;
        PortAllocation portAllocation;
        boolean hairpinning;
        Duration mappingTimeout;
        boolean refreshOnInbound;
        boolean udpBlocked;
        boolean acceptsInput;
        int forwardedPort;

        Components(NatBehavior of) {
            mapping = of.mapping;
            filtering = of.filtering;
            portAllocation = of.portAllocation;
            hairpinning = of.hairpinning;
            mappingTimeout = of.mappingTimeout;
            refreshOnInbound = of.refreshOnInbound;
            udpBlocked = of.udpBlocked;
            acceptsInput = of.acceptsInput;
            forwardedPort = of.forwardedPort;
        }
    }
}
