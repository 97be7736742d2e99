package io.meshwork.protocol.portmap;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * PCP (RFC 6887) as a node uses it: ANNOUNCE to learn whether the gateway speaks PCP, MAP to ask for a UDP port
 * mapping and, with lifetime 0, to delete it. Building and parsing are static functions over bytes; every address
 * on the wire is 16 bytes, IPv4 as an IPv4-mapped IPv6 address (RFC 6887 §5).
 */
public final class Pcp {

    /** The server port on the gateway (RFC 6887 §19.1). */
    public static final int SERVER_PORT = 5351;
    /** The only version this codec speaks (RFC 6887 §7). */
    public static final int VERSION = 2;
    public static final int OPCODE_ANNOUNCE = 0;
    public static final int OPCODE_MAP = 1;
    /** Result codes of RFC 6887 §7.4 this client acts on. */
    public static final int SUCCESS = 0;
    public static final int UNSUPP_VERSION = 1;
    public static final int NOT_AUTHORIZED = 2;
    public static final int NO_RESOURCES = 8;
    public static final int CANNOT_PROVIDE_EXTERNAL = 11;
    public static final int ADDRESS_MISMATCH = 12;
    /** A PCP message is at most 1100 bytes (RFC 6887 §7); anything larger is not PCP. */
    public static final int MAX_MESSAGE_BYTES = 1100;
    public static final int NONCE_BYTES = 12;
    private static final int HEADER_BYTES = 24;
    private static final int MAP_BYTES = 36;
    private static final int RESPONSE_BIT = 0x80;
    private static final int UDP = 17;

    private Pcp() {}

    /**
     * A response header and, for MAP, its opcode-specific part.
     *
     * @param lifetimeSeconds on success how long the mapping lasts; on error how long the error holds (§7.2)
     * @param epochSeconds    the server's epoch time (§8.5)
     * @param nonce           the MAP nonce echoed by the server; empty for ANNOUNCE
     * @param externalAddress the assigned external address for MAP; null for ANNOUNCE
     */
    public record Response(int opcode, int resultCode, long lifetimeSeconds, long epochSeconds, byte[] nonce,
            int protocol, int internalPort, int externalPort, InetAddress externalAddress) {

        public boolean success() {
            return resultCode == SUCCESS;
        }

        /** Whether {@code sent} is this response's nonce (RFC 6887 §11.3: a reply to another request is dropped). */
        public boolean nonceMatches(byte[] sent) {
            return nonce.length == NONCE_BYTES && java.security.MessageDigest.isEqual(nonce, sent);
        }
    }

    /** ANNOUNCE (RFC 6887 §14.1): a header with lifetime 0, which a PCP server answers with SUCCESS. */
    public static byte[] announceRequest(InetAddress clientAddress) {
        return header(OPCODE_ANNOUNCE, 0, clientAddress, 0).array();
    }

    /**
     * MAP for UDP (RFC 6887 §11.1), no options. A {@code lifetimeSeconds} of 0 deletes the mapping made with the same
     * nonce (§15). {@code suggestedExternal} may be null (the all-zero IPv4-mapped address: no suggestion).
     */
    public static byte[] mapRequest(InetAddress clientAddress, byte[] nonce, int internalPort,
            int suggestedExternalPort, InetAddress suggestedExternal, long lifetimeSeconds) {
        if (nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("a PCP nonce has " + NONCE_BYTES + " bytes");
        }
        checkPort(internalPort);
        if (suggestedExternalPort < 0 || suggestedExternalPort > 0xFFFF) {
            throw new IllegalArgumentException("port out of range: " + suggestedExternalPort);
        }
        ByteBuffer buffer = header(OPCODE_MAP, lifetimeSeconds, clientAddress, MAP_BYTES);
        buffer.put(nonce);
        buffer.put((byte) UDP);
        buffer.put(new byte[3]);
        buffer.putShort((short) internalPort);
        buffer.putShort((short) suggestedExternalPort);
        buffer.put(wire(suggestedExternal == null ? ipv4Any() : suggestedExternal));
        return buffer.array();
    }

    /**
     * Parses a response (RFC 6887 §7.2, §11.2). Strict on the header and the MAP fields, lax on trailing options
     * (they are not read). A NAT-PMP server answers a PCP request with a version-0 "unsupported version" message
     * (RFC 6887 §9): that is {@link PortMapParseException.Reason#WRONG_VERSION}, as is any other version.
     */
    public static Response parseResponse(byte[] datagram, int length) throws PortMapParseException {
        ByteBuffer buffer = ResponseOpening.read(datagram, length, MAX_MESSAGE_BYTES, VERSION);
        if (length < HEADER_BYTES) {
            throw new PortMapParseException(PortMapParseException.Reason.TRUNCATED, length + " bytes");
        }
        int opcodeByte = buffer.get() & 0xFF;
        if ((opcodeByte & RESPONSE_BIT) == 0) {
            throw new PortMapParseException(PortMapParseException.Reason.WRONG_OPCODE, "a request, not a response");
        }
        int opcode = opcodeByte & 0x7F;
        buffer.get();
        int result = buffer.get() & 0xFF;
        long lifetime = Integer.toUnsignedLong(buffer.getInt());
        long epoch = Integer.toUnsignedLong(buffer.getInt());
        buffer.position(HEADER_BYTES);
        if (opcode == OPCODE_ANNOUNCE) {
            return new Response(opcode, result, lifetime, epoch, new byte[0], 0, 0, 0, null);
        }
        if (opcode != OPCODE_MAP) {
            throw new PortMapParseException(PortMapParseException.Reason.WRONG_OPCODE, "opcode " + opcode);
        }
        if (length < HEADER_BYTES + MAP_BYTES) {
            throw new PortMapParseException(PortMapParseException.Reason.TRUNCATED,
                    "MAP response of " + length + " bytes");
        }
        byte[] nonce = new byte[NONCE_BYTES];
        buffer.get(nonce);
        int protocol = buffer.get() & 0xFF;
        buffer.position(buffer.position() + 3);
        int internalPort = buffer.getShort() & 0xFFFF;
        int externalPort = buffer.getShort() & 0xFFFF;
        byte[] address = new byte[16];
        buffer.get(address);
        InetAddress external = fromWire(address);
        if (result == SUCCESS && (protocol != UDP || externalPort == 0)) {
            throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD,
                    "successful MAP with protocol " + protocol + " and external port " + externalPort);
        }
        return new Response(opcode, result, lifetime, epoch, nonce, protocol, internalPort, externalPort, external);
    }

    private static ByteBuffer header(int opcode, long lifetimeSeconds, InetAddress clientAddress, int bodyBytes) {
        if (lifetimeSeconds < 0 || lifetimeSeconds > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("lifetime out of range: " + lifetimeSeconds);
        }
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + bodyBytes);
        buffer.put((byte) VERSION);
        buffer.put((byte) opcode);
        buffer.putShort((short) 0);
        buffer.putInt((int) lifetimeSeconds);
        buffer.put(wire(clientAddress));
        return buffer;
    }

    /** An address as the 16 bytes of RFC 6887 §5: IPv6 as is, IPv4 as ::ffff:a.b.c.d. */
    static byte[] wire(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length == 16) {
            return bytes;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(bytes, 0, mapped, 12, 4);
        return mapped;
    }

    /** The 16 wire bytes as an address, an IPv4-mapped one as IPv4. */
    static InetAddress fromWire(byte[] bytes) {
        try {
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= bytes[i] == 0;
            }
            mapped &= bytes[10] == (byte) 0xFF && bytes[11] == (byte) 0xFF;
            if (mapped) {
                return InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16));
            }
            return Inet6Address.getByAddress(null, bytes, null);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("16 bytes are always an address", e);
        }
    }

    private static InetAddress ipv4Any() {
        try {
            return Inet4Address.getByAddress(new byte[4]);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 0xFFFF) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }
}
