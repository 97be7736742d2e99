package io.meshwork.protocol.relay;

/** A relay frame could not be decoded; {@link #reason()} says how it was malformed. */
public final class RelayFrameException extends Exception {

    /** How a frame was malformed. Receivers count drops by these. */
    public enum Reason {
        /** Fewer bytes than the frame's fixed fields need. */
        TOO_SHORT,
        /** Longer than {@link RelayFrameCodec#MAX_FRAME_BYTES}, or a field longer than its bound. */
        OVERSIZED,
        /** A datagram without the relay magic. */
        BAD_MAGIC,
        /** A type byte this version does not know. */
        UNKNOWN_TYPE,
        /** A field with a value outside its range (an address family, a status code, bad UTF-8). */
        BAD_FIELD
    }

    private final Reason reason;

    public RelayFrameException(Reason reason, String message) {
        super(reason + ": " + message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
