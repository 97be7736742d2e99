package io.meshwork.protocol.wireguard;

import org.bouncycastle.crypto.InvalidCipherTextException;

/**
 * The initiator's side of cookies (WireGuard §5.4.7) for one peer: remembers the mac1 of the last handshake
 * message sent, decrypts a cookie reply with it, and supplies the cookie for mac2 while it is fresh. Not
 * thread-safe: the owning peer serialises calls.
 */
public final class CookieJar {

    /** A cookie is used for mac2 for at most COOKIE_REFRESH_TIME minus a margin (wireguard-go uses 120 s - 2 s). */
    public static final long COOKIE_LIFETIME_NANOS = 118_000_000_000L;

    private final byte[] decryptionKey;
    private byte[] lastMac1;
    private byte[] cookie;
    private long cookieReceivedNanos;

    public CookieJar(Key remoteStatic) {
        this.decryptionKey = Blake2s.hash(Noise.LABEL_COOKIE, remoteStatic.raw());
    }

    /** The cookie for mac2 of the next message, or null when none is fresh. */
    public byte[] cookie(long nowNanos) {
        if (cookie == null || nowNanos - cookieReceivedNanos >= COOKIE_LIFETIME_NANOS) {
            return null;
        }
        return cookie;
    }

    /** Records the mac1 of a message just sent. */
    public void sent(byte[] mac1) {
        this.lastMac1 = mac1;
    }

    /** Takes a cookie reply for our last message. */
    public void consumeReply(byte[] reply, long nowNanos) throws WireGuardException {
        if (reply.length != Messages.COOKIE_REPLY_SIZE) {
            throw new WireGuardException(WireGuardException.Reason.WRONG_SIZE, "cookie reply of " + reply.length);
        }
        if (lastMac1 == null) {
            throw new WireGuardException(WireGuardException.Reason.UNEXPECTED_STATE, "cookie reply with nothing sent");
        }
        byte[] nonce = java.util.Arrays.copyOfRange(reply, Messages.COOKIE_NONCE, Messages.COOKIE_ENCRYPTED);
        byte[] encrypted = java.util.Arrays.copyOfRange(reply, Messages.COOKIE_ENCRYPTED, Messages.COOKIE_REPLY_SIZE);
        try {
            cookie = XChaChaPoly.open(decryptionKey, nonce, encrypted, lastMac1);
            cookieReceivedNanos = nowNanos;
        } catch (InvalidCipherTextException e) {
            throw new WireGuardException(WireGuardException.Reason.DECRYPTION_FAILED, "cannot decrypt cookie reply");
        }
    }
}
