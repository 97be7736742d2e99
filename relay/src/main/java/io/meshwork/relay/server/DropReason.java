package io.meshwork.relay.server;

import java.util.Locale;

/** Why the relay dropped a frame or datagram; every drop is counted under one of these. */
public enum DropReason {
    /** A relay frame that failed to decode (too short, bad field, oversized). */
    MALFORMED,
    /** A relay frame with a type this relay does not know. */
    UNKNOWN_TYPE,
    /** A datagram that is neither a relay frame nor STUN. */
    NOT_RELAY,
    /** A TCP length prefix out of range: framing is lost and the connection is closed. */
    FRAMING,
    /** A UDP hello shorter than the challenge it asks for (it could be used for amplification). */
    UNPADDED_HELLO,
    /** A frame other than a handshake frame from a client with no session. */
    UNAUTHENTICATED,
    /** A frame only the relay may send (a received-packet, say) arriving from a client. */
    UNEXPECTED_FRAME,
    /** The sending client exceeded its rate limit. */
    RATE_LIMITED,
    /** The destination key is not connected to this relay. */
    NO_DESTINATION,
    /** The destination's TCP send queue is full: it reads too slowly. */
    DESTINATION_QUEUE_FULL,
    /** The relay's UDP socket send buffer is full. */
    UDP_SEND_BUFFER_FULL,
    /** A frame other than a handshake frame sent over UDP outside a SEALED frame by a client with a session. */
    UNSEALED,
    /** A SEALED frame naming another session than the one at its source address (an old or forged session). */
    UNKNOWN_SESSION,
    /** A SEALED frame whose tag does not verify under its session's key: forged, or from a spoofed source. */
    BAD_MAC,
    /** A SEALED frame whose counter was seen before or is older than the replay window. */
    REPLAYED,
    /** A frame for a device of another organization than the sender's. */
    CROSS_ORGANIZATION,
    /** A second hello on one TCP connection: the connection is closed. */
    HELLO_REPEATED,
    /** A handshake answer for a TCP client that is not reading (its send queue is full): the connection is closed. */
    PRE_AUTH_UNWRITABLE,
    /** A TCP connection refused: its source address has as many unauthenticated connections as allowed. */
    CONNECTION_LIMIT_SOURCE,
    /** A TCP connection refused: the relay has as many unauthenticated connections as allowed. */
    CONNECTION_LIMIT_TOTAL,
    /** A STUN request not answered: its source address has used up its answer budget. */
    STUN_RATE_LIMITED,
    /** A hello, authentication or stray frame not answered: its source address has used up its answer budget. */
    HANDSHAKE_RATE_LIMITED;

    /** The label value used in metrics. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
