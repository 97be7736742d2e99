package io.meshwork.protocol.stun;

/**
 * A datagram is not a STUN message this codec accepts. The {@link #reason()} says which rule it broke,
 * so callers can count drops by cause without parsing the message text.
 */
public final class StunParseException extends Exception {

    /** Why a datagram was rejected. */
    public enum Reason {
        /** Fewer than the 20 header bytes of RFC 8489 §5. */
        TRUNCATED_HEADER,
        /** The two most significant bits are not zero (RFC 8489 §5): not STUN at all. */
        NOT_STUN,
        /** The header length is not a multiple of 4 or exceeds the bytes received (RFC 8489 §5). */
        BAD_LENGTH,
        /** The magic cookie is not 0x2112A442 (RFC 8489 §5) and the caller did not accept RFC 3489 messages. */
        WRONG_MAGIC_COOKIE,
        /** Larger than {@link StunDecoder#MAX_MESSAGE_BYTES}. */
        OVERSIZED,
        /** An attribute header or value runs past the end of the message (RFC 8489 §14). */
        ATTRIBUTE_OVERRUN,
        /** A known attribute has a value of the wrong size or with invalid contents. */
        BAD_ATTRIBUTE,
        /** FINGERPRINT does not match the CRC-32 of the message (RFC 8489 §14.7). */
        BAD_FINGERPRINT,
        /** An attribute follows FINGERPRINT, which must be last (RFC 8489 §14.7). */
        FINGERPRINT_NOT_LAST
    }

    private final Reason reason;

    public StunParseException(Reason reason, String detail) {
        super(reason + ": " + detail);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
