package io.meshwork.node.dataplane;

/** Why the data plane dropped a packet; each has a counter. */
public enum DropReason {
    /** A WireGuard datagram of the wrong size for its type, or of an unknown type. */
    MALFORMED,
    BAD_MAC1,
    /** Under load, a handshake message without a valid cookie MAC (answered with a cookie reply). */
    NEEDS_COOKIE,
    HANDSHAKE_FAILED,
    UNKNOWN_PEER,
    UNKNOWN_INDEX,
    REPLAYED,
    DECRYPTION_FAILED,
    EXPIRED_KEYS,
    /** A decrypted packet whose source address is not in the sending peer's allowed IPs. */
    NOT_ALLOWED_SOURCE,
    /** An outbound packet with no peer for its destination. */
    NO_ROUTE,
    /** An outbound packet for a peer with no endpoint. */
    NO_ENDPOINT,
    /** The staged queue of a peer without a session was full. */
    STAGED_QUEUE_FULL,
    /** Not an IPv4 or IPv6 packet. */
    NOT_IP,
    /** An inbound packet the security policy refused (no rule allows it and it answers no flow of ours). */
    FILTERED
}
