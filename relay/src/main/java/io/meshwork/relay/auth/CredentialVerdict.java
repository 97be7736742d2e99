package io.meshwork.relay.auth;

import io.meshwork.protocol.relay.AuthStatus;

/** The outcome of checking a device certificate. */
public sealed interface CredentialVerdict {

    record Accepted(VerifiedDevice device) implements CredentialVerdict {
    }

    /** {@code status} goes to the client; {@code reason} is a short human-readable explanation. */
    record Refused(AuthStatus status, String reason) implements CredentialVerdict {
    }
}
