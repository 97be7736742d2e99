package io.meshwork.simulation;

import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import java.time.Duration;
import java.util.Objects;

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
 */
public record NatBehavior(MappingBehavior mapping, FilteringBehavior filtering, PortAllocation portAllocation,
        boolean hairpinning, Duration mappingTimeout, boolean refreshOnInbound, boolean udpBlocked) {

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
    }

    /** Port-preserving, no hairpinning, the RFC's two-minute timeout refreshed by outbound traffic only. */
    public static NatBehavior of(MappingBehavior mapping, FilteringBehavior filtering) {
        return new NatBehavior(mapping, filtering, PortAllocation.PRESERVING, false, DEFAULT_MAPPING_TIMEOUT,
                false, false);
    }

    public NatBehavior withPortAllocation(PortAllocation allocation) {
        return new NatBehavior(mapping, filtering, allocation, hairpinning, mappingTimeout, refreshOnInbound,
                udpBlocked);
    }

    public NatBehavior withHairpinning(boolean enabled) {
        return new NatBehavior(mapping, filtering, portAllocation, enabled, mappingTimeout, refreshOnInbound,
                udpBlocked);
    }

    public NatBehavior withMappingTimeout(Duration timeout) {
        return new NatBehavior(mapping, filtering, portAllocation, hairpinning, timeout, refreshOnInbound,
                udpBlocked);
    }

    public NatBehavior withRefreshOnInbound(boolean enabled) {
        return new NatBehavior(mapping, filtering, portAllocation, hairpinning, mappingTimeout, enabled,
                udpBlocked);
    }

    public NatBehavior withUdpBlocked(boolean blocked) {
        return new NatBehavior(mapping, filtering, portAllocation, hairpinning, mappingTimeout, refreshOnInbound,
                blocked);
    }
}
