package io.meshwork.protocol.stun;

import static io.meshwork.protocol.stun.StunChecksums.getInt;
import static io.meshwork.protocol.stun.StunChecksums.getShort;
import static io.meshwork.protocol.stun.StunChecksums.putShort;

import io.meshwork.protocol.stun.StunParseException.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parses STUN messages (RFC 8489) from datagrams. Every malformed input yields a
 * {@link StunParseException}; nothing else is thrown for any input.
 *
 * <p>Strict on structure (header, lengths, attribute bounds, known attribute values, FINGERPRINT),
 * lax where the RFC allows: bytes after the message length are ignored, unknown comprehension-optional
 * attributes are kept and ignored, and attributes after MESSAGE-INTEGRITY other than FINGERPRINT are
 * dropped (RFC 8489 §14.5).
 */
public final class StunDecoder {

    /** RFC 8489 §5: the fixed header size. */
    public static final int HEADER_BYTES = 20;
    /**
     * Larger datagrams are rejected unread. RFC 8489 §6.1 keeps STUN over UDP below the path MTU, so
     * no STUN peer sends more; the bound stops a hostile peer making us parse 64 KiB per datagram.
     */
    public static final int MAX_MESSAGE_BYTES = 4096;

    private static final int MESSAGE_INTEGRITY_BYTES = 20;

    private StunDecoder() {
    }

    /** Decodes an RFC 5389/8489 message; a wrong magic cookie is an error. */
    public static StunMessage decode(ByteBuffer datagram) throws StunParseException {
        return decode(toArray(datagram), false);
    }

    /** As {@link #decode(ByteBuffer)}, over an array. */
    public static StunMessage decode(byte[] datagram) throws StunParseException {
        return decode(datagram, false);
    }

    /**
     * Decodes a message that may come from an RFC 3489 agent, whose header has no magic cookie
     * (RFC 8489 §12): a server answering such clients uses this.
     */
    public static StunMessage decodeAllowingClassic(ByteBuffer datagram) throws StunParseException {
        return decode(toArray(datagram), true);
    }

    /**
     * Checks MESSAGE-INTEGRITY of an already decodable message with a short-term key
     * (RFC 8489 §9.1.3): false when the attribute is missing or the HMAC does not match.
     */
    public static boolean verifyIntegrity(ByteBuffer datagram, byte[] key) throws StunParseException {
        byte[] message = toArray(datagram);
        int end = checkHeader(message, true);
        int offset = HEADER_BYTES;
        while (offset + 4 <= end) {
            int type = getShort(message, offset);
            int length = getShort(message, offset + 2);
            if (offset + 4 + length > end) {
                throw new StunParseException(Reason.ATTRIBUTE_OVERRUN, "attribute at " + offset);
            }
            if (type == StunAttributeType.MESSAGE_INTEGRITY) {
                if (length != MESSAGE_INTEGRITY_BYTES) {
                    return false;
                }
                // RFC 8489 §14.5: the length field covers the message up to the end of MESSAGE-INTEGRITY.
                byte[] covered = Arrays.copyOf(message, offset);
                putShort(covered, 2, offset + 4 + MESSAGE_INTEGRITY_BYTES - HEADER_BYTES);
                byte[] expected = StunChecksums.hmacSha1(key, covered, covered.length);
                byte[] received = Arrays.copyOfRange(message, offset + 4, offset + 4 + MESSAGE_INTEGRITY_BYTES);
                return MessageDigest.isEqual(expected, received);
            }
            offset += 4 + padded(length);
        }
        return false;
    }

    private static byte[] toArray(ByteBuffer datagram) {
        byte[] bytes = new byte[datagram.remaining()];
        datagram.duplicate().get(bytes);
        return bytes;
    }

    /** Validates the header and returns the end offset of the message. */
    private static int checkHeader(byte[] message, boolean allowClassic) throws StunParseException {
        if (message.length < HEADER_BYTES) {
            throw new StunParseException(Reason.TRUNCATED_HEADER, message.length + " bytes");
        }
        if (message.length > MAX_MESSAGE_BYTES) {
            throw new StunParseException(Reason.OVERSIZED, message.length + " bytes");
        }
        // RFC 8489 §5: the most significant two bits of every STUN message are zeroes.
        if ((message[0] & 0xC0) != 0) {
            throw new StunParseException(Reason.NOT_STUN, "first byte " + (message[0] & 0xFF));
        }
        int length = getShort(message, 2);
        // RFC 8489 §5: attributes are padded to 4 bytes, so the length always has its last two bits zero.
        if ((length & 3) != 0) {
            throw new StunParseException(Reason.BAD_LENGTH, "length " + length + " is not a multiple of 4");
        }
        if (HEADER_BYTES + length > message.length) {
            throw new StunParseException(Reason.BAD_LENGTH,
                    "length " + length + " but only " + (message.length - HEADER_BYTES) + " bytes follow the header");
        }
        if (!allowClassic && getInt(message, 4) != StunMessage.MAGIC_COOKIE) {
            throw new StunParseException(Reason.WRONG_MAGIC_COOKIE,
                    String.format("0x%08x", getInt(message, 4)));
        }
        return HEADER_BYTES + length;
    }

    private static StunMessage decode(byte[] message, boolean allowClassic) throws StunParseException {
        int end = checkHeader(message, allowClassic);
        int type = getShort(message, 0);
        // RFC 8489 §5: the class bits C1 C0 sit at bits 8 and 4, the method bits around them.
        int classBits = ((type >>> 7) & 0b10) | ((type >>> 4) & 0b01);
        int method = (type & 0x000F) | ((type >>> 1) & 0x0070) | ((type >>> 2) & 0x0F80);
        int cookie = getInt(message, 4);
        TransactionId transactionId = TransactionId.of(Arrays.copyOfRange(message, 8, HEADER_BYTES));
        byte[] xorKey = Arrays.copyOfRange(message, 4, HEADER_BYTES);

        List<StunAttribute> attributes = new ArrayList<>();
        boolean afterIntegrity = false;
        boolean afterFingerprint = false;
        int offset = HEADER_BYTES;
        // The header length and every padded value are multiples of 4, so a whole attribute header always fits.
        while (offset < end) {
            int attributeType = getShort(message, offset);
            int length = getShort(message, offset + 2);
            int valueOffset = offset + 4;
            if (valueOffset + length > end) {
                throw new StunParseException(Reason.ATTRIBUTE_OVERRUN, String.format(
                        "attribute 0x%04x of %d bytes at %d overruns the message end %d",
                        attributeType, length, offset, end));
            }
            if (afterFingerprint) {
                throw new StunParseException(Reason.FINGERPRINT_NOT_LAST,
                        String.format("attribute 0x%04x after FINGERPRINT", attributeType));
            }
            if (attributeType == StunAttributeType.FINGERPRINT) {
                attributes.add(checkFingerprint(message, offset, length));
                afterFingerprint = true;
            } else if (!afterIntegrity) {
                // RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY, except FINGERPRINT, are ignored.
                StunAttribute attribute = attribute(message, attributeType, valueOffset, length, xorKey);
                attributes.add(attribute);
                afterIntegrity = attribute instanceof StunAttribute.MessageIntegrity;
            }
            offset = valueOffset + padded(length);
        }
        return new StunMessage(StunClass.fromBits(classBits), method, cookie, transactionId, attributes);
    }

    private static StunAttribute.Fingerprint checkFingerprint(byte[] message, int offset, int length)
            throws StunParseException {
        if (length != 4) {
            throw new StunParseException(Reason.BAD_ATTRIBUTE, "FINGERPRINT of " + length + " bytes");
        }
        // RFC 8489 §14.7: the CRC covers the header (its length including FINGERPRINT) and preceding attributes.
        byte[] covered = Arrays.copyOf(message, offset);
        putShort(covered, 2, offset + 8 - HEADER_BYTES);
        int expected = StunChecksums.fingerprint(covered, covered.length);
        int received = getInt(message, offset + 4);
        if (expected != received) {
            throw new StunParseException(Reason.BAD_FINGERPRINT,
                    String.format("received 0x%08x, computed 0x%08x", received, expected));
        }
        return new StunAttribute.Fingerprint(received);
    }

    private static StunAttribute attribute(byte[] message, int type, int offset, int length, byte[] xorKey)
            throws StunParseException {
        return switch (type) {
            case StunAttributeType.MAPPED_ADDRESS ->
                    new StunAttribute.MappedAddress(AddressValue.decode(message, offset, length, null));
            case StunAttributeType.XOR_MAPPED_ADDRESS ->
                    new StunAttribute.XorMappedAddress(AddressValue.decode(message, offset, length, xorKey));
            case StunAttributeType.RESPONSE_ORIGIN ->
                    new StunAttribute.ResponseOrigin(AddressValue.decode(message, offset, length, null));
            case StunAttributeType.OTHER_ADDRESS ->
                    new StunAttribute.OtherAddress(AddressValue.decode(message, offset, length, null));
            case StunAttributeType.SOURCE_ADDRESS ->
                    new StunAttribute.SourceAddress(AddressValue.decode(message, offset, length, null));
            case StunAttributeType.CHANGED_ADDRESS ->
                    new StunAttribute.ChangedAddress(AddressValue.decode(message, offset, length, null));
            case StunAttributeType.CHANGE_REQUEST -> changeRequest(message, offset, length);
            case StunAttributeType.USERNAME -> new StunAttribute.Username(utf8(message, offset, length, 763));
            case StunAttributeType.SOFTWARE -> new StunAttribute.Software(utf8(message, offset, length, 763));
            case StunAttributeType.ERROR_CODE -> errorCode(message, offset, length);
            case StunAttributeType.UNKNOWN_ATTRIBUTES -> unknownAttributes(message, offset, length);
            case StunAttributeType.MESSAGE_INTEGRITY -> {
                if (length != MESSAGE_INTEGRITY_BYTES) {
                    throw new StunParseException(Reason.BAD_ATTRIBUTE, "MESSAGE-INTEGRITY of " + length + " bytes");
                }
                yield new StunAttribute.MessageIntegrity(Arrays.copyOfRange(message, offset, offset + length));
            }
            default -> new StunAttribute.Unknown(type, Arrays.copyOfRange(message, offset, offset + length));
        };
    }

    /** RFC 5780 §7.2: 32 bits, flag A (0x4) changes the IP, flag B (0x2) the port; the rest is ignored. */
    private static StunAttribute changeRequest(byte[] message, int offset, int length) throws StunParseException {
        if (length != 4) {
            throw new StunParseException(Reason.BAD_ATTRIBUTE, "CHANGE-REQUEST of " + length + " bytes");
        }
        int flags = getInt(message, offset);
        return new StunAttribute.ChangeRequest((flags & 0x4) != 0, (flags & 0x2) != 0);
    }

    private static String utf8(byte[] message, int offset, int length, int maxBytes) throws StunParseException {
        if (length > maxBytes) {
            throw new StunParseException(Reason.BAD_ATTRIBUTE, "text attribute of " + length + " bytes");
        }
        return new String(message, offset, length, StandardCharsets.UTF_8);
    }

    /** RFC 8489 §14.8: 21 reserved bits, the hundreds digit (3 bits), the rest (0–99), then the reason. */
    private static StunAttribute errorCode(byte[] message, int offset, int length) throws StunParseException {
        if (length < 4 || length > 4 + 763) {
            throw new StunParseException(Reason.BAD_ATTRIBUTE, "ERROR-CODE of " + length + " bytes");
        }
        int hundreds = message[offset + 2] & 0x07;
        int number = message[offset + 3] & 0xFF;
        if (hundreds < 3 || hundreds > 6 || number > 99) {
            throw new StunParseException(Reason.BAD_ATTRIBUTE, "ERROR-CODE class " + hundreds + " number " + number);
        }
        return new StunAttribute.ErrorCode(hundreds * 100 + number,
                new String(message, offset + 4, length - 4, StandardCharsets.UTF_8));
    }

    /** RFC 8489 §14.9: a list of 16-bit attribute types. */
    private static StunAttribute unknownAttributes(byte[] message, int offset, int length) throws StunParseException {
        if ((length & 1) != 0) {
            throw new StunParseException(Reason.BAD_ATTRIBUTE, "UNKNOWN-ATTRIBUTES of " + length + " bytes");
        }
        List<Integer> types = new ArrayList<>(length / 2);
        for (int i = 0; i < length; i += 2) {
            types.add(getShort(message, offset + i));
        }
        return new StunAttribute.UnknownAttributes(types);
    }

    static int padded(int length) {
        return (length + 3) & ~3;
    }
}
