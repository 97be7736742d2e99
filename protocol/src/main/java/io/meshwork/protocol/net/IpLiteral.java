package io.meshwork.protocol.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * IP address literals: parsed without ever asking DNS, and written one way everywhere (IPv4 dotted quad, IPv6 in the
 * RFC 5952 short form, endpoints as {@code 192.0.2.1:51820} or {@code [2001:db8::1]:51820}, the form {@code wg}
 * prints). Control, node and relay all go through here, so they never disagree about an address or an endpoint.
 */
public final class IpLiteral {

    /** The longest text taken for an IPv6 literal with a zone ({@code fe80::1%eth0}): longer is not an address. */
    static final int MAX_LITERAL_LENGTH = 64;

    private IpLiteral() {}

    /**
     * Parses an IPv4 or IPv6 literal (an IPv6 one may come in brackets).
     *
     * @throws InvalidAddressException naming the text when it is not one
     */
    public static InetAddress parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidAddressException("empty address");
        }
        if (text.length() > MAX_LITERAL_LENGTH + 2) {
            throw new InvalidAddressException("not an IP address: " + text.substring(0, MAX_LITERAL_LENGTH) + "…");
        }
        String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (isIpv4(literal)) {
            byte[] bytes = new byte[4];
            String[] octets = literal.split("\\.");
            for (int i = 0; i < 4; i++) {
                int octet = Integer.parseInt(octets[i]);
                if (octet > 255) {
                    throw new InvalidAddressException("not an IP address: " + text);
                }
                bytes[i] = (byte) octet;
            }
            return of(bytes);
        }
        // IPv6 literals only: hex groups, colons, an embedded IPv4 tail and a zone. With a ':' in it, the JDK parses
        // the text as a literal and never looks it up.
        if (!literal.contains(":") || !literal.matches("[0-9a-fA-F:.]+(%[0-9a-zA-Z_.-]+)?")) {
            throw new InvalidAddressException("not an IP address: " + text);
        }
        InetAddress parsed;
        try {
            parsed = InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new InvalidAddressException("not an IP address: " + text);
        }
        // The JDK turns an IPv4-mapped IPv6 literal (::ffff:192.0.2.1) into an IPv4 address; written as IPv6 it is
        // one (RFC 4291 §2.5.5.2): it matches IPv6 packets, and its prefix lengths go to 128.
        return parsed instanceof Inet4Address ? of(mapped(parsed.getAddress())) : parsed;
    }

    private static byte[] mapped(byte[] ipv4) {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xFF;
        bytes[11] = (byte) 0xFF;
        System.arraycopy(ipv4, 0, bytes, 12, 4);
        return bytes;
    }

    /** Whether {@code text} is a dotted quad (its octets not yet range-checked). */
    static boolean isIpv4(String text) {
        return text.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    /** The address of these 4 or 16 bytes; 16 bytes stay an IPv6 address, IPv4-mapped ones too. */
    public static InetAddress of(byte[] bytes) {
        try {
            return bytes.length == 16 ? Inet6Address.getByAddress(null, bytes, null) : InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new InvalidAddressException("not an IPv4 or IPv6 address: " + bytes.length + " bytes");
        }
    }

    /** IPv4 dotted, IPv6 in the RFC 5952 §4 short form ({@code fd00::1}, not {@code fd00:0:0:0:0:0:0:1}). */
    public static String format(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length == 4) {
            return (bytes[0] & 0xFF) + "." + (bytes[1] & 0xFF) + "." + (bytes[2] & 0xFF) + "." + (bytes[3] & 0xFF);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (bytes[2 * i] & 0xFF) << 8 | (bytes[2 * i + 1] & 0xFF);
        }
        // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::", the first one on a tie.
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    /** {@code 192.0.2.1:51820} or {@code [2001:db8::1]:51820}. */
    public static String format(InetSocketAddress endpoint) {
        String host = endpoint.getAddress() == null ? endpoint.getHostString() : format(endpoint.getAddress());
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + endpoint.getPort();
    }
}
