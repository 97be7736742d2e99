package io.meshwork.protocol.probe;

/** A probe datagram was refused; {@link #reason()} says why. Receivers count drops by reason. */
public final class ProbeException extends Exception {

    /** Why a probe datagram was refused. */
    public enum Reason {
        /** Shorter than the fixed header and tag, or longer than {@link ProbeCodec#MAX_DATAGRAM}. */
        BAD_LENGTH,
        /** Not a probe datagram, or a version this node does not speak. */
        BAD_HEADER,
        /** The sender's key is not one of this node's peers. */
        UNKNOWN_SENDER,
        /** The tag did not verify: forged, corrupted, or sealed for another node. */
        NOT_AUTHENTIC,
        /** Authentic, but the plaintext is malformed (unknown type, bad address, trailing bytes). */
        MALFORMED,
        /** Authentic, but sent further from this node's clock than the allowed skew ({@link ProbeFreshness}). */
        STALE,
        /** Authentic, but its counter was accepted before: a replay ({@link ProbeFreshness}). */
        REPLAYED
    }

    private final Reason reason;

    public ProbeException(Reason reason, String message) {
        super(reason + ": " + message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
