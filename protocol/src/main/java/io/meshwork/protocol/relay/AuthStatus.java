package io.meshwork.protocol.relay;

import java.util.Optional;

/** The relay's verdict on a client's authentication, sent in {@link RelayFrame.AuthResult}. */
public enum AuthStatus {
    OK(0),
    /** The proof of possession of the WireGuard private key did not verify. */
    BAD_PROOF(1),
    /** The certificate was not issued by the control CA this relay trusts, or its signature is bad. */
    UNTRUSTED(2),
    REVOKED(3),
    EXPIRED(4),
    NOT_YET_VALID(5),
    /** The certificate names a different WireGuard key than the one the client authenticates with. */
    KEY_MISMATCH(6),
    /** The challenge echoed by the client is not one this relay issued recently to this address and key. */
    STALE_CHALLENGE(7),
    /** The certificate could not be parsed or lacks the device fields. */
    BAD_CERTIFICATE(8),
    /** A frame arrived from an address with no authenticated session: authenticate again. */
    UNAUTHENTICATED(9),
    UNSUPPORTED_VERSION(10),
    /** The relay has reached its client limit. */
    FULL(11),
    /**
     * The relay is a node's relay for one organization (docs/architecture.md, "Relay scopes"), and the certificate
     * names another (or none).
     */
    OTHER_ORGANIZATION(12);

    private final int code;

    AuthStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static Optional<AuthStatus> fromCode(int code) {
        for (AuthStatus status : values()) {
            if (status.code == code) {
                return Optional.of(status);
            }
        }
        return Optional.empty();
    }
}
