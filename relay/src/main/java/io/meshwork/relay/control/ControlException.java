package io.meshwork.relay.control;

/** Control could not be reached or refused a request; the message says which, with the HTTP status if any. */
public final class ControlException extends Exception {
    public ControlException(String message) {
        super(message);
    }

    public ControlException(String message, Throwable cause) {
        super(message, cause);
    }
}
