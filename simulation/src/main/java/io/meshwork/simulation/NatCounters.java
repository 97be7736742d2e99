package io.meshwork.simulation;

/**
 * What one {@link NatBox} has done so far.
 *
 * @param translatedOutbound packets from inside sent on with their public source
 * @param translatedInbound packets from outside that passed the filter and went inside
 * @param hairpinned packets from inside to the NAT's own public address looped back inside
 * @param droppedByFilter inbound packets refused by the filtering behaviour (RFC 4787 §5)
 * @param droppedNoMapping inbound packets to a public port with no live mapping
 * @param droppedBlocked packets dropped because the NAT blocks UDP
 * @param droppedHairpinDisabled packets to the NAT's own public address while hairpinning is off
 * @param droppedPortsExhausted outbound packets that needed a new mapping when no public port was free
 * @param mappingsCreated mappings made so far
 * @param mappingsExpired mappings removed because their timer ran out
 */
public record NatCounters(long translatedOutbound, long translatedInbound, long hairpinned, long droppedByFilter,
        long droppedNoMapping, long droppedBlocked, long droppedHairpinDisabled, long droppedPortsExhausted,
        long mappingsCreated, long mappingsExpired) {
}
