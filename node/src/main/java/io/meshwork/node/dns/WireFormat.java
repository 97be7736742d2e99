package io.meshwork.node.dns;

/**
 * The few fixed positions of a DNS message (RFC 1035 §4.1) the forwarder reads and writes in place: the id, the
 * flags, the end of the question, and where each resource record's TTL sits, so that a cached answer goes out with
 * its remaining TTL without being decoded and encoded again. Everything else about messages is Netty's codec's.
 * Every method checks bounds and throws {@link IllegalArgumentException} on a message that does not add up.
 */
final class WireFormat {

    static final int HEADER_LENGTH = 12;
    private static final int TYPE_OPT = 41;
    private static final int FLAG_QR = 0x8000;
    private static final int FLAG_TC = 0x0200;
    private static final int FLAG_RD = 0x0100;
    private static final int FLAG_RA = 0x0080;
    static final int RCODE_SERVFAIL = 2;

    private WireFormat() {}

    static int id(byte[] message) {
        return u16(message, 0);
    }

    static void setId(byte[] message, int id) {
        message[0] = (byte) (id >> 8);
        message[1] = (byte) id;
    }

    static boolean truncated(byte[] message) {
        return (u16(message, 2) & FLAG_TC) != 0;
    }

    static int rcode(byte[] message) {
        return u16(message, 2) & 0xF;
    }

    /** The offset just past the (single) question of {@code message}. */
    static int questionEnd(byte[] message, int length) {
        if (length < HEADER_LENGTH || u16(message, 4) != 1) {
            throw new IllegalArgumentException("not a message with one question");
        }
        int end = skipName(message, HEADER_LENGTH, length) + 4;
        if (end > length) {
            throw new IllegalArgumentException("question runs past the message");
        }
        return end;
    }

    /**
     * The offsets of the TTL fields of every record after the question, the OPT pseudo-record's excepted (its
     * "TTL" is flags, RFC 6891 §6.1.3).
     */
    static int[] ttlOffsets(byte[] message, int length) {
        int offset = questionEnd(message, length);
        int records = u16(message, 6) + u16(message, 8) + u16(message, 10);
        int[] offsets = new int[records];
        int found = 0;
        for (int i = 0; i < records; i++) {
            offset = skipName(message, offset, length);
            if (offset + 10 > length) {
                throw new IllegalArgumentException("record header runs past the message");
            }
            int type = u16(message, offset);
            int dataLength = u16(message, offset + 8);
            if (type != TYPE_OPT) {
                offsets[found++] = offset + 4;
            }
            offset += 10 + dataLength;
            if (offset > length) {
                throw new IllegalArgumentException("record data runs past the message");
            }
        }
        return java.util.Arrays.copyOf(offsets, found);
    }

    static long ttlAt(byte[] message, int offset) {
        return (long) u16(message, offset) << 16 | u16(message, offset + 2);
    }

    static void setTtlAt(byte[] message, int offset, long ttl) {
        message[offset] = (byte) (ttl >> 24);
        message[offset + 1] = (byte) (ttl >> 16);
        message[offset + 2] = (byte) (ttl >> 8);
        message[offset + 3] = (byte) ttl;
    }

    /**
     * A reply to {@code query} made of its header and question alone: with {@code rcode}, or, when {@code
     * truncated}, NOERROR with TC set so the client asks again over TCP (RFC 7766 §5).
     */
    static byte[] bare(byte[] query, int questionEnd, int rcode, boolean truncated) {
        byte[] reply = java.util.Arrays.copyOf(query, questionEnd);
        int flags = u16(query, 2) & FLAG_RD | FLAG_QR | FLAG_RA | (truncated ? FLAG_TC : 0) | rcode & 0xF;
        reply[2] = (byte) (flags >> 8);
        reply[3] = (byte) flags;
        for (int i = 6; i < HEADER_LENGTH; i++) {
            reply[i] = 0;
        }
        return reply;
    }

    /** Whether two questions (from offset 12 to {@code end}) are the same, letters compared without case. */
    static boolean sameQuestion(byte[] a, byte[] b, int end) {
        if (a.length < end || b.length < end) {
            return false;
        }
        for (int i = HEADER_LENGTH; i < end; i++) {
            if (Character.toLowerCase((char) (a[i] & 0xFF)) != Character.toLowerCase((char) (b[i] & 0xFF))) {
                return false;
            }
        }
        return true;
    }

    /** RFC 1035 §4.1.4: past a name of labels, ending in a zero octet or a two-octet pointer. */
    private static int skipName(byte[] message, int offset, int length) {
        int position = offset;
        while (true) {
            if (position >= length) {
                throw new IllegalArgumentException("name runs past the message");
            }
            int label = message[position] & 0xFF;
            if ((label & 0xC0) == 0xC0) {
                return position + 2;
            }
            if (label > 63) {
                throw new IllegalArgumentException("bad label length");
            }
            position += 1 + label;
            if (label == 0) {
                return position;
            }
        }
    }

    private static int u16(byte[] message, int offset) {
        if (offset + 2 > message.length) {
            throw new IllegalArgumentException("message too short");
        }
        return (message[offset] & 0xFF) << 8 | message[offset + 1] & 0xFF;
    }
}
