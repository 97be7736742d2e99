package io.meshwork.protocol.net;

import java.net.InetAddress;

/**
 * An IP prefix, {@code 10.77.0.0/16} or {@code fd00::/64}: the one CIDR type of control, node and relay, so a
 * policy or an allowed-IPs entry means the same to all of them. The address is kept with its host bits cleared
 * ({@code 10.77.1.2/16} is {@code 10.77.0.0/16}), as {@code wg} and the kernel do.
 *
 * @param address the network address (host bits zero)
 * @param length  the prefix length, 0 to 32 for IPv4 and 0 to 128 for IPv6
 */
public record Prefix(InetAddress address, int length) {

    public Prefix {
        int bits = address.getAddress().length * 8;
        if (length < 0 || length > bits) {
            throw new InvalidAddressException("prefix length " + length + " is outside 0-" + bits);
        }
        address = masked(address, length);
    }

    /**
     * Parses {@code IP/LENGTH}; the length is required.
     *
     * @throws InvalidAddressException naming the text when it is not one
     */
    public static Prefix parse(String text) {
        if (text == null || text.indexOf('/') < 0) {
            throw new InvalidAddressException("a prefix needs a length, as in 10.0.0.0/8: " + text);
        }
        return parseAddressOrPrefix(text);
    }

    /** Parses {@code IP/LENGTH}, or a bare IP as the prefix of that one address ({@code /32}, {@code /128}). */
    public static Prefix parseAddressOrPrefix(String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidAddressException("empty prefix");
        }
        int slash = text.indexOf('/');
        InetAddress address;
        try {
            address = IpLiteral.parse(slash < 0 ? text : text.substring(0, slash));
        } catch (InvalidAddressException e) {
            throw new InvalidAddressException("not an IP prefix: " + text);
        }
        if (slash < 0) {
            return new Prefix(address, address.getAddress().length * 8);
        }
        String length = text.substring(slash + 1);
        if (!length.matches("\\d{1,3}")) {
            throw new InvalidAddressException("bad prefix length in " + text);
        }
        int bits = address.getAddress().length * 8;
        int value = Integer.parseInt(length);
        if (value > bits) {
            throw new InvalidAddressException("prefix length out of range in " + text + " (0 to " + bits + ")");
        }
        return new Prefix(address, value);
    }

    /** The prefix of exactly this address. */
    public static Prefix host(InetAddress address) {
        return new Prefix(address, address.getAddress().length * 8);
    }

    public boolean isIpv4() {
        return address.getAddress().length == 4;
    }

    /** Whether it holds one address only ({@code /32}, {@code /128}). */
    public boolean isHost() {
        return length == address.getAddress().length * 8;
    }

    /** Whether {@code candidate} lies inside this prefix (an address of the other family never does). */
    public boolean contains(InetAddress candidate) {
        byte[] network = address.getAddress();
        byte[] bytes = candidate.getAddress();
        if (bytes.length != network.length) {
            return false;
        }
        int full = length / 8;
        for (int i = 0; i < full; i++) {
            if (bytes[i] != network[i]) {
                return false;
            }
        }
        int rest = length % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (bytes[full] & mask) == (network[full] & mask);
    }

    /** Whether every address of {@code other} lies inside this prefix. */
    public boolean contains(Prefix other) {
        return other.length >= length && contains(other.address);
    }

    private static InetAddress masked(InetAddress address, int length) {
        byte[] bytes = address.getAddress();
        boolean changed = false;
        for (int bit = length; bit < bytes.length * 8; bit++) {
            byte cleared = (byte) (bytes[bit / 8] & ~(0x80 >>> (bit % 8)));
            changed |= cleared != bytes[bit / 8];
            bytes[bit / 8] = cleared;
        }
        return changed ? IpLiteral.of(bytes) : address;
    }

    /** {@code 10.77.0.0/16}, {@code fd00::/64}. */
    @Override
    public String toString() {
        return IpLiteral.format(address) + "/" + length;
    }
}
