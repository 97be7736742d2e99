package io.meshwork.relay.control;

/** Control could not be reached or refused a request; the message says which, with the HTTP status if any. */
public final class ControlException extends Exception {

    /** The HTTP status control answered, 0 when it did not answer. */
    private final int status;

    public ControlException(String message) {
        this(message, 0);
    }

    public ControlException(String message, int status) {
        super(message);
        this.status = status;
    }

    public ControlException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
    }

    /** The HTTP status control answered, 0 when it did not answer (connection failed, timeout). */
    public int status() {
        return status;
    }
}
