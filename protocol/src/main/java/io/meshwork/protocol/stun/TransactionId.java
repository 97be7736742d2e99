package io.meshwork.protocol.stun;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The 96-bit transaction ID of a STUN message (RFC 8489 §5). Immutable: the bytes are copied in and out.
 */
public final class TransactionId {

    /** RFC 8489 §5: 96 bits. */
    public static final int LENGTH = 12;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] bytes;

    private TransactionId(byte[] bytes) {
        this.bytes = bytes;
    }

    /** RFC 8489 §5: chosen uniformly at random from the 96-bit space, from a cryptographic source. */
    public static TransactionId random() {
        byte[] bytes = new byte[LENGTH];
        RANDOM.nextBytes(bytes);
        return new TransactionId(bytes);
    }

    /**
     * @throws IllegalArgumentException unless {@code bytes} holds exactly 12 bytes
     */
    public static TransactionId of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a transaction ID has 12 bytes, got " + bytes.length);
        }
        return new TransactionId(bytes.clone());
    }

    public byte[] toBytes() {
        return bytes.clone();
    }

    void copyTo(byte[] destination, int offset) {
        System.arraycopy(bytes, 0, destination, offset, LENGTH);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TransactionId that && Arrays.equals(bytes, that.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
