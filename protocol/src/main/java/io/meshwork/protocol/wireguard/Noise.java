package io.meshwork.protocol.wireguard;

import java.nio.charset.StandardCharsets;
import org.bouncycastle.math.ec.rfc7748.X25519;

/** The constants and DH of Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard §5.4 instantiates it. */
final class Noise {

    static final byte[] CONSTRUCTION = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".getBytes(StandardCharsets.US_ASCII);
    static final byte[] IDENTIFIER = "WireGuard v1 zx2c4 Jason@zx2c4.com".getBytes(StandardCharsets.US_ASCII);
    static final byte[] LABEL_MAC1 = "mac1----".getBytes(StandardCharsets.US_ASCII);
    static final byte[] LABEL_COOKIE = "cookie--".getBytes(StandardCharsets.US_ASCII);

    /** C_i = HASH(CONSTRUCTION). */
    static final byte[] INITIAL_CHAINING_KEY = Blake2s.hash(CONSTRUCTION);
    /** H_i = HASH(C_i || IDENTIFIER), before mixing in the responder's static key. */
    static final byte[] INITIAL_HASH = Blake2s.hash(INITIAL_CHAINING_KEY, IDENTIFIER);

    private Noise() {}

    /**
     * DH(private, public) over Curve25519.
     *
     * @throws WireGuardException when the result is all zeros (a low-order public key), which WireGuard rejects
     */
    static byte[] dh(byte[] privateKey, byte[] publicKey) throws WireGuardException {
        byte[] shared = new byte[32];
        if (!X25519.calculateAgreement(privateKey, 0, publicKey, 0, shared, 0)) {
            throw new WireGuardException(WireGuardException.Reason.INVALID_PUBLIC_KEY,
                    "Curve25519 gave an all-zero shared secret");
        }
        return shared;
    }
}
