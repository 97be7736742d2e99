package io.meshwork.protocol.demux;

import java.nio.ByteBuffer;

/**
 * The kinds of datagram that share a node's one UDP socket, told apart by shape alone (docs/architecture.md, "Node").
 *
 * <p>The checks are ordered so that no valid datagram of one kind can be taken for another:
 * WireGuard messages start with a type byte 1–4 followed by three zero bytes, a STUN message has
 * its top two bits zero and the magic cookie at offset 4 (RFC 8489 §5), probe messages start with
 * their own eight-byte magic and relay frames with their own four-byte magic; each magic begins with a byte
 * no WireGuard or STUN message can start with, and the two magics differ in that byte.
 */
public enum DatagramKind {
    WIREGUARD,
    STUN,
    PROBE,
    /** A frame between a node and a relay (io.meshwork.protocol.relay). */
    RELAY,
    UNKNOWN;

    /** RFC 8489 §5: the fixed magic cookie at bytes 4–7 of every STUN message. */
    public static final int STUN_MAGIC_COOKIE = 0x2112A442;

    /** Probe messages start with these bytes: 0xF0 can be neither a WireGuard type nor a STUN first byte. */
    public static final byte[] PROBE_MAGIC = {(byte) 0xF0, 'M', 'W', 'P', 'R', 'O', 'B', 'E'};

    /** Relay frames on UDP start with these bytes: 0xF1 is neither a WireGuard type, a STUN first byte nor 0xF0. */
    public static final byte[] RELAY_MAGIC = {(byte) 0xF1, 'M', 'W', 'R'};

    /**
     * Classifies the readable bytes of {@code datagram} without changing its position or limit.
     */
    public static DatagramKind classify(ByteBuffer datagram) {
        int start = datagram.position();
        int length = datagram.remaining();
        if (length >= 4) {
            int first = datagram.get(start) & 0xFF;
            // WireGuard §5.4: message type (1..4) then three reserved zero bytes.
            if (first >= 1 && first <= 4
                    && datagram.get(start + 1) == 0
                    && datagram.get(start + 2) == 0
                    && datagram.get(start + 3) == 0) {
                return WIREGUARD;
            }
            // RFC 8489 §5: top two bits zero, magic cookie at offset 4, length a multiple of 4.
            if (length >= 20 && (first & 0xC0) == 0 && datagram.getInt(start + 4) == STUN_MAGIC_COOKIE
                    && (length & 3) == 0) {
                return STUN;
            }
        }
        if (startsWith(datagram, PROBE_MAGIC)) {
            return PROBE;
        }
        if (startsWith(datagram, RELAY_MAGIC)) {
            return RELAY;
        }
        return UNKNOWN;
    }

    private static boolean startsWith(ByteBuffer datagram, byte[] magic) {
        if (datagram.remaining() < magic.length) {
            return false;
        }
        int start = datagram.position();
        for (int i = 0; i < magic.length; i++) {
            if (datagram.get(start + i) != magic[i]) {
                return false;
            }
        }
        return true;
    }
}
