package io.meshwork.protocol.relay;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Issues and checks handshake challenges without keeping state per client, so a flood of hellos from spoofed
 * addresses costs the relay nothing: a challenge is the issue time (8 bytes, epoch seconds) and a 16-byte
 * HMAC over that time, the client's key and the address the hello came from, under a secret that never
 * leaves this process.
 */
public final class ChallengeIssuer {

    private static final int TIME_BYTES = 8;
    private static final int TAG_BYTES = RelayHandshake.CHALLENGE_BYTES - TIME_BYTES;

    private final SecretKeySpec secret;
    private final Duration lifetime;

    public ChallengeIssuer(SecureRandom random, Duration lifetime) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        this.secret = new SecretKeySpec(bytes, "HmacSHA256");
        this.lifetime = lifetime;
    }

    /** A challenge for {@code clientKey} at {@code source} (any stable text naming the client's address). */
    public ByteBuffer issue(RelayKey clientKey, String source, Instant now) {
        long seconds = now.getEpochSecond();
        ByteBuffer challenge = ByteBuffer.allocate(RelayHandshake.CHALLENGE_BYTES);
        challenge.putLong(seconds);
        challenge.put(tag(seconds, clientKey, source));
        return challenge.flip();
    }

    /** True when this issuer made {@code challenge} for this key and source within the lifetime. */
    public boolean isValid(ByteBuffer challenge, RelayKey clientKey, String source, Instant now) {
        if (challenge.remaining() != RelayHandshake.CHALLENGE_BYTES) {
            return false;
        }
        ByteBuffer in = challenge.duplicate();
        long seconds = in.getLong();
        byte[] given = new byte[TAG_BYTES];
        in.get(given);
        long age = now.getEpochSecond() - seconds;
        boolean fresh = age >= -1 && age <= lifetime.toSeconds();
        return MessageDigest.isEqual(tag(seconds, clientKey, source), given) && fresh;
    }

    private byte[] tag(long seconds, RelayKey clientKey, String source) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(secret);
            mac.update(ByteBuffer.allocate(TIME_BYTES).putLong(0, seconds));
            mac.update(clientKey.unsafeBytes());
            mac.update(source.getBytes(StandardCharsets.UTF_8));
            byte[] full = mac.doFinal();
            byte[] tag = new byte[TAG_BYTES];
            System.arraycopy(full, 0, tag, 0, TAG_BYTES);
            return tag;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
        }
    }
}
