package io.meshwork.node.filter;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/** Builds IP packets for filter tests: headers with the fields the filter reads, checksums left zero. */
public final class Packets {

    private Packets() {}

    public static byte[] address(String literal) {
        try {
            return InetAddress.getByName(literal).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    public static byte[] ipv4(String source, String destination, int protocol, byte[] payload) {
        return ipv4(source, destination, protocol, 0, payload);
    }

    /** @param flagsAndOffset the 16-bit flags and fragment offset word (0x2000: more fragments) */
    public static byte[] ipv4(String source, String destination, int protocol, int flagsAndOffset, byte[] payload) {
        ByteBuffer packet = ByteBuffer.allocate(20 + payload.length);
        packet.put((byte) 0x45).put((byte) 0).putShort((short) (20 + payload.length));
        packet.putShort((short) 0x1234).putShort((short) flagsAndOffset);
        packet.put((byte) 64).put((byte) protocol).putShort((short) 0);
        packet.put(address(source)).put(address(destination)).put(payload);
        return packet.array();
    }

    public static byte[] ipv6(String source, String destination, int nextHeader, byte[] payload) {
        ByteBuffer packet = ByteBuffer.allocate(40 + payload.length);
        packet.putInt(0x60000000).putShort((short) payload.length).put((byte) nextHeader).put((byte) 64);
        packet.put(address(source)).put(address(destination)).put(payload);
        return packet.array();
    }

    /** An IPv6 extension header of 8 bytes (hop-by-hop, routing or destination options) before {@code rest}. */
    public static byte[] extension(int nextHeader, byte[] rest) {
        return concat(new byte[] {(byte) nextHeader, 0, 1, 4, 0, 0, 0, 0}, rest);
    }

    /** An IPv6 fragment header (RFC 8200 §4.5) before {@code rest}; offset in 8-byte units. */
    public static byte[] fragment(int nextHeader, int offset, boolean more, byte[] rest) {
        int word = offset << 3 | (more ? 1 : 0);
        return concat(new byte[] {(byte) nextHeader, 0, (byte) (word >>> 8), (byte) word, 0, 0, 0, 42}, rest);
    }

    public static byte[] tcp(int sourcePort, int destinationPort) {
        ByteBuffer header = ByteBuffer.allocate(20);
        header.putShort((short) sourcePort).putShort((short) destinationPort).putInt(1).putInt(0);
        header.put((byte) 0x50).put((byte) 0x02);
        return header.array();
    }

    public static byte[] udp(int sourcePort, int destinationPort) {
        ByteBuffer header = ByteBuffer.allocate(12);
        header.putShort((short) sourcePort).putShort((short) destinationPort).putShort((short) 12).putShort((short) 0);
        header.putInt(0xdeadbeef);
        return header.array();
    }

    public static byte[] icmp(int type, int code, int identifier) {
        ByteBuffer header = ByteBuffer.allocate(16);
        header.put((byte) type).put((byte) code).putShort((short) 0).putShort((short) identifier).putShort((short) 1);
        return header.array();
    }

    /** An ICMP error quoting {@code original} (RFC 792: its header and the first 8 bytes of its payload). */
    public static byte[] icmpError(int type, int code, byte[] original, int quotedBytes) {
        ByteBuffer header = ByteBuffer.allocate(8 + Math.min(quotedBytes, original.length));
        header.put((byte) type).put((byte) code).putShort((short) 0).putInt(0);
        header.put(original, 0, Math.min(quotedBytes, original.length));
        return header.array();
    }

    public static byte[] concat(byte[] first, byte[] second) {
        byte[] joined = new byte[first.length + second.length];
        System.arraycopy(first, 0, joined, 0, first.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        return joined;
    }
}
