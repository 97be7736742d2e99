package io.meshwork.protocol.wireguard;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * A 32-byte WireGuard key: a Curve25519 private or public key, or a preshared key. Immutable; equality is
 * constant-time; text form is base64 exactly as {@code wg} prints it.
 */
public final class Key {

    public static final int LENGTH = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] bytes;

    private Key(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Copies 32 bytes into a key. */
    public static Key of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a WireGuard key is 32 bytes, got " + bytes.length);
        }
        return new Key(bytes.clone());
    }

    /** Parses the base64 text {@code wg genkey} and {@code wg pubkey} print. */
    public static Key fromBase64(String text) {
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a base64 WireGuard key: " + e.getMessage());
        }
        if (decoded.length != LENGTH) {
            throw new IllegalArgumentException("a WireGuard key is 32 bytes, this one is " + decoded.length);
        }
        return new Key(decoded);
    }

    /** Parses the lowercase hex form the UAPI protocol uses. */
    public static Key fromHex(String hex) {
        if (hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("a hex WireGuard key has 64 digits, got " + hex.length());
        }
        try {
            return new Key(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a hex WireGuard key");
        }
    }

    /** A fresh Curve25519 private key, clamped as {@code wg genkey} does. */
    public static Key generatePrivate() {
        byte[] bytes = new byte[LENGTH];
        RANDOM.nextBytes(bytes);
        clamp(bytes);
        return new Key(bytes);
    }

    /** A fresh random preshared key, as {@code wg genpsk} makes. */
    public static Key generatePreshared() {
        byte[] bytes = new byte[LENGTH];
        RANDOM.nextBytes(bytes);
        return new Key(bytes);
    }

    /** The all-zero key: WireGuard's "no preshared key". */
    public static Key zero() {
        return new Key(new byte[LENGTH]);
    }

    /** Curve25519 clamping (RFC 7748 §5). */
    static void clamp(byte[] scalar) {
        scalar[0] &= (byte) 248;
        scalar[31] &= 127;
        scalar[31] |= 64;
    }

    /** Treating this key as a private key: its public key. */
    public Key publicKey() {
        byte[] publicKey = new byte[LENGTH];
        X25519.scalarMultBase(bytes, 0, publicKey, 0);
        return new Key(publicKey);
    }

    /** A copy of the bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Writes the bytes into {@code target} at {@code offset}. */
    public void copyTo(byte[] target, int offset) {
        System.arraycopy(bytes, 0, target, offset, LENGTH);
    }

    /** The key bytes, not copied: callers inside this package must not change them. */
    byte[] raw() {
        return bytes;
    }

    public boolean isZero() {
        int bits = 0;
        for (byte b : bytes) {
            bits |= b;
        }
        return bits == 0;
    }

    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    public String toHex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Key key && MessageDigest.isEqual(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The base64 form: for public keys what users know them by. Never log private keys. */
    @Override
    public String toString() {
        return toBase64();
    }
}
