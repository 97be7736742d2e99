package io.meshwork.protocol.relay;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The proof a client gives that it holds the private half of the WireGuard key its certificate names.
 *
 * <p>The relay sends its X25519 key R and a challenge C; the client with key pair (k, K) answers with
 * {@code HMAC-SHA256(X25519(k, R), LABEL | R | K | C | SHA-256(certificate))}. Only a holder of k (or of the
 * relay's r) can compute it; binding the challenge stops replay, and binding the certificate stops a
 * man in the middle from swapping in another certificate for the same key.
 */
public final class RelayHandshake {

    /**
     * The protocol version in hello and challenge frames. Version 2 seals every UDP frame a client sends after the
     * handshake ({@link RelayFrame.Sealed}); the relay refuses version 1 hellos.
     */
    public static final int VERSION = 2;
    public static final int CHALLENGE_BYTES = 24;
    public static final int PROOF_BYTES = 32;
    /**
     * A hello over UDP must be padded to at least this many bytes (the codec ignores trailing bytes), so the
     * challenge it triggers is no larger than the hello: the relay cannot be used to amplify spoofed traffic.
     */
    public static final int MIN_UDP_HELLO_BYTES = 64;

    private static final byte[] LABEL = "meshwork relay auth v1".getBytes(StandardCharsets.US_ASCII);

    private RelayHandshake() {}

    /** The client's proof; empty when the relay's key is a low-order point (a hostile relay). */
    public static Optional<byte[]> prove(RelayKeyPair client, RelayKey relayKey, ByteBuffer challenge,
            ByteBuffer certificate) {
        byte[] shared = client.agree(relayKey);
        if (shared == null) {
            return Optional.empty();
        }
        return Optional.of(mac(shared, relayKey, client.publicKey(), challenge, certificate));
    }

    /** The relay's check of a client's proof, in constant time. */
    public static boolean verify(RelayKeyPair relay, RelayKey clientKey, ByteBuffer challenge,
            ByteBuffer certificate, ByteBuffer proof) {
        byte[] shared = relay.agree(clientKey);
        if (shared == null || proof.remaining() != PROOF_BYTES) {
            return false;
        }
        byte[] expected = mac(shared, relay.publicKey(), clientKey, challenge, certificate);
        byte[] given = new byte[PROOF_BYTES];
        proof.duplicate().get(given);
        return MessageDigest.isEqual(expected, given);
    }

    /**
     * The key of the UDP session the client opens by answering {@code challenge} from the relay with key
     * {@code relayKey}; empty when that key is a low-order point.
     */
    public static Optional<UdpSessionKey> clientSessionKey(RelayKeyPair client, RelayKey relayKey,
            ByteBuffer challenge) {
        byte[] shared = client.agree(relayKey);
        return shared == null ? Optional.empty()
                : Optional.of(UdpSessionKey.derive(shared, relayKey, client.publicKey(), challenge));
    }

    /** The relay's side of {@link #clientSessionKey}, for a client whose proof verified. */
    public static Optional<UdpSessionKey> relaySessionKey(RelayKeyPair relay, RelayKey clientKey,
            ByteBuffer challenge) {
        byte[] shared = relay.agree(clientKey);
        return shared == null ? Optional.empty()
                : Optional.of(UdpSessionKey.derive(shared, relay.publicKey(), clientKey, challenge));
    }

    private static byte[] mac(byte[] shared, RelayKey relayKey, RelayKey clientKey, ByteBuffer challenge,
            ByteBuffer certificate) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(shared, "HmacSHA256"));
            mac.update(LABEL);
            mac.update(relayKey.unsafeBytes());
            mac.update(clientKey.unsafeBytes());
            mac.update(challenge.duplicate());
            mac.update(MessageDigest.getInstance("SHA-256").digest(toArray(certificate)));
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 and SHA-256 are required of every JDK", e);
        }
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
