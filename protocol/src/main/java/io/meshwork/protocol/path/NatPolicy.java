package io.meshwork.protocol.path;

import io.meshwork.protocol.nat.MappingBehavior;

/**
 * What to try for a direct path between two NATs (pure; RFC 4787 terms). Probing every candidate is always
 * worth its few packets: a LAN path works whatever the NATs do. Where one side keeps one mapping per socket and
 * the other makes a new mapping per destination, the easy side sprays probes across the ports the hard side's
 * NAT is likely to pick (port prediction), opening its own filter for the one the hard side's probes will come
 * from. Where both make new mappings per destination, only a LAN path or the relay can work.
 */
public final class NatPolicy {

    /**
     * One side's NAT as its netcheck saw it.
     *
     * @param udp whether UDP reached any STUN server at all
     */
    public record Side(boolean udp, MappingBehavior mapping) {
        /** A side nothing is known about yet: treated as easy, so probing is tried. */
        public static Side unknown() {
            return new Side(true, MappingBehavior.UNKNOWN);
        }

        /** Whether the NAT gives a new public endpoint per destination (the "symmetric" kinds). */
        public boolean endpointDependent() {
            return mapping == MappingBehavior.ADDRESS_DEPENDENT || mapping == MappingBehavior.ADDRESS_AND_PORT_DEPENDENT
                    || mapping == MappingBehavior.ENDPOINT_DEPENDENT;
        }
    }

    /**
     * @param predictPorts spray probes across the peer's likely ports
     * @param expectation  what to expect, in words, for {@code status}
     */
    public record Plan(boolean predictPorts, String expectation) {}

    private NatPolicy() {}

    public static Plan plan(Side self, Side peer) {
        if (!self.udp()) {
            return new Plan(false, "this node's UDP to the internet is blocked: only a LAN path or the relay can work");
        }
        if (!peer.udp()) {
            return new Plan(false, "the peer's UDP to the internet is blocked: only a LAN path or the relay can work");
        }
        if (self.endpointDependent() && peer.endpointDependent()) {
            return new Plan(false, "both NATs map per destination (symmetric): only a LAN path or the relay can work");
        }
        if (peer.endpointDependent()) {
            return new Plan(true, "the peer's NAT maps per destination (symmetric): trying port prediction");
        }
        if (self.endpointDependent()) {
            return new Plan(false,
                    "this node's NAT maps per destination (symmetric): direct if the peer's NAT filters loosely "
                            + "or its port prediction hits");
        }
        if (self.mapping() == MappingBehavior.UNKNOWN || peer.mapping() == MappingBehavior.UNKNOWN) {
            return new Plan(false, (self.mapping() == MappingBehavior.UNKNOWN ? "this node's" : "the peer's")
                    + " NAT is not classified yet: probing every endpoint");
        }
        return new Plan(false, "both NATs keep one mapping per socket: a direct path is expected");
    }
}
