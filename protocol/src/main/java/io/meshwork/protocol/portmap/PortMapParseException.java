package io.meshwork.protocol.portmap;

/**
 * A reply from a gateway is not one of the port-mapping messages this codec accepts (PCP, NAT-PMP, SSDP, the IGD
 * description or a SOAP answer). The {@link #reason()} says which rule it broke, so callers count drops by cause.
 */
public final class PortMapParseException extends Exception {

    /** Why a reply was rejected. */
    public enum Reason {
        /** Shorter than the fixed part of its message. */
        TRUNCATED,
        /** Larger than the codec reads at most. */
        OVERSIZED,
        /** The version is not the one asked in (PCP 2, NAT-PMP 0). */
        WRONG_VERSION,
        /** Not a response, or the answer to another opcode than the one asked. */
        WRONG_OPCODE,
        /** A field has a value the protocol does not allow. */
        BAD_FIELD,
        /** Text that is not the HTTP, XML or SOAP the codec expects. */
        MALFORMED_TEXT
    }

    private final Reason reason;

    public PortMapParseException(Reason reason, String detail) {
        super(reason + ": " + detail);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
