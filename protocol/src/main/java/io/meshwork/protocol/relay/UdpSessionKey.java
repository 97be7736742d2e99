package io.meshwork.protocol.relay;

import io.meshwork.protocol.relay.RelayFrame.Sealed;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The key of one UDP session between a client and the relay, derived by both ends from the handshake
 * ({@link RelayHandshake#clientSessionKey}, {@link RelayHandshake#relaySessionKey}):
 *
 * <pre>
 *   key = HMAC-SHA256(X25519(client, relay), "meshwork relay udp session v2" | R | K | C)
 *   id  = first 8 bytes of HMAC-SHA256(key, "id"), big-endian (never 0)
 *   tag = first 16 bytes of HMAC-SHA256(key, id (8) | counter (8) | inner frame)
 * </pre>
 *
 * where R is the relay's handshake key, K the client's key and C the challenge the client answered. Only the
 * client and the relay know the X25519 secret, so only they can tag a {@link Sealed} frame; the counter, checked
 * against a replay window at the relay, stops a captured datagram from being sent again. Thread-safe.
 */
public final class UdpSessionKey {

    /** Bytes of a truncated HMAC-SHA256 tag (HMAC-SHA256-128, RFC 4868 §2.3 truncation). */
    public static final int TAG_BYTES = 16;

    private static final byte[] LABEL = "meshwork relay udp session v2".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ID_LABEL = "id".getBytes(StandardCharsets.US_ASCII);

    private final long id;
    private final Mac mac;

    private UdpSessionKey(byte[] key) {
        this.mac = hmac(key);
        long derived = ByteBuffer.wrap(mac.doFinal(ID_LABEL)).getLong();
        this.id = derived == 0 ? 1 : derived;
    }

    static UdpSessionKey derive(byte[] shared, RelayKey relayKey, RelayKey clientKey, ByteBuffer challenge) {
        Mac extract = hmac(shared);
        extract.update(LABEL);
        extract.update(relayKey.unsafeBytes());
        extract.update(clientKey.unsafeBytes());
        extract.update(challenge.duplicate());
        return new UdpSessionKey(extract.doFinal());
    }

    /** The session id both ends compute; 0 never occurs (it means "no session" in {@link RelayFrame.AuthResult}). */
    public long id() {
        return id;
    }

    /** {@code frame} sealed as datagram number {@code counter} of this session. */
    public Sealed seal(long counter, RelayFrame frame) {
        ByteBuffer inner = ByteBuffer.wrap(RelayFrameCodec.encodeFrame(frame));
        return new Sealed(id, counter, ByteBuffer.wrap(tag(counter, inner)), inner);
    }

    /** Whether {@code sealed} names this session and its tag verifies; compares in constant time. */
    public boolean verify(Sealed sealed) {
        if (sealed.sessionId() != id) {
            return false;
        }
        byte[] given = new byte[TAG_BYTES];
        sealed.tag().duplicate().get(given);
        return MessageDigest.isEqual(tag(sealed.counter(), sealed.inner()), given);
    }

    private synchronized byte[] tag(long counter, ByteBuffer inner) {
        mac.update(ByteBuffer.allocate(2 * Long.BYTES).putLong(id).putLong(counter).flip());
        mac.update(inner.duplicate());
        byte[] full = mac.doFinal();
        byte[] tag = new byte[TAG_BYTES];
        System.arraycopy(full, 0, tag, 0, TAG_BYTES);
        return tag;
    }

    private static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (InvalidKeyException e) {
            throw new IllegalArgumentException("unusable session key", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return "UdpSessionKey(" + Long.toUnsignedString(id, 16) + ")";
    }
}
