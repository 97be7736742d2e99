package io.meshwork.protocol.nat;

/** Which inbound packets a NAT lets through to a mapping (RFC 4787 §5, measured per RFC 5780 §4.4). */
public enum FilteringBehavior {
    /** From anyone, once the mapping exists. */
    ENDPOINT_INDEPENDENT,
    /** Only from IPs the inside host has sent to. */
    ADDRESS_DEPENDENT,
    /** Only from IP:port pairs the inside host has sent to. */
    ADDRESS_AND_PORT_DEPENDENT,
    /** Not measured: no server offered an alternate address (RFC 5780 OTHER-ADDRESS). */
    UNKNOWN
}
