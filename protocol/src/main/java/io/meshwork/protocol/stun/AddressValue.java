package io.meshwork.protocol.stun;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The value layout shared by every address attribute (RFC 8489 §14.1): a zero byte, the family
 * (0x01 IPv4, 0x02 IPv6), the port, then 4 or 16 address bytes. The XOR form (RFC 8489 §14.2) XORs the
 * port with the top 16 bits of the magic cookie and the address with the cookie and transaction ID.
 */
final class AddressValue {

    private static final int FAMILY_IPV4 = 0x01;
    private static final int FAMILY_IPV6 = 0x02;

    private AddressValue() {
    }

    /**
     * @param xorKey the 16 header bytes 4–19 (cookie and transaction ID), or null for the plain form
     */
    static InetSocketAddress decode(byte[] message, int offset, int length, byte[] xorKey)
            throws StunParseException {
        if (length < 4) {
            throw new StunParseException(StunParseException.Reason.BAD_ATTRIBUTE,
                    "address attribute of " + length + " bytes");
        }
        int family = message[offset + 1] & 0xFF;
        int addressLength = switch (family) {
            case FAMILY_IPV4 -> 4;
            case FAMILY_IPV6 -> 16;
            default -> throw new StunParseException(StunParseException.Reason.BAD_ATTRIBUTE,
                    "address family " + family);
        };
        if (length != 4 + addressLength) {
            throw new StunParseException(StunParseException.Reason.BAD_ATTRIBUTE,
                    "address attribute of " + length + " bytes for family " + family);
        }
        int port = ((message[offset + 2] & 0xFF) << 8) | (message[offset + 3] & 0xFF);
        byte[] address = new byte[addressLength];
        System.arraycopy(message, offset + 4, address, 0, addressLength);
        if (xorKey != null) {
            port ^= ((xorKey[0] & 0xFF) << 8) | (xorKey[1] & 0xFF);
            for (int i = 0; i < addressLength; i++) {
                address[i] ^= xorKey[i];
            }
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(address), port);
        } catch (UnknownHostException impossible) {
            throw new StunParseException(StunParseException.Reason.BAD_ATTRIBUTE, impossible.getMessage());
        }
    }

    static byte[] encode(InetSocketAddress socketAddress, byte[] xorKey) {
        InetAddress inetAddress = socketAddress.getAddress();
        if (inetAddress == null) {
            throw new IllegalArgumentException("unresolved address " + socketAddress);
        }
        byte[] address = inetAddress.getAddress();
        int family = inetAddress instanceof Inet4Address ? FAMILY_IPV4 : FAMILY_IPV6;
        int port = socketAddress.getPort();
        if (xorKey != null) {
            port ^= ((xorKey[0] & 0xFF) << 8) | (xorKey[1] & 0xFF);
            for (int i = 0; i < address.length; i++) {
                address[i] ^= xorKey[i];
            }
        }
        byte[] value = new byte[4 + address.length];
        value[1] = (byte) family;
        value[2] = (byte) (port >>> 8);
        value[3] = (byte) port;
        System.arraycopy(address, 0, value, 4, address.length);
        return value;
    }
}
