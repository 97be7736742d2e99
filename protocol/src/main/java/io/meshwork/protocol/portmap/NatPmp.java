package io.meshwork.protocol.portmap;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * NAT-PMP (RFC 6886) as a node uses it: the external address request, and UDP mapping requests (lifetime 0 with
 * external port 0 deletes, §3.4). Building and parsing are static functions over bytes.
 */
public final class NatPmp {

    /** The server port on the gateway (RFC 6886 §3.1), shared with PCP. */
    public static final int SERVER_PORT = 5351;
    public static final int VERSION = 0;
    public static final int OPCODE_EXTERNAL_ADDRESS = 0;
    public static final int OPCODE_MAP_UDP = 1;
    /** Result codes of RFC 6886 §3.5. */
    public static final int SUCCESS = 0;
    public static final int UNSUPPORTED_VERSION = 1;
    public static final int NOT_AUTHORIZED = 2;
    public static final int NETWORK_FAILURE = 3;
    public static final int OUT_OF_RESOURCES = 4;
    public static final int UNSUPPORTED_OPCODE = 5;
    /** The largest reply read: a PCP server's longest message (a NAT-PMP reply has 16 bytes at most). */
    public static final int MAX_MESSAGE_BYTES = 1100;
    private static final int RESPONSE_BIT = 0x80;
    /** Every response starts with version, opcode, result code and epoch (RFC 6886 §3.5). */
    private static final int COMMON_BYTES = 8;

    private NatPmp() {}

    /**
     * A response.
     *
     * @param epochSeconds    seconds since the gateway's port-mapping table was initialised (§3.6)
     * @param externalAddress the external address (external address responses), else null
     * @param internalPort    the internal port (mapping responses), else 0
     * @param externalPort    the mapped external port (mapping responses), else 0
     * @param lifetimeSeconds the mapping's lifetime (mapping responses), else 0
     */
    public record Response(int opcode, int resultCode, long epochSeconds, InetAddress externalAddress,
            int internalPort, int externalPort, long lifetimeSeconds) {

        public boolean success() {
            return resultCode == SUCCESS;
        }
    }

    /** The external address request (RFC 6886 §3.2): version and opcode 0. */
    public static byte[] externalAddressRequest() {
        return new byte[] {VERSION, OPCODE_EXTERNAL_ADDRESS};
    }

    /** A UDP mapping request (RFC 6886 §3.3); lifetime 0 and external port 0 delete the mapping (§3.4). */
    public static byte[] mapUdpRequest(int internalPort, int suggestedExternalPort, long lifetimeSeconds) {
        if (internalPort < 1 || internalPort > 0xFFFF || suggestedExternalPort < 0 || suggestedExternalPort > 0xFFFF) {
            throw new IllegalArgumentException("port out of range");
        }
        if (lifetimeSeconds < 0 || lifetimeSeconds > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("lifetime out of range: " + lifetimeSeconds);
        }
        return ByteBuffer.allocate(12)
                .put((byte) VERSION).put((byte) OPCODE_MAP_UDP).putShort((short) 0)
                .putShort((short) internalPort).putShort((short) suggestedExternalPort)
                .putInt((int) lifetimeSeconds)
                .array();
    }

    /**
     * Parses a response to {@code expectedOpcode} (the request's; the response's is it plus 128, §3.5). An error
     * response may be cut short after the epoch (RFC 6886 §3.5 lets servers send only the common part): it is read
     * with the other fields zero. Strict on the common part and the fields of a successful reply, lax on trailing
     * bytes.
     */
    public static Response parseResponse(byte[] datagram, int length, int expectedOpcode) throws PortMapParseException {
        ByteBuffer buffer = ResponseOpening.read(datagram, length, MAX_MESSAGE_BYTES, VERSION);
        int opcode = buffer.get() & 0xFF;
        if (opcode != (expectedOpcode | RESPONSE_BIT)) {
            throw new PortMapParseException(PortMapParseException.Reason.WRONG_OPCODE,
                    "opcode " + opcode + " for a request of opcode " + expectedOpcode);
        }
        if (length < COMMON_BYTES) {
            throw new PortMapParseException(PortMapParseException.Reason.TRUNCATED, length + " bytes");
        }
        int result = buffer.getShort() & 0xFFFF;
        long epoch = Integer.toUnsignedLong(buffer.getInt());
        if (result != SUCCESS) {
            return new Response(expectedOpcode, result, epoch, null, 0, 0, 0);
        }
        if (expectedOpcode == OPCODE_EXTERNAL_ADDRESS) {
            if (length < 12) {
                throw new PortMapParseException(PortMapParseException.Reason.TRUNCATED, "address reply of " + length);
            }
            byte[] address = new byte[4];
            buffer.get(address);
            try {
                return new Response(expectedOpcode, result, epoch, InetAddress.getByAddress(address), 0, 0, 0);
            } catch (UnknownHostException e) {
                throw new IllegalStateException("4 bytes are always an address", e);
            }
        }
        if (length < 16) {
            throw new PortMapParseException(PortMapParseException.Reason.TRUNCATED, "mapping reply of " + length);
        }
        int internalPort = buffer.getShort() & 0xFFFF;
        int externalPort = buffer.getShort() & 0xFFFF;
        long lifetime = Integer.toUnsignedLong(buffer.getInt());
        if (internalPort == 0) {
            throw new PortMapParseException(PortMapParseException.Reason.BAD_FIELD, "internal port 0");
        }
        return new Response(expectedOpcode, result, epoch, null, internalPort, externalPort, lifetime);
    }
}
