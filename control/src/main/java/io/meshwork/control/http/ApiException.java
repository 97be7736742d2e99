package io.meshwork.control.http;

/** A request that must be answered with {@code status} and a JSON error body saying why. */
final class ApiException extends RuntimeException {

    final int status;

    ApiException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}
