package io.meshwork.protocol.stun;

import static io.meshwork.protocol.stun.StunChecksums.putInt;
import static io.meshwork.protocol.stun.StunChecksums.putShort;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds STUN messages (RFC 8489) as bytes. Padding bytes are zero. MESSAGE-INTEGRITY and FINGERPRINT
 * are computed here, never taken from the message's attribute list.
 */
public final class StunEncoder {

    private StunEncoder() {
    }

    /** The message alone, with neither MESSAGE-INTEGRITY nor FINGERPRINT. */
    public static byte[] encode(StunMessage message) {
        return encode(message, null, false);
    }

    /**
     * The message, then MESSAGE-INTEGRITY when {@code integrityKey} is not null (RFC 8489 §14.5), then
     * FINGERPRINT when asked (RFC 8489 §14.7), in the order the RFC requires.
     *
     * @throws IllegalArgumentException when the attribute list holds MESSAGE-INTEGRITY or FINGERPRINT,
     *         a value exceeds its attribute's limit, or the message exceeds {@link StunDecoder#MAX_MESSAGE_BYTES}
     */
    public static byte[] encode(StunMessage message, byte[] integrityKey, boolean fingerprint) {
        byte[] header = new byte[StunDecoder.HEADER_BYTES];
        int classBits = message.messageClass().bits();
        int method = message.method();
        // RFC 8489 §5: method bits M0-M11 interleaved with class bits C0 (bit 4) and C1 (bit 8).
        int type = (method & 0x000F) | ((classBits & 0b01) << 4) | ((method & 0x0070) << 1)
                | ((classBits & 0b10) << 7) | ((method & 0x0F80) << 2);
        putShort(header, 0, type);
        putInt(header, 4, message.magicCookie());
        message.transactionId().copyTo(header, 8);
        byte[] xorKey = Arrays.copyOfRange(header, 4, StunDecoder.HEADER_BYTES);

        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        out.writeBytes(header);
        for (StunAttribute attribute : message.attributes()) {
            writeAttribute(out, attribute.type(), value(attribute, xorKey));
        }
        if (integrityKey != null) {
            byte[] soFar = out.toByteArray();
            putShort(soFar, 2, soFar.length + 24 - StunDecoder.HEADER_BYTES);
            writeAttribute(out, StunAttributeType.MESSAGE_INTEGRITY,
                    StunChecksums.hmacSha1(integrityKey, soFar, soFar.length));
        }
        if (fingerprint) {
            byte[] soFar = out.toByteArray();
            putShort(soFar, 2, soFar.length + 8 - StunDecoder.HEADER_BYTES);
            byte[] crc = new byte[4];
            putInt(crc, 0, StunChecksums.fingerprint(soFar, soFar.length));
            writeAttribute(out, StunAttributeType.FINGERPRINT, crc);
        }
        byte[] encoded = out.toByteArray();
        if (encoded.length > StunDecoder.MAX_MESSAGE_BYTES) {
            throw new IllegalArgumentException("STUN message of " + encoded.length + " bytes is too large");
        }
        putShort(encoded, 2, encoded.length - StunDecoder.HEADER_BYTES);
        return encoded;
    }

    private static void writeAttribute(ByteArrayOutputStream out, int type, byte[] value) {
        if (value.length > 0xFFFF) {
            throw new IllegalArgumentException("attribute value of " + value.length + " bytes");
        }
        out.write(type >>> 8);
        out.write(type);
        out.write(value.length >>> 8);
        out.write(value.length);
        out.writeBytes(value);
        // RFC 8489 §14: values are padded to a multiple of 4 bytes; the length field excludes the padding.
        out.writeBytes(new byte[StunDecoder.padded(value.length) - value.length]);
    }

    private static byte[] value(StunAttribute attribute, byte[] xorKey) {
        if (attribute instanceof StunAttribute.MappedAddress a) {
            return AddressValue.encode(a.address(), null);
        } else if (attribute instanceof StunAttribute.XorMappedAddress a) {
            return AddressValue.encode(a.address(), xorKey);
        } else if (attribute instanceof StunAttribute.ResponseOrigin a) {
            return AddressValue.encode(a.address(), null);
        } else if (attribute instanceof StunAttribute.OtherAddress a) {
            return AddressValue.encode(a.address(), null);
        } else if (attribute instanceof StunAttribute.SourceAddress a) {
            return AddressValue.encode(a.address(), null);
        } else if (attribute instanceof StunAttribute.ChangedAddress a) {
            return AddressValue.encode(a.address(), null);
        } else if (attribute instanceof StunAttribute.ChangeRequest c) {
            return new byte[] {0, 0, 0, (byte) ((c.changeIp() ? 0x4 : 0) | (c.changePort() ? 0x2 : 0))};
        } else if (attribute instanceof StunAttribute.Username u) {
            return limited(u.value(), 763, "USERNAME");
        } else if (attribute instanceof StunAttribute.Software s) {
            return limited(s.value(), 763, "SOFTWARE");
        } else if (attribute instanceof StunAttribute.ErrorCode e) {
            byte[] reason = limited(e.reason(), 763, "ERROR-CODE reason");
            byte[] value = new byte[4 + reason.length];
            value[2] = (byte) (e.code() / 100);
            value[3] = (byte) (e.code() % 100);
            System.arraycopy(reason, 0, value, 4, reason.length);
            return value;
        } else if (attribute instanceof StunAttribute.UnknownAttributes u) {
            byte[] value = new byte[2 * u.types().size()];
            for (int i = 0; i < u.types().size(); i++) {
                putShort(value, 2 * i, u.types().get(i));
            }
            return value;
        } else if (attribute instanceof StunAttribute.Unknown u) {
            return u.value();
        }
        throw new IllegalArgumentException(attribute.getClass().getSimpleName()
                + " is computed by the encoder, not taken from the attribute list");
    }

    private static byte[] limited(String text, int maxBytes, String what) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxBytes) {
            throw new IllegalArgumentException(what + " of " + bytes.length + " bytes exceeds " + maxBytes);
        }
        return bytes;
    }
}
