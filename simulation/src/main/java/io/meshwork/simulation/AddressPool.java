package io.meshwork.simulation;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.function.Predicate;

/** The IPv4 addresses of one site's subnet, handed out in order from the first usable one. */
final class AddressPool {

    private final int network;
    private final int prefixLength;
    private int next;

    /** @param cidr a subnet such as {@code 192.168.1.0/24}; hosts get addresses from .2 on (.1 is the gateway) */
    AddressPool(String cidr, int firstOffset) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("expected a.b.c.d/prefix, got " + cidr);
        }
        this.prefixLength = Integer.parseInt(cidr.substring(slash + 1));
        if (prefixLength < 8 || prefixLength > 30) {
            throw new IllegalArgumentException("prefix length must be within 8..30: " + cidr);
        }
        int mask = -1 << (32 - prefixLength);
        this.network = toInt(ipv4(cidr.substring(0, slash))) & mask;
        this.next = firstOffset;
    }

    /** The next address of the subnet that {@code taken} does not hold. */
    InetAddress allocate(Predicate<InetAddress> taken) {
        int size = 1 << (32 - prefixLength);
        while (next < size - 1) {
            InetAddress candidate = fromInt(network + next++);
            if (!taken.test(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("subnet " + fromInt(network).getHostAddress() + "/" + prefixLength
                + " has no free address left");
    }

    /** Parses a dotted-quad IPv4 literal; no name resolution. */
    static InetAddress ipv4(String literal) {
        String[] parts = literal.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + literal);
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int value = Integer.parseInt(parts[i]);
            if (value < 0 || value > 255) {
                throw new IllegalArgumentException("not an IPv4 address: " + literal);
            }
            bytes[i] = (byte) value;
        }
        return fromBytes(bytes);
    }

    private static int toInt(InetAddress address) {
        byte[] bytes = address.getAddress();
        return (bytes[0] & 0xFF) << 24 | (bytes[1] & 0xFF) << 16 | (bytes[2] & 0xFF) << 8 | (bytes[3] & 0xFF);
    }

    private static InetAddress fromInt(int value) {
        return fromBytes(new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8),
                (byte) value});
    }

    private static InetAddress fromBytes(byte[] bytes) {
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("four bytes are always an IPv4 address", e);
        }
    }
}
