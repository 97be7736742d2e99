package io.meshwork.protocol.nat;

/** How a NAT chooses the public endpoint of an outgoing flow (RFC 4787 §4.1, measured per RFC 5780 §4.3). */
public enum MappingBehavior {
    /** One public endpoint for every destination: the peer-to-peer friendly kind. */
    ENDPOINT_INDEPENDENT,
    /** A new public endpoint per destination IP. */
    ADDRESS_DEPENDENT,
    /** A new public endpoint per destination IP and port: the "symmetric NAT" of RFC 3489. */
    ADDRESS_AND_PORT_DEPENDENT,
    /**
     * Differs per destination IP, but no two servers on one IP with different ports answered, so
     * address-dependent and address-and-port-dependent cannot be told apart.
     */
    ENDPOINT_DEPENDENT,
    /** Too few answers to tell: fewer than two server IPs answered. */
    UNKNOWN
}
