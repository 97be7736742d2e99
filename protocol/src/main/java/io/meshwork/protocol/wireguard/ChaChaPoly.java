package io.meshwork.protocol.wireguard;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AEAD(key, counter, plaintext, authtext) of WireGuard §5.4: ChaCha20-Poly1305 (RFC 8439) with a 96-bit nonce of
 * 32 zero bits followed by the 64-bit little-endian counter. Uses the JCE implementation, which has intrinsics
 * on recent JDKs. One {@link Cipher} per thread.
 */
public final class ChaChaPoly {

    public static final int TAG_LENGTH = 16;
    private static final String ALGORITHM = "ChaCha20-Poly1305";
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance(ALGORITHM);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks " + ALGORITHM, e);
        }
    });
    private static final byte[] OTHER_NONCE = new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

    private ChaChaPoly() {}

    /** A JCE key for {@link #seal(SecretKeySpec, long, ByteBuffer, ByteBuffer, byte[])} and friends. */
    public static SecretKeySpec key(byte[] key) {
        return new SecretKeySpec(key, "ChaCha20");
    }

    static byte[] nonce(long counter) {
        byte[] nonce = new byte[12];
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (counter >>> (8 * i));
        }
        return nonce;
    }

    /** Encrypts the readable bytes of {@code plaintext} into {@code out}; returns the bytes written. */
    public static int seal(SecretKeySpec key, long counter, ByteBuffer plaintext, ByteBuffer out, byte[] authtext) {
        Cipher cipher = CIPHER.get();
        try {
            init(cipher, Cipher.ENCRYPT_MODE, key, counter);
            if (authtext != null) {
                cipher.updateAAD(authtext);
            }
            return cipher.doFinal(plaintext, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 encryption failed", e);
        }
    }

    /**
     * Decrypts and authenticates the readable bytes of {@code ciphertext} into {@code out}; returns the
     * plaintext length.
     *
     * @throws AEADBadTagException when the bytes were not sealed with this key, counter and authtext
     */
    public static int open(SecretKeySpec key, long counter, ByteBuffer ciphertext, ByteBuffer out, byte[] authtext)
            throws AEADBadTagException {
        Cipher cipher = CIPHER.get();
        try {
            init(cipher, Cipher.DECRYPT_MODE, key, counter);
            if (authtext != null) {
                cipher.updateAAD(authtext);
            }
            return cipher.doFinal(ciphertext, out);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new AEADBadTagException("cannot decrypt: " + e.getMessage());
        }
    }

    static byte[] seal(byte[] key, long counter, byte[] plaintext, byte[] authtext) {
        ByteBuffer out = ByteBuffer.allocate(plaintext.length + TAG_LENGTH);
        seal(key(key), counter, ByteBuffer.wrap(plaintext), out, authtext);
        return out.array();
    }

    static byte[] open(byte[] key, long counter, byte[] ciphertext, byte[] authtext) throws AEADBadTagException {
        if (ciphertext.length < TAG_LENGTH) {
            throw new AEADBadTagException("ciphertext shorter than its tag");
        }
        ByteBuffer out = ByteBuffer.allocate(ciphertext.length - TAG_LENGTH);
        open(key(key), counter, ByteBuffer.wrap(ciphertext), out, authtext);
        return out.array();
    }

    /**
     * JDK 17's JCE refuses to initialise a cipher with the key and nonce it last used, even to decrypt (a
     * forged packet followed by the genuine one with the same counter does that). Initialising once with another
     * nonce clears its memory; JDK 25 does not need it.
     */
    private static void init(Cipher cipher, int mode, SecretKeySpec key, long counter)
            throws InvalidKeyException, InvalidAlgorithmParameterException {
        IvParameterSpec nonce = new IvParameterSpec(nonce(counter));
        try {
            cipher.init(mode, key, nonce);
        } catch (InvalidKeyException | InvalidAlgorithmParameterException reuse) {
            cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(OTHER_NONCE));
            cipher.init(mode, key, nonce);
        }
    }
}
