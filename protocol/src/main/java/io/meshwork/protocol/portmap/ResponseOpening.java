package io.meshwork.protocol.portmap;

import java.nio.ByteBuffer;

/** How NAT-PMP (RFC 6886) and PCP (RFC 6887) responses open alike: a version byte, then the opcode byte. */
final class ResponseOpening {

    private ResponseOpening() {}

    /**
     * Checks the opening of a response of {@code length} bytes: no more than {@code maxBytes}, at least a version and
     * an opcode, the version {@code version}. Answers the datagram to read on from the opcode.
     *
     * @throws PortMapParseException OVERSIZED, TRUNCATED or WRONG_VERSION
     */
    static ByteBuffer read(byte[] datagram, int length, int maxBytes, int version) throws PortMapParseException {
        if (length > maxBytes) {
            throw new PortMapParseException(PortMapParseException.Reason.OVERSIZED, length + " bytes");
        }
        if (length < 2) {
            throw new PortMapParseException(PortMapParseException.Reason.TRUNCATED, length + " bytes");
        }
        ByteBuffer buffer = ByteBuffer.wrap(datagram, 0, length);
        int actual = buffer.get() & 0xFF;
        if (actual != version) {
            throw new PortMapParseException(PortMapParseException.Reason.WRONG_VERSION, "version " + actual);
        }
        return buffer;
    }
}
