package io.meshwork.protocol.wireguard;

import java.security.MessageDigest;

/**
 * mac1 and mac2 of handshake messages (WireGuard §5.4.4): mac1 proves the sender knows the receiver's public
 * key, so a device can drop junk before any Curve25519 work; mac2 carries a cookie when the receiver is under
 * load.
 */
public final class Macs {

    private Macs() {}

    private static int mac1Offset(byte[] message) {
        return message[0] == Messages.TYPE_INITIATION ? Messages.INITIATION_MAC1 : Messages.RESPONSE_MAC1;
    }

    /**
     * Fills in mac1 with the receiver's mac1 key, and mac2 when {@code cookie} is not null (else zeros). Returns
     * the mac1 written, which a later cookie reply must be decrypted with.
     */
    public static byte[] add(byte[] message, Handshake toPeer, byte[] cookie) {
        int mac1Offset = mac1Offset(message);
        byte[] mac1 = Blake2s.mac(toPeer.remoteMac1Key(), message, 0, mac1Offset);
        System.arraycopy(mac1, 0, message, mac1Offset, Blake2s.MAC_LENGTH);
        int mac2Offset = mac1Offset + Blake2s.MAC_LENGTH;
        if (cookie != null) {
            System.arraycopy(Blake2s.mac(cookie, message, 0, mac2Offset), 0, message, mac2Offset, Blake2s.MAC_LENGTH);
        } else {
            java.util.Arrays.fill(message, mac2Offset, mac2Offset + Blake2s.MAC_LENGTH, (byte) 0);
        }
        return mac1;
    }

    /** True when a received initiation or response carries a valid mac1 for us. */
    public static boolean mac1Valid(LocalIdentity local, byte[] message) {
        int mac1Offset = mac1Offset(message);
        byte[] expected = Blake2s.mac(local.mac1Key, message, 0, mac1Offset);
        return MessageDigest.isEqual(expected, java.util.Arrays.copyOfRange(message, mac1Offset,
                mac1Offset + Blake2s.MAC_LENGTH));
    }

    /** True when the message's mac2 was computed with {@code cookie}. */
    public static boolean mac2Valid(byte[] cookie, byte[] message) {
        int mac2Offset = mac1Offset(message) + Blake2s.MAC_LENGTH;
        byte[] expected = Blake2s.mac(cookie, message, 0, mac2Offset);
        return MessageDigest.isEqual(expected, java.util.Arrays.copyOfRange(message, mac2Offset,
                mac2Offset + Blake2s.MAC_LENGTH));
    }

    static byte[] mac1Of(byte[] message) {
        int mac1Offset = mac1Offset(message);
        return java.util.Arrays.copyOfRange(message, mac1Offset, mac1Offset + Blake2s.MAC_LENGTH);
    }
}
