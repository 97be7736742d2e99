package io.meshwork.node.filter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The fields of an IP packet the filter decides on, parsed in place without allocating. One instance is reused for
 * every packet of one thread; it is not thread-safe.
 *
 * <p>Addresses are kept as 128 bits in two longs, most significant first: an IPv6 address as is, an IPv4 address
 * in the top 32 bits of {@code sourceHigh}/{@code destinationHigh} with the rest zero.
 */
public final class PacketHeaders {

    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMPV6 = 58;

    static final int NO_PORT = -1;
    private static final int MAX_EXTENSION_HEADERS = 8;

    int version;
    /** The transport protocol (after any IPv6 extension headers). */
    int protocol;
    long sourceHigh;
    long sourceLow;
    long destinationHigh;
    long destinationLow;
    /** Transport ports; {@link #NO_PORT} when the protocol has none or this is not the first fragment. */
    int sourcePort;
    int destinationPort;
    /** ICMP type and echo identifier; -1 when not ICMP. */
    int icmpType;
    int icmpIdentifier;
    /** A fragment other than the first: it carries no transport header. */
    boolean laterFragment;
    /** Where the transport header starts, from the packet's position. */
    int transportOffset;

    /** The packet an ICMP error quotes, parsed by {@link #parseQuoted}. */
    private PacketHeaders quoted;

    /**
     * Parses the packet between its position and limit. False when it is malformed: bad version or lengths,
     * an extension header chain that runs past the end, or a first fragment too short for its transport header.
     */
    public boolean parse(ByteBuffer packet) {
        return parse(packet, packet.position(), packet.limit(), false);
    }

    /** The packet quoted by the ICMP error just parsed, or null when it is unreadable. */
    PacketHeaders parseQuoted(ByteBuffer packet, int start, int end) {
        if (quoted == null) {
            quoted = new PacketHeaders();
        }
        return quoted.parse(packet, start, end, true) ? quoted : null;
    }

    /**
     * @param truncated a packet quoted in an ICMP error: its length fields describe the original, of which only the
     *                  start is present (RFC 792: the IP header and 8 bytes; RFC 4443 §3.1: as much as fits)
     */
    private boolean parse(ByteBuffer packet, int start, int end, boolean truncated) {
        int available = end - start;
        if (available < 1) {
            return false;
        }
        version = (packet.get(start) & 0xFF) >>> 4;
        sourcePort = NO_PORT;
        destinationPort = NO_PORT;
        icmpType = -1;
        icmpIdentifier = -1;
        laterFragment = false;
        boolean bigEndian = packet.order() == ByteOrder.BIG_ENDIAN;
        int transport;
        int packetEnd;
        if (version == 4) {
            // RFC 791 §3.1: IHL in 32-bit words, at least 5; total length covers header and data.
            if (available < 20) {
                return false;
            }
            int headerLength = (packet.get(start) & 0x0F) * 4;
            int totalLength = u16(packet, start + 2, bigEndian);
            if (headerLength < 20 || headerLength > available || totalLength < headerLength) {
                return false;
            }
            if (!truncated && totalLength > available) {
                return false;
            }
            packetEnd = start + Math.min(totalLength, available);
            // RFC 791: the low 13 bits of the flags-and-offset word; only the first fragment has ports.
            laterFragment = (u16(packet, start + 6, bigEndian) & 0x1FFF) != 0;
            protocol = packet.get(start + 9) & 0xFF;
            sourceHigh = (u32(packet, start + 12, bigEndian)) << 32;
            sourceLow = 0;
            destinationHigh = (u32(packet, start + 16, bigEndian)) << 32;
            destinationLow = 0;
            transport = start + headerLength;
        } else if (version == 6) {
            // RFC 8200 §3: a fixed 40-byte header; payload length excludes it.
            if (available < 40) {
                return false;
            }
            int totalLength = 40 + u16(packet, start + 4, bigEndian);
            if (!truncated && totalLength > available) {
                return false;
            }
            packetEnd = start + Math.min(totalLength, available);
            sourceHigh = u64(packet, start + 8, bigEndian);
            sourceLow = u64(packet, start + 16, bigEndian);
            destinationHigh = u64(packet, start + 24, bigEndian);
            destinationLow = u64(packet, start + 32, bigEndian);
            int next = packet.get(start + 6) & 0xFF;
            transport = start + 40;
            int headers = 0;
            while (isExtension(next)) {
                if (++headers > MAX_EXTENSION_HEADERS || transport + 8 > packetEnd) {
                    return false;
                }
                int following = packet.get(transport) & 0xFF;
                int length;
                if (next == 44) {
                    // RFC 8200 §4.5: the fragment offset is the top 13 bits; only the first fragment has ports.
                    int offsetAndFlags = u16(packet, transport + 2, bigEndian);
                    laterFragment = (offsetAndFlags >>> 3) != 0;
                    length = 8;
                } else if (next == 51) {
                    // RFC 4302 §2.2: AH length is in 4-byte units, minus 2.
                    length = ((packet.get(transport + 1) & 0xFF) + 2) * 4;
                } else {
                    // RFC 8200 §4.3-4.6: hop-by-hop, routing and destination options, in 8-byte units beyond the first.
                    length = ((packet.get(transport + 1) & 0xFF) + 1) * 8;
                }
                transport += length;
                next = following;
                if (laterFragment) {
                    break;
                }
            }
            if (transport > packetEnd) {
                return false;
            }
            protocol = next;
        } else {
            return false;
        }
        transportOffset = transport - start;
        if (laterFragment) {
            return true;
        }
        return parseTransport(packet, transport, packetEnd, truncated, bigEndian);
    }

    private boolean parseTransport(ByteBuffer packet, int transport, int packetEnd, boolean truncated,
            boolean bigEndian) {
        int available = packetEnd - transport;
        boolean icmp = version == 4 ? protocol == ICMP : protocol == ICMPV6;
        if (protocol == TCP || protocol == UDP) {
            // A whole packet must hold the full header; a quoted one only needs the ports (RFC 792: 8 bytes).
            // A first fragment too short for the header is the tiny-fragment attack of RFC 1858 §3.1: malformed.
            int needed = truncated ? 4 : protocol == TCP ? 20 : 8;
            if (available < needed) {
                return false;
            }
            sourcePort = u16(packet, transport, bigEndian);
            destinationPort = u16(packet, transport + 2, bigEndian);
        } else if (icmp) {
            // RFC 792 and RFC 4443 §2.1: type, code, checksum, then 4 bytes every message has (the echo identifier).
            if (available < 8) {
                return false;
            }
            icmpType = packet.get(transport) & 0xFF;
            icmpIdentifier = u16(packet, transport + 4, bigEndian);
        }
        return true;
    }

    /** IPv6 extension headers the parser walks past: hop-by-hop, routing, fragment, destination options, AH. */
    private static boolean isExtension(int next) {
        return next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
    }

    boolean isIcmp() {
        return version == 4 ? protocol == ICMP : protocol == ICMPV6;
    }

    /** An echo request: RFC 792 type 8, RFC 4443 §4.1 type 128. */
    boolean isEchoRequest() {
        return isIcmp() && icmpIdentifier >= 0 && icmpType == (version == 4 ? 8 : 128);
    }

    /** An echo reply: RFC 792 type 0, RFC 4443 §4.2 type 129. */
    boolean isEchoReply() {
        return isIcmp() && icmpIdentifier >= 0 && icmpType == (version == 4 ? 0 : 129);
    }

    /**
     * An error that quotes the packet that caused it: destination unreachable, time exceeded, parameter problem
     * (RFC 792 types 3, 11, 12; RFC 4443 §3 types 1, 3, 4), and IPv6 packet too big (type 2), which path MTU
     * discovery needs.
     */
    boolean isIcmpError() {
        if (!isIcmp()) {
            return false;
        }
        return version == 4 ? icmpType == 3 || icmpType == 11 || icmpType == 12
                : icmpType >= 1 && icmpType <= 4;
    }

    private static int u16(ByteBuffer packet, int index, boolean bigEndian) {
        short value = packet.getShort(index);
        return (bigEndian ? value : Short.reverseBytes(value)) & 0xFFFF;
    }

    private static long u32(ByteBuffer packet, int index, boolean bigEndian) {
        int value = packet.getInt(index);
        return (bigEndian ? value : Integer.reverseBytes(value)) & 0xFFFFFFFFL;
    }

    private static long u64(ByteBuffer packet, int index, boolean bigEndian) {
        long value = packet.getLong(index);
        return bigEndian ? value : Long.reverseBytes(value);
    }
}
