package io.meshwork.protocol.net;

/** Text that is not the address, endpoint or prefix it should be; the message names the text and is fit to print. */
public final class InvalidAddressException extends IllegalArgumentException {

    public InvalidAddressException(String message) {
        super(message);
    }
}
