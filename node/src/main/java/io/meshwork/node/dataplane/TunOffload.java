package io.meshwork.node.dataplane;

import java.nio.ByteBuffer;

/**
 * TUN offloads in Java: the {@code virtio_net_hdr} a TUN device opened with {@code IFF_VNET_HDR} puts before every
 * packet, splitting the kernel's GSO super-packets into wire-sized packets ({@link Segmenter}), and coalescing
 * received TCP segments into super-packets for one TUN write ({@link Coalescer}, GRO).
 *
 * <p>The header (struct virtio_net_hdr, 10 bytes, in the host's byte order, which is little-endian on every platform
 * the node ships for): flags (u8), gso_type (u8), hdr_len, gso_size, csum_start, csum_offset (u16 each). With
 * {@link #F_NEEDS_CSUM} the transport checksum is partial: the field at {@code csum_start + csum_offset} holds the
 * pseudo-header sum and the checksum over {@code csum_start} to the end is still to be computed. Packet buffers
 * are big-endian (the {@link ByteBuffer} default); the header is read and written byte by byte.
 */
final class TunOffload {

    static final int HEADER_SIZE = 10;
    static final int F_NEEDS_CSUM = 1;
    static final int GSO_NONE = 0;
    static final int GSO_TCPV4 = 1;
    static final int GSO_TCPV6 = 4;
    static final int GSO_UDP_L4 = 5;
    static final int GSO_ECN = 0x80;
    static final int MAX_PACKET = 65535;
    /** Segments one coalesced packet carries at most (the kernel's own GRO stops at 64 too). */
    static final int MAX_COALESCED = 64;

    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_SYN = 0x02;
    private static final int TCP_RST = 0x04;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_ACK = 0x10;
    private static final int TCP_URG = 0x20;
    private static final int TCP_ECE = 0x40;
    private static final int TCP_CWR = 0x80;

    private TunOffload() {}

    // ---- checksums (RFC 1071) ---------------------------------------------------------------------------

    /** Adds the 16-bit big-endian words of {@code b[from, to)} to {@code sum} (an odd last byte is padded). */
    static long sum(ByteBuffer b, int from, int to, long sum) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long v = b.getLong(i);
            sum += (v >>> 32) + (v & 0xFFFFFFFFL);
        }
        if (i + 4 <= to) {
            sum += b.getInt(i) & 0xFFFFFFFFL;
            i += 4;
        }
        if (i + 2 <= to) {
            sum += b.getShort(i) & 0xFFFF;
            i += 2;
        }
        if (i < to) {
            sum += (b.get(i) & 0xFF) << 8;
        }
        return sum;
    }

    /** Folds a sum to 16 bits (not complemented). */
    static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** The pseudo-header sum of the packet at {@code ip} for a transport payload of {@code length} bytes. */
    static long pseudoHeader(ByteBuffer b, int ip, boolean ipv4, int protocol, int length) {
        return ipv4 ? sum(b, ip + 12, ip + 20, protocol + length) : sum(b, ip + 8, ip + 40, protocol + length);
    }

    private static void ipv4HeaderChecksum(ByteBuffer b, int ip, int headerLength) {
        b.putShort(ip + 10, (short) 0);
        b.putShort(ip + 10, (short) ~fold(sum(b, ip, ip + headerLength, 0)));
    }

    private static int u16le(ByteBuffer b, int at) {
        return (b.get(at) & 0xFF) | (b.get(at + 1) & 0xFF) << 8;
    }

    private static void putU16le(ByteBuffer b, int at, int value) {
        b.put(at, (byte) value);
        b.put(at + 1, (byte) (value >>> 8));
    }

    /** Writes a virtio_net_hdr at {@code at}. */
    static void putHeader(ByteBuffer b, int at, int flags, int gsoType, int hdrLen, int gsoSize, int csumStart,
            int csumOffset) {
        b.put(at, (byte) flags);
        b.put(at + 1, (byte) gsoType);
        putU16le(b, at + 2, hdrLen);
        putU16le(b, at + 4, gsoSize);
        putU16le(b, at + 6, csumStart);
        putU16le(b, at + 8, csumOffset);
    }

    /** Thrown for a frame whose header and packet do not agree; the caller drops it. */
    static final class MalformedFrame extends Exception {
        MalformedFrame(String message) {
            super(message, null, false, false);
        }
    }

    // ---- splitting ----------------------------------------------------------------------------------------

    /**
     * Splits one frame read from the TUN device (virtio_net_hdr and packet) into the packets it stands for: a GSO
     * TCP or UDP super-packet into segments of {@code gso_size} payload bytes, each with its own IP and transport
     * headers and checksums (IPv4 identifiers counting up, TCP sequence numbers advancing, FIN and PSH only on the
     * last segment, CWR only on the first); a plain packet with a partial checksum gets it completed in place. One
     * instance per reading thread; reused for every frame.
     */
    static final class Segmenter {
        private ByteBuffer frame;
        private int packet;
        private int end;
        private boolean ipv4;
        private boolean tcp;
        private int l4;
        private int headerLength;
        private int gsoSize;
        private int count;
        private boolean segmented;

        /**
         * Parses the frame in {@code frame[from, to)}. Returns how many packets it holds; a plain packet (1) is
         * ready in place at {@link #packetStart()} to {@link #packetEnd()}, a super-packet's segments are made
         * with {@link #write}.
         */
        int parse(ByteBuffer frame, int from, int to) throws MalformedFrame {
            if (to - from < HEADER_SIZE + 20) {
                throw new MalformedFrame("frame of " + (to - from) + " bytes");
            }
            this.frame = frame;
            int flags = frame.get(from) & 0xFF;
            int gsoType = frame.get(from + 1) & 0xFF;
            int gso = u16le(frame, from + 4);
            int csumStart = u16le(frame, from + 6);
            int csumOffset = u16le(frame, from + 8);
            packet = from + HEADER_SIZE;
            end = to;
            int version = (frame.get(packet) & 0xFF) >>> 4;
            ipv4 = version == 4;
            if (!ipv4 && version != 6) {
                throw new MalformedFrame("IP version " + version);
            }
            int length = to - packet;
            if (ipv4) {
                int total = frame.getShort(packet + 2) & 0xFFFF;
                if (total < 20 || total > length) {
                    throw new MalformedFrame("IPv4 total length " + total + " of " + length);
                }
                end = packet + total;
            } else {
                int total = length < 40 ? -1 : 40 + (frame.getShort(packet + 4) & 0xFFFF);
                if (total < 40 || total > length) {
                    throw new MalformedFrame("IPv6 length " + total + " of " + length);
                }
                end = packet + total;
            }
            length = end - packet;
            segmented = (gsoType & ~GSO_ECN) != GSO_NONE;
            if (!segmented) {
                count = 1;
                if ((flags & F_NEEDS_CSUM) != 0) {
                    if (csumStart + csumOffset + 2 > length || csumStart < 20) {
                        throw new MalformedFrame("checksum at " + csumStart + "+" + csumOffset + " of " + length);
                    }
                    int field = packet + csumStart + csumOffset;
                    // The field holds the pseudo-header sum; summing over it completes the checksum.
                    int checksum = ~fold(sum(frame, packet + csumStart, end, 0)) & 0xFFFF;
                    int protocol = ipv4 ? frame.get(packet + 9) & 0xFF : frame.get(packet + 6) & 0xFF;
                    frame.putShort(field, (short) (checksum == 0 && protocol == UDP ? 0xFFFF : checksum));
                }
                return 1;
            }
            int type = gsoType & ~GSO_ECN;
            tcp = type == GSO_TCPV4 || type == GSO_TCPV6;
            if (type == GSO_TCPV4 && !ipv4 || type == GSO_TCPV6 && ipv4 || !tcp && type != GSO_UDP_L4) {
                throw new MalformedFrame("GSO type " + gsoType + " for IPv" + version);
            }
            if (ipv4) {
                l4 = (frame.get(packet) & 0x0F) * 4;
                if (l4 < 20 || (frame.getShort(packet + 6) & 0x3FFF) != 0) {
                    throw new MalformedFrame("IPv4 header length " + l4 + " or a fragment");
                }
            } else {
                l4 = 40;
            }
            int protocol = ipv4 ? frame.get(packet + 9) & 0xFF : frame.get(packet + 6) & 0xFF;
            if (protocol != (tcp ? TCP : UDP)) {
                throw new MalformedFrame("GSO type " + gsoType + " on protocol " + protocol);
            }
            if ((flags & F_NEEDS_CSUM) != 0 && csumStart != l4) {
                throw new MalformedFrame("checksum start " + csumStart + ", transport header at " + l4);
            }
            if (tcp) {
                if (l4 + 20 > length) {
                    throw new MalformedFrame("TCP header cut short");
                }
                headerLength = l4 + ((frame.get(packet + l4 + 12) & 0xFF) >>> 4) * 4;
                if (headerLength < l4 + 20 || headerLength > length) {
                    throw new MalformedFrame("TCP header length " + (headerLength - l4));
                }
            } else {
                headerLength = l4 + 8;
                if (headerLength > length) {
                    throw new MalformedFrame("UDP header cut short");
                }
            }
            if (gso == 0) {
                throw new MalformedFrame("GSO size 0");
            }
            gsoSize = gso;
            int payload = length - headerLength;
            count = payload == 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
            return count;
        }

        /** True when the frame parsed last is a super-packet (its segments come from {@link #write}). */
        boolean segmented() {
            return segmented;
        }

        int packetStart() {
            return packet;
        }

        int packetEnd() {
            return end;
        }

        /** Writes segment {@code index} (of a super-packet) at {@code out}'s position and advances it. */
        void write(int index, ByteBuffer out) {
            int o = out.position();
            int payloadFrom = packet + headerLength + index * gsoSize;
            int payloadLength = Math.min(gsoSize, Math.max(0, end - payloadFrom));
            int length = headerLength + payloadLength;
            out.put(o, frame, packet, headerLength);
            out.put(o + headerLength, frame, payloadFrom, payloadLength);
            if (ipv4) {
                out.putShort(o + 2, (short) length);
                out.putShort(o + 4, (short) (frame.getShort(packet + 4) + index));
                ipv4HeaderChecksum(out, o, l4);
            } else {
                out.putShort(o + 4, (short) (length - 40));
            }
            int t = o + l4;
            int checksumField;
            if (tcp) {
                out.putInt(t + 4, frame.getInt(packet + l4 + 4) + index * gsoSize);
                int flags = out.get(t + 13) & 0xFF;
                if (index < count - 1) {
                    flags &= ~(TCP_FIN | TCP_PSH);
                }
                if (index > 0) {
                    flags &= ~TCP_CWR;
                }
                out.put(t + 13, (byte) flags);
                checksumField = t + 16;
            } else {
                out.putShort(t + 4, (short) (length - l4));
                checksumField = t + 6;
            }
            out.putShort(checksumField, (short) 0);
            long sum = pseudoHeader(out, o, ipv4, tcp ? TCP : UDP, length - l4);
            int checksum = ~fold(sum(out, t, o + length, sum)) & 0xFFFF;
            out.putShort(checksumField, (short) (checksum == 0 && !tcp ? 0xFFFF : checksum));
            out.position(o + length);
        }
    }

    // ---- coalescing ---------------------------------------------------------------------------------------

    /** Where a {@link Coalescer} puts what it made: frames with a virtio_net_hdr first. */
    @FunctionalInterface
    interface FrameSink {
        void writeFrame(ByteBuffer frame);
    }

    /**
     * Coalesces consecutive in-order TCP segments of one flow into one super-packet with a GSO header, written as
     * one frame (GRO). A segment joins the pending super-packet when it continues its byte stream exactly (next
     * sequence number), its IP and TCP headers match the first segment's except for lengths, identifiers,
     * sequence number and checksum (same addresses, ports, ack, window, options and only ACK, maybe PSH, set), its
     * payload is not larger than the first's, and the previous segment was full-sized and without PSH. A segment
     * whose checksum does not verify is never merged: it goes out alone so the kernel drops it as it would have.
     * Anything else (other protocols, IPv4 options, IPv6 extension headers, fragments) goes out on its own with an
     * empty header. One instance per writing thread.
     */
    static final class Coalescer {
        private final ByteBuffer buffer;
        private final FrameSink sink;
        private int count;
        private int length;
        private boolean ipv4;
        private int l4;
        private int headerLength;
        private int gsoSize;
        private int nextSeq;
        private boolean closed;
        private long merged;

        Coalescer(ByteBuffer buffer, FrameSink sink) {
            if (buffer.capacity() < HEADER_SIZE + MAX_PACKET) {
                throw new IllegalArgumentException("coalescing buffer of " + buffer.capacity() + " bytes");
            }
            this.buffer = buffer;
            this.sink = sink;
        }

        /** Segments merged into a predecessor so far. */
        long merged() {
            return merged;
        }

        /** Takes the readable bytes of {@code packet} (one IP packet); they may go out now or on a later call. */
        void add(ByteBuffer packet) {
            int p = packet.position();
            int n = packet.remaining();
            if (count > 0 && canMerge(packet, p, n)) {
                int payload = n - headerLength;
                buffer.put(HEADER_SIZE + length, packet, p + headerLength, payload);
                length += payload;
                count++;
                merged++;
                nextSeq += payload;
                int flags = packet.get(p + l4 + 13) & 0xFF;
                if ((flags & TCP_PSH) != 0) {
                    int t = HEADER_SIZE + l4 + 13;
                    buffer.put(t, (byte) (buffer.get(t) | TCP_PSH));
                }
                if (payload < gsoSize || (flags & TCP_PSH) != 0 || count == MAX_COALESCED) {
                    closed = true;
                }
                return;
            }
            flush();
            buffer.put(HEADER_SIZE, packet, p, n);
            length = n;
            count = 1;
            if (!startable(packet, p, n)) {
                flush();
            }
        }

        /** Writes the pending packet, if any. */
        void flush() {
            if (count == 0) {
                return;
            }
            if (count == 1) {
                putHeader(buffer, 0, 0, GSO_NONE, 0, 0, 0, 0);
            } else {
                int ip = HEADER_SIZE;
                if (ipv4) {
                    buffer.putShort(ip + 2, (short) length);
                    ipv4HeaderChecksum(buffer, ip, l4);
                } else {
                    buffer.putShort(ip + 4, (short) (length - 40));
                }
                // A partial checksum: the pseudo-header sum, the rest left to the kernel (checksum offload).
                buffer.putShort(ip + l4 + 16, (short) fold(pseudoHeader(buffer, ip, ipv4, TCP, length - l4)));
                putHeader(buffer, 0, F_NEEDS_CSUM, ipv4 ? GSO_TCPV4 : GSO_TCPV6, headerLength, gsoSize, l4, 16);
            }
            buffer.limit(HEADER_SIZE + length).position(0);
            count = 0;
            try {
                sink.writeFrame(buffer);
            } finally {
                buffer.clear();
            }
        }

        /** Whether the packet now pending (copied to the buffer) may start a super-packet; sets up to merge. */
        private boolean startable(ByteBuffer packet, int p, int n) {
            int version = (packet.get(p) & 0xFF) >>> 4;
            if (version == 4) {
                if (n < 40 || (packet.get(p) & 0x0F) != 5 || (packet.get(p + 9) & 0xFF) != TCP
                        || (packet.getShort(p + 6) & 0x3FFF) != 0 || (packet.getShort(p + 2) & 0xFFFF) != n) {
                    return false;
                }
                ipv4 = true;
                l4 = 20;
            } else if (version == 6) {
                if (n < 60 || (packet.get(p + 6) & 0xFF) != TCP || 40 + (packet.getShort(p + 4) & 0xFFFF) != n) {
                    return false;
                }
                ipv4 = false;
                l4 = 40;
            } else {
                return false;
            }
            int tcpHeader = ((packet.get(p + l4 + 12) & 0xFF) >>> 4) * 4;
            headerLength = l4 + tcpHeader;
            if (tcpHeader < 20 || headerLength >= n) {
                return false;
            }
            int flags = packet.get(p + l4 + 13) & 0xFF;
            if ((flags & (TCP_SYN | TCP_FIN | TCP_RST | TCP_URG | TCP_ECE | TCP_CWR)) != 0 || (flags & TCP_ACK) == 0
                    || (flags & TCP_PSH) != 0 || !checksumValid(packet, p, n)) {
                return false;
            }
            gsoSize = n - headerLength;
            nextSeq = packet.getInt(p + l4 + 4) + gsoSize;
            closed = false;
            return true;
        }

        private boolean canMerge(ByteBuffer packet, int p, int n) {
            if (closed || n <= headerLength || length + n - headerLength > MAX_PACKET) {
                return false;
            }
            int payload = n - headerLength;
            int b = HEADER_SIZE;
            if (payload > gsoSize || packet.getInt(p + l4 + 4) != nextSeq) {
                return false;
            }
            if (ipv4) {
                // Version, header length, TOS; flags; TTL, protocol; addresses. Not the length, id or checksum.
                if ((packet.getShort(p) != buffer.getShort(b))
                        || (packet.getShort(p + 6) != buffer.getShort(b + 6))
                        || (packet.getShort(p + 8) != buffer.getShort(b + 8))
                        || (packet.getLong(p + 12) != buffer.getLong(b + 12))
                        || (packet.getShort(p + 2) & 0xFFFF) != n) {
                    return false;
                }
            } else {
                if (packet.getInt(p) != buffer.getInt(b) || packet.getShort(p + 6) != buffer.getShort(b + 6)
                        || 40 + (packet.getShort(p + 4) & 0xFFFF) != n
                        || packet.getLong(p + 8) != buffer.getLong(b + 8)
                        || packet.getLong(p + 16) != buffer.getLong(b + 16)
                        || packet.getLong(p + 24) != buffer.getLong(b + 24)
                        || packet.getLong(p + 32) != buffer.getLong(b + 32)) {
                    return false;
                }
            }
            int t = p + l4;
            int bt = b + l4;
            // Ports, ack; data offset and flags (PSH aside); window. Then the options, word by word.
            if (packet.getInt(t) != buffer.getInt(bt) || packet.getInt(t + 8) != buffer.getInt(bt + 8)
                    || (packet.getShort(t + 12) | TCP_PSH) != (buffer.getShort(bt + 12) | TCP_PSH)
                    || packet.getShort(t + 14) != buffer.getShort(bt + 14)) {
                return false;
            }
            for (int i = 20; i < headerLength - l4; i += 4) {
                if (packet.getInt(t + i) != buffer.getInt(bt + i)) {
                    return false;
                }
            }
            return checksumValid(packet, p, n);
        }

        private boolean checksumValid(ByteBuffer packet, int p, int n) {
            long sum = pseudoHeader(packet, p, ipv4, TCP, n - l4);
            return fold(sum(packet, p + l4, p + n, sum)) == 0xFFFF;
        }
    }
}
