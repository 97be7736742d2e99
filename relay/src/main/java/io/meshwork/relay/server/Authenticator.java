package io.meshwork.relay.server;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.ChallengeIssuer;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayHandshake;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.protocol.relay.UdpSessionKey;
import io.meshwork.relay.auth.CredentialVerdict;
import io.meshwork.relay.auth.DeviceCredentialVerifier;
import java.time.Instant;

/**
 * The relay's side of the handshake ({@link RelayHandshake}), independent of transport: a hello gets a
 * stateless challenge, an auth frame is checked for a fresh challenge, a valid proof of key possession, and
 * then a valid device certificate.
 */
final class Authenticator {

    private final RelayKeyPair relayKeys;
    private final ChallengeIssuer issuer;
    private final DeviceCredentialVerifier verifier;

    Authenticator(RelayKeyPair relayKeys, ChallengeIssuer issuer, DeviceCredentialVerifier verifier) {
        this.relayKeys = relayKeys;
        this.issuer = issuer;
        this.verifier = verifier;
    }

    /** The answer to a hello from {@code source}: a challenge, or a refusal of its version. */
    RelayFrame challenge(ClientHello hello, String source, Instant now) {
        if (hello.version() != RelayHandshake.VERSION) {
            return new AuthResult(AuthStatus.UNSUPPORTED_VERSION, "relay speaks version " + RelayHandshake.VERSION);
        }
        return new ServerChallenge(RelayHandshake.VERSION, relayKeys.publicKey(),
                issuer.issue(hello.clientKey(), source, now));
    }

    /** The UDP session key for {@code auth}, once {@link #authenticate} accepted it (its proof verified). */
    UdpSessionKey udpSessionKey(ClientAuth auth) {
        return RelayHandshake.relaySessionKey(relayKeys, auth.clientKey(), auth.challenge())
                .orElseThrow(() -> new IllegalStateException("a verified proof implies a usable client key"));
    }

    CredentialVerdict authenticate(ClientAuth auth, String source, Instant now) {
        if (!issuer.isValid(auth.challenge(), auth.clientKey(), source, now)) {
            return new CredentialVerdict.Refused(AuthStatus.STALE_CHALLENGE, "challenge expired or not ours");
        }
        if (!RelayHandshake.verify(relayKeys, auth.clientKey(), auth.challenge(), auth.certificate(), auth.proof())) {
            return new CredentialVerdict.Refused(AuthStatus.BAD_PROOF, "proof of key possession failed");
        }
        return verifier.verify(auth.certificate(), auth.clientKey(), now);
    }
}
