package io.meshwork.protocol.wireguard;

import org.bouncycastle.crypto.digests.Blake2sDigest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * The BLAKE2s functions of WireGuard §5.4: HASH, MAC (keyed BLAKE2s-128), HMAC (HMAC-BLAKE2s) and the
 * HKDF-style KDF1/2/3 built from it.
 */
final class Blake2s {

    static final int HASH_LENGTH = 32;
    static final int MAC_LENGTH = 16;

    private Blake2s() {}

    /** HASH(input...): BLAKE2s-256 over the concatenation. */
    static byte[] hash(byte[]... inputs) {
        Blake2sDigest digest = new Blake2sDigest(256);
        for (byte[] input : inputs) {
            digest.update(input, 0, input.length);
        }
        byte[] out = new byte[HASH_LENGTH];
        digest.doFinal(out, 0);
        return out;
    }

    /** MAC(key, input): keyed BLAKE2s with a 16-byte output, over {@code input[offset, offset+length)}. */
    static byte[] mac(byte[] key, byte[] input, int offset, int length) {
        Blake2sDigest digest = new Blake2sDigest(key, MAC_LENGTH, null, null);
        digest.update(input, offset, length);
        byte[] out = new byte[MAC_LENGTH];
        digest.doFinal(out, 0);
        return out;
    }

    /** HMAC(key, input...) with BLAKE2s (block size 64). */
    static byte[] hmac(byte[] key, byte[]... inputs) {
        HMac hmac = new HMac(new Blake2sDigest(256));
        hmac.init(new KeyParameter(key));
        for (byte[] input : inputs) {
            hmac.update(input, 0, input.length);
        }
        byte[] out = new byte[HASH_LENGTH];
        hmac.doFinal(out, 0);
        return out;
    }

    /**
     * KDF_n(key, input) of WireGuard §5.4: τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1),
     * τi = HMAC(τ0, τ(i-1) || i). Returns τ1..τn.
     */
    static byte[][] kdf(int n, byte[] key, byte[] input) {
        byte[] secret = hmac(key, input);
        byte[][] outputs = new byte[n][];
        byte[] previous = new byte[0];
        for (int i = 1; i <= n; i++) {
            previous = hmac(secret, previous, new byte[] {(byte) i});
            outputs[i - 1] = previous;
        }
        return outputs;
    }
}
