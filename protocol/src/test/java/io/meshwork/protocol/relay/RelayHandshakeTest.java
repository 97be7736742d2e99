package io.meshwork.protocol.relay;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RelayHandshakeTest {

    private final SecureRandom random = new SecureRandom();
    private final RelayKeyPair relay = RelayKeyPair.generate(random);
    private final RelayKeyPair client = RelayKeyPair.generate(random);
    private final ByteBuffer certificate = ByteBuffer.wrap(new byte[] {0x30, 0x03, 1, 2, 3});
    private final ByteBuffer challenge = ByteBuffer.allocate(RelayHandshake.CHALLENGE_BYTES);

    @Test
    void holderOfThePrivateKeyProves() {
        byte[] proof = RelayHandshake.prove(client, relay.publicKey(), challenge, certificate).orElseThrow();
        assertTrue(RelayHandshake.verify(relay, client.publicKey(), challenge, certificate, ByteBuffer.wrap(proof)));
    }

    @Test
    void proofForAnotherKeyChallengeOrCertificateFails() {
        RelayKeyPair impostor = RelayKeyPair.generate(random);
        byte[] proof = RelayHandshake.prove(impostor, relay.publicKey(), challenge, certificate).orElseThrow();
        assertFalse(RelayHandshake.verify(relay, client.publicKey(), challenge, certificate, ByteBuffer.wrap(proof)));

        byte[] honest = RelayHandshake.prove(client, relay.publicKey(), challenge, certificate).orElseThrow();
        ByteBuffer otherChallenge = ByteBuffer.allocate(RelayHandshake.CHALLENGE_BYTES).put(0, (byte) 1);
        assertFalse(RelayHandshake.verify(relay, client.publicKey(), otherChallenge, certificate,
                ByteBuffer.wrap(honest)));
        ByteBuffer otherCertificate = ByteBuffer.wrap(new byte[] {0x30, 0x03, 1, 2, 4});
        assertFalse(RelayHandshake.verify(relay, client.publicKey(), challenge, otherCertificate,
                ByteBuffer.wrap(honest)));
    }

    @Test
    void lowOrderKeysProveNothing() {
        RelayKey zero = RelayKey.of(new byte[32]);
        assertTrue(RelayHandshake.prove(client, zero, challenge, certificate).isEmpty());
        assertFalse(RelayHandshake.verify(relay, zero, challenge, certificate, ByteBuffer.allocate(32)));
    }

    @Test
    void challengesAreBoundToKeySourceAndTime() {
        ChallengeIssuer issuer = new ChallengeIssuer(random, Duration.ofSeconds(30));
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        ByteBuffer issued = issuer.issue(client.publicKey(), "udp/198.51.100.1:4000", now);
        assertTrue(issuer.isValid(issued, client.publicKey(), "udp/198.51.100.1:4000", now.plusSeconds(29)));
        assertFalse(issuer.isValid(issued, client.publicKey(), "udp/198.51.100.1:4000", now.plusSeconds(31)));
        assertFalse(issuer.isValid(issued, client.publicKey(), "udp/198.51.100.1:4001", now));
        assertFalse(issuer.isValid(issued, relay.publicKey(), "udp/198.51.100.1:4000", now));
        ChallengeIssuer other = new ChallengeIssuer(random, Duration.ofSeconds(30));
        assertFalse(other.isValid(issued, client.publicKey(), "udp/198.51.100.1:4000", now));
        assertFalse(issuer.isValid(ByteBuffer.allocate(3), client.publicKey(), "udp/198.51.100.1:4000", now));
    }
}
