package io.meshwork.protocol.relay;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;

/**
 * A device's WireGuard public key (Curve25519, 32 bytes): the address of a client at the relay.
 * Immutable; equality is constant-time so that lookups leak nothing about key prefixes.
 */
public final class RelayKey {

    public static final int LENGTH = 32;

    private final byte[] bytes;
    private final int hash;

    private RelayKey(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /** A key from exactly {@value #LENGTH} bytes (copied). */
    public static RelayKey of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a relay key has " + LENGTH + " bytes, not " + bytes.length);
        }
        return new RelayKey(bytes.clone());
    }

    /** A key from its standard base64 form, as {@code wg} prints it. */
    public static RelayKey fromBase64(String text) {
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not base64: " + text, e);
        }
        return of(decoded);
    }

    static RelayKey wrap(byte[] ownedBytes) {
        return new RelayKey(ownedBytes);
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    byte[] unsafeBytes() {
        return bytes;
    }

    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RelayKey key && MessageDigest.isEqual(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return toBase64();
    }
}
