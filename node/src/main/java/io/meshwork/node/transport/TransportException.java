package io.meshwork.node.transport;

/** A socket could not be opened or used; the message says which and why. */
public final class TransportException extends RuntimeException {
    public TransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
