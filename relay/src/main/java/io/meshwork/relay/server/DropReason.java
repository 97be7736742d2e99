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
    UDP_SEND_BUFFER_FULL;

    /** The label value used in metrics. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
