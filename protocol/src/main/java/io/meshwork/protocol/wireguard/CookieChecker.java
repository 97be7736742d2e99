package io.meshwork.protocol.wireguard;

import java.net.InetSocketAddress;
import java.security.SecureRandom;

/**
 * The responder's side of cookies (WireGuard §5.4.7): under load, a handshake message is only processed when
 * its mac2 proves the sender can receive at its source address; otherwise it is answered with a cookie reply.
 * The cookie is MAC(R_m, source ip || port) with a secret R_m that changes every two minutes. Thread-safe.
 */
public final class CookieChecker {

    /** WireGuard's COOKIE_REFRESH_TIME. */
    public static final long SECRET_LIFETIME_NANOS = 120_000_000_000L;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final LocalIdentity local;
    private byte[] secret = new byte[32];
    private long secretCreatedNanos = Long.MIN_VALUE;

    public CookieChecker(LocalIdentity local) {
        this.local = local;
    }

    /** True when the message's mac2 was made with the cookie we would give {@code source} now. */
    public boolean mac2Valid(byte[] message, InetSocketAddress source, long nowNanos) {
        return Macs.mac2Valid(cookieFor(source, nowNanos), message);
    }

    /** A 64-byte cookie reply to {@code message} (an initiation or response) from {@code source}. */
    public byte[] createReply(byte[] message, InetSocketAddress source, long nowNanos) {
        byte[] reply = new byte[Messages.COOKIE_REPLY_SIZE];
        reply[0] = Messages.TYPE_COOKIE_REPLY;
        Messages.writeIndex(reply, Messages.COOKIE_RECEIVER, Messages.senderIndex(message));
        byte[] nonce = new byte[XChaChaPoly.NONCE_LENGTH];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, reply, Messages.COOKIE_NONCE, nonce.length);
        byte[] encrypted = XChaChaPoly.seal(local.cookieKey, nonce, cookieFor(source, nowNanos), Macs.mac1Of(message));
        System.arraycopy(encrypted, 0, reply, Messages.COOKIE_ENCRYPTED, encrypted.length);
        return reply;
    }

    private synchronized byte[] cookieFor(InetSocketAddress source, long nowNanos) {
        if (secretCreatedNanos == Long.MIN_VALUE || nowNanos - secretCreatedNanos >= SECRET_LIFETIME_NANOS) {
            RANDOM.nextBytes(secret);
            secretCreatedNanos = nowNanos;
        }
        byte[] address = source.getAddress().getAddress();
        byte[] input = new byte[address.length + 2];
        System.arraycopy(address, 0, input, 0, address.length);
        input[address.length] = (byte) (source.getPort() >>> 8);
        input[address.length + 1] = (byte) source.getPort();
        return Blake2s.mac(secret, input, 0, input.length);
    }
}
