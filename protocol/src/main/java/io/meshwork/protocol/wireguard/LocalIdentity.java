package io.meshwork.protocol.wireguard;

/**
 * A device's static key pair with what WireGuard derives from it once: the hash state after mixing in the
 * public key (responder side), the mac1 key peers use towards us, and the cookie encryption key.
 */
public final class LocalIdentity {

    private final Key privateKey;
    private final Key publicKey;
    final byte[] responderHash;
    final byte[] mac1Key;
    final byte[] cookieKey;

    public LocalIdentity(Key privateKey) {
        this.privateKey = privateKey;
        this.publicKey = privateKey.publicKey();
        this.responderHash = Blake2s.hash(Noise.INITIAL_HASH, publicKey.raw());
        this.mac1Key = Blake2s.hash(Noise.LABEL_MAC1, publicKey.raw());
        this.cookieKey = Blake2s.hash(Noise.LABEL_COOKIE, publicKey.raw());
    }

    public Key privateKey() {
        return privateKey;
    }

    public Key publicKey() {
        return publicKey;
    }
}
