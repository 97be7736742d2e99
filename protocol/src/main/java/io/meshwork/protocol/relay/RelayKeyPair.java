package io.meshwork.protocol.relay;

import java.security.SecureRandom;
import org.bouncycastle.math.ec.rfc7748.X25519;

/** An X25519 key pair: a device's WireGuard key, or the relay's own handshake key. */
public final class RelayKeyPair {

    private final byte[] privateKey;
    private final RelayKey publicKey;

    private RelayKeyPair(byte[] privateKey) {
        this.privateKey = privateKey;
        byte[] publicBytes = new byte[X25519.POINT_SIZE];
        X25519.generatePublicKey(privateKey, 0, publicBytes, 0);
        this.publicKey = RelayKey.wrap(publicBytes);
    }

    public static RelayKeyPair generate(SecureRandom random) {
        byte[] privateKey = new byte[X25519.SCALAR_SIZE];
        X25519.generatePrivateKey(random, privateKey);
        return new RelayKeyPair(privateKey);
    }

    /** The pair for a 32-byte private key (as {@code wg genkey} makes, decoded from base64); the bytes are copied. */
    public static RelayKeyPair fromPrivateKey(byte[] privateKey) {
        if (privateKey.length != X25519.SCALAR_SIZE) {
            throw new IllegalArgumentException("an X25519 private key has 32 bytes, not " + privateKey.length);
        }
        return new RelayKeyPair(privateKey.clone());
    }

    public RelayKey publicKey() {
        return publicKey;
    }

    /**
     * X25519(private, peer) (RFC 7748 §6.1).
     *
     * @return the shared secret, or null when it is all zeros: {@code peer} is a low-order point, and a proof
     *     built on it would prove nothing
     */
    byte[] agree(RelayKey peer) {
        byte[] shared = new byte[X25519.POINT_SIZE];
        return X25519.calculateAgreement(privateKey, 0, peer.unsafeBytes(), 0, shared, 0) ? shared : null;
    }

    @Override
    public String toString() {
        return "RelayKeyPair(" + publicKey + ")";
    }
}
