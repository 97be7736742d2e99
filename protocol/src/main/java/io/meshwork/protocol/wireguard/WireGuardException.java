package io.meshwork.protocol.wireguard;

/** A WireGuard message that must be dropped, and why. Checked: every caller decides what dropping means. */
public final class WireGuardException extends Exception {

    /** Why a message was rejected; devices count drops by reason. */
    public enum Reason {
        WRONG_SIZE,
        UNKNOWN_TYPE,
        BAD_MAC1,
        BAD_MAC2,
        DECRYPTION_FAILED,
        UNKNOWN_PEER,
        UNKNOWN_INDEX,
        REPLAYED_TIMESTAMP,
        REPLAYED_COUNTER,
        INVALID_PUBLIC_KEY,
        UNEXPECTED_STATE,
        KEY_EXPIRED
    }

    private final Reason reason;

    public WireGuardException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
