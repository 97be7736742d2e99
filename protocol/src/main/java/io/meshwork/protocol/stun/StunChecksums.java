package io.meshwork.protocol.stun;

import java.security.GeneralSecurityException;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The two message checksums: MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT (CRC-32). */
final class StunChecksums {

    /** RFC 8489 §14.7: the CRC is XORed with 0x5354554e ("STUN") so it differs from other protocols' CRCs. */
    private static final int FINGERPRINT_XOR = 0x5354554E;

    private StunChecksums() {
    }

    /** RFC 8489 §14.7: CRC-32 of the message up to (not including) the FINGERPRINT attribute. */
    static int fingerprint(byte[] message, int length) {
        CRC32 crc = new CRC32();
        crc.update(message, 0, length);
        return (int) crc.getValue() ^ FINGERPRINT_XOR;
    }

    /** RFC 8489 §14.5: HMAC-SHA1 of the message up to (not including) MESSAGE-INTEGRITY. */
    static byte[] hmacSha1(byte[] key, byte[] message, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            // An empty key is legal in HMAC but not in SecretKeySpec; a one-zero-byte key is the same HMAC key.
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, "HmacSHA1"));
            mac.update(message, 0, length);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 is required of every Java platform", e);
        }
    }

    static void putShort(byte[] message, int offset, int value) {
        message[offset] = (byte) (value >>> 8);
        message[offset + 1] = (byte) value;
    }

    static int getShort(byte[] message, int offset) {
        return ((message[offset] & 0xFF) << 8) | (message[offset + 1] & 0xFF);
    }

    static int getInt(byte[] message, int offset) {
        return (getShort(message, offset) << 16) | getShort(message, offset + 2);
    }

    static void putInt(byte[] message, int offset, int value) {
        putShort(message, offset, value >>> 16);
        putShort(message, offset + 2, value);
    }
}
