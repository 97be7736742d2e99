package io.meshwork.protocol.wireguard;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * XAEAD of WireGuard §5.4.7 (cookie replies): XChaCha20-Poly1305, that is HChaCha20 over the key and the
 * first 16 nonce bytes giving a subkey, then ChaCha20-Poly1305 with nonce 0x00000000 || last 8 nonce bytes.
 */
public final class XChaChaPoly {

    public static final int NONCE_LENGTH = 24;

    private XChaChaPoly() {}

    public static byte[] seal(byte[] key, byte[] nonce, byte[] plaintext, byte[] authtext) {
        ChaCha20Poly1305 aead = cipher(true, key, nonce, authtext);
        byte[] out = new byte[aead.getOutputSize(plaintext.length)];
        int written = aead.processBytes(plaintext, 0, plaintext.length, out, 0);
        try {
            aead.doFinal(out, written);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    public static byte[] open(byte[] key, byte[] nonce, byte[] ciphertext, byte[] authtext)
            throws InvalidCipherTextException {
        ChaCha20Poly1305 aead = cipher(false, key, nonce, authtext);
        byte[] out = new byte[aead.getOutputSize(ciphertext.length)];
        int written = aead.processBytes(ciphertext, 0, ciphertext.length, out, 0);
        aead.doFinal(out, written);
        return out;
    }

    private static ChaCha20Poly1305 cipher(boolean encrypt, byte[] key, byte[] nonce, byte[] authtext) {
        byte[] subkey = hChaCha20(key, nonce);
        byte[] chachaNonce = new byte[12];
        System.arraycopy(nonce, 16, chachaNonce, 4, 8);
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        aead.init(encrypt, new AEADParameters(new KeyParameter(subkey), 128, chachaNonce, authtext));
        return aead;
    }

    /** HChaCha20 (draft-irtf-cfrg-xchacha §2.2): 20 ChaCha rounds, no final addition, words 0–3 and 12–15. */
    static byte[] hChaCha20(byte[] key, byte[] nonce) {
        int[] state = new int[16];
        state[0] = 0x61707865;
        state[1] = 0x3320646e;
        state[2] = 0x79622d32;
        state[3] = 0x6b206574;
        for (int i = 0; i < 8; i++) {
            state[4 + i] = littleEndian(key, 4 * i);
        }
        for (int i = 0; i < 4; i++) {
            state[12 + i] = littleEndian(nonce, 4 * i);
        }
        for (int round = 0; round < 10; round++) {
            quarterRound(state, 0, 4, 8, 12);
            quarterRound(state, 1, 5, 9, 13);
            quarterRound(state, 2, 6, 10, 14);
            quarterRound(state, 3, 7, 11, 15);
            quarterRound(state, 0, 5, 10, 15);
            quarterRound(state, 1, 6, 11, 12);
            quarterRound(state, 2, 7, 8, 13);
            quarterRound(state, 3, 4, 9, 14);
        }
        byte[] out = new byte[32];
        int[] words = {state[0], state[1], state[2], state[3], state[12], state[13], state[14], state[15]};
        for (int i = 0; i < 8; i++) {
            for (int b = 0; b < 4; b++) {
                out[4 * i + b] = (byte) (words[i] >>> (8 * b));
            }
        }
        return out;
    }

    private static void quarterRound(int[] x, int a, int b, int c, int d) {
        x[a] += x[b];
        x[d] = Integer.rotateLeft(x[d] ^ x[a], 16);
        x[c] += x[d];
        x[b] = Integer.rotateLeft(x[b] ^ x[c], 12);
        x[a] += x[b];
        x[d] = Integer.rotateLeft(x[d] ^ x[a], 8);
        x[c] += x[d];
        x[b] = Integer.rotateLeft(x[b] ^ x[c], 7);
    }

    private static int littleEndian(byte[] bytes, int offset) {
        return (bytes[offset] & 0xFF) | (bytes[offset + 1] & 0xFF) << 8 | (bytes[offset + 2] & 0xFF) << 16
                | (bytes[offset + 3] & 0xFF) << 24;
    }
}
