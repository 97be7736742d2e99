package io.meshwork.control.organization;

import io.meshwork.protocol.dns.DnsNames;
import io.meshwork.protocol.net.InvalidAddressException;
import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.protocol.net.Prefix;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Overlay address arithmetic: the n-th host of an IPv4 CIDR, and an organization's IPv6 ULA /64
 * (RFC 4193: fd00::/8 + a 40-bit global id, here derived from the organization id, + subnet 0). The nodes'
 * resolver address {@value DnsNames#SERVICE_IPV4} is never a host: a CIDR holding it skips it (its IPv6 one,
 * {@link DnsNames#serviceIpv6}, lies far above every host number).
 */
public final class Ipam {

    /** {@link DnsNames#SERVICE_IPV4} as a number. */
    private static final int RESERVED = ByteBuffer.wrap(IpLiteral.parse(DnsNames.SERVICE_IPV4).getAddress()).getInt();

    private Ipam() {}

    /** A parsed IPv4 CIDR. */
    public record Cidr(int network, int prefixLength) {

        /** Parses {@code a.b.c.d/n} (IPv4, n from 8 to 30), masking host bits, with the project's one {@link Prefix}. */
        public static Cidr parse(String text) {
            Prefix prefix;
            try {
                prefix = Prefix.parse(text);
            } catch (InvalidAddressException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
            if (!prefix.isIpv4()) {
                throw new IllegalArgumentException("not an IPv4 CIDR: " + text);
            }
            if (prefix.length() < 8 || prefix.length() > 30) {
                throw new IllegalArgumentException("prefix length must be 8 to 30: " + text);
            }
            return new Cidr(ByteBuffer.wrap(prefix.address().getAddress()).getInt(), prefix.length());
        }

        /** Usable hosts: all but the network and broadcast addresses, and the resolver's address. */
        public long capacity() {
            return (1L << (32 - prefixLength)) - 2 - (holdsReserved() ? 1 : 0);
        }

        /** Host number {@code index} (from 1) as dotted text; hosts from the resolver's address on move up one. */
        public String host(long index) {
            if (index < 1 || index > capacity()) {
                throw new IllegalArgumentException("no host " + index + " in " + this);
            }
            int address = network + (int) index;
            if (holdsReserved() && Integer.compareUnsigned(address, RESERVED) >= 0) {
                address++;
            }
            return (address >>> 24) + "." + (address >>> 16 & 0xFF) + "." + (address >>> 8 & 0xFF) + "." + (address & 0xFF);
        }

        private boolean holdsReserved() {
            int mask = -1 << (32 - prefixLength);
            return (RESERVED & mask) == network;
        }

        @Override
        public String toString() {
            return host0() + "/" + prefixLength;
        }

        private String host0() {
            return (network >>> 24) + "." + (network >>> 16 & 0xFF) + "." + (network >>> 8 & 0xFF) + "." + (network & 0xFF);
        }
    }

    /** The organization's ULA /64 prefix, e.g. {@code fd3b:1c2d:9e4f::/64}. */
    public static String ulaPrefix(String organizationId) {
        byte[] prefix = ulaBytes(organizationId);
        return format(prefix) + "/64";
    }

    /** Host {@code index} in the organization's ULA /64. */
    public static String ulaHost(String organizationId, long index) {
        byte[] address = ulaBytes(organizationId);
        byte[] host = BigInteger.valueOf(index).toByteArray();
        for (int i = 0; i < host.length && i < 8; i++) {
            address[15 - i] = host[host.length - 1 - i];
        }
        return format(address);
    }

    private static byte[] ulaBytes(String organizationId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(organizationId.getBytes(StandardCharsets.UTF_8));
            byte[] address = new byte[16];
            address[0] = (byte) 0xfd;
            System.arraycopy(digest, 0, address, 1, 5);
            return address;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String format(byte[] bytes) {
        return IpLiteral.format(IpLiteral.of(bytes));
    }
}
