package io.meshwork.protocol.stun;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * One decoded STUN attribute. Each record is one attribute type; anything else is kept as {@link Unknown}.
 * MESSAGE-INTEGRITY and FINGERPRINT appear only in decoded messages: the encoder computes them itself.
 */
public sealed interface StunAttribute {

    /** The attribute type code on the wire. */
    int type();

    /** RFC 8489 §14.1: the reflexive address in plain form, used by RFC 3489 servers. */
    record MappedAddress(InetSocketAddress address) implements StunAttribute {
        public MappedAddress {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public int type() {
            return StunAttributeType.MAPPED_ADDRESS;
        }
    }

    /** RFC 8489 §14.2: the reflexive address, obfuscated with the magic cookie and transaction ID. */
    record XorMappedAddress(InetSocketAddress address) implements StunAttribute {
        public XorMappedAddress {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public int type() {
            return StunAttributeType.XOR_MAPPED_ADDRESS;
        }
    }

    /** RFC 5780 §7.3: the address and port the response was sent from. */
    record ResponseOrigin(InetSocketAddress address) implements StunAttribute {
        public ResponseOrigin {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public int type() {
            return StunAttributeType.RESPONSE_ORIGIN;
        }
    }

    /** RFC 5780 §7.4: the server's alternate address (different IP and port) for CHANGE-REQUEST tests. */
    record OtherAddress(InetSocketAddress address) implements StunAttribute {
        public OtherAddress {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public int type() {
            return StunAttributeType.OTHER_ADDRESS;
        }
    }

    /** RFC 3489 §11.2.5: RESPONSE-ORIGIN under its classic name, for RFC 3489 clients. */
    record SourceAddress(InetSocketAddress address) implements StunAttribute {
        public SourceAddress {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public int type() {
            return StunAttributeType.SOURCE_ADDRESS;
        }
    }

    /** RFC 3489 §11.2.3: OTHER-ADDRESS under its classic name, for RFC 3489 clients. */
    record ChangedAddress(InetSocketAddress address) implements StunAttribute {
        public ChangedAddress {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public int type() {
            return StunAttributeType.CHANGED_ADDRESS;
        }
    }

    /** RFC 5780 §7.2: asks the server to answer from its alternate IP and/or alternate port. */
    record ChangeRequest(boolean changeIp, boolean changePort) implements StunAttribute {
        @Override
        public int type() {
            return StunAttributeType.CHANGE_REQUEST;
        }
    }

    /** RFC 8489 §14.3: the user name of a credential, at most 763 bytes of UTF-8. */
    record Username(String value) implements StunAttribute {
        public Username {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public int type() {
            return StunAttributeType.USERNAME;
        }
    }

    /** RFC 8489 §14.14: a description of the agent's software, fewer than 128 characters. */
    record Software(String value) implements StunAttribute {
        public Software {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public int type() {
            return StunAttributeType.SOFTWARE;
        }
    }

    /** RFC 8489 §14.8: an error response's code (300–699) and reason phrase. */
    record ErrorCode(int code, String reason) implements StunAttribute {
        /** RFC 8489 §15.3: the request held comprehension-required attributes the server does not know. */
        public static final int UNKNOWN_ATTRIBUTE = 420;
        /** RFC 8489 §15.3: the request was malformed. */
        public static final int BAD_REQUEST = 400;
        /** RFC 8489 §15.3: the credentials were missing or wrong. */
        public static final int UNAUTHORIZED = 401;

        public ErrorCode {
            if (code < 300 || code > 699) {
                throw new IllegalArgumentException("STUN error codes are 300-699, got " + code);
            }
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public int type() {
            return StunAttributeType.ERROR_CODE;
        }
    }

    /** RFC 8489 §14.9: the comprehension-required attribute types a 420 response did not understand. */
    record UnknownAttributes(List<Integer> types) implements StunAttribute {
        public UnknownAttributes {
            types = List.copyOf(types);
        }

        @Override
        public int type() {
            return StunAttributeType.UNKNOWN_ATTRIBUTES;
        }
    }

    /** RFC 8489 §14.5: the 20-byte HMAC-SHA1 as received; check it with {@link StunDecoder#verifyIntegrity}. */
    record MessageIntegrity(byte[] hmac) implements StunAttribute {
        public MessageIntegrity {
            hmac = hmac.clone();
        }

        @Override
        public byte[] hmac() {
            return hmac.clone();
        }

        @Override
        public int type() {
            return StunAttributeType.MESSAGE_INTEGRITY;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof MessageIntegrity that && Arrays.equals(hmac, that.hmac);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(hmac);
        }

        @Override
        public String toString() {
            return "MessageIntegrity[" + HexFormat.of().formatHex(hmac) + "]";
        }
    }

    /** RFC 8489 §14.7: the CRC-32 fingerprint as received; the decoder has already checked it. */
    record Fingerprint(int crc) implements StunAttribute {
        @Override
        public int type() {
            return StunAttributeType.FINGERPRINT;
        }
    }

    /** Any attribute this codec does not interpret, kept as raw bytes. */
    record Unknown(int type, byte[] value) implements StunAttribute {
        public Unknown {
            if (type < 0 || type > 0xFFFF) {
                throw new IllegalArgumentException("attribute types are 16 bits, got " + type);
            }
            value = value.clone();
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Unknown that && type == that.type && Arrays.equals(value, that.value);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return String.format("Unknown[type=0x%04x, value=%s]", type, HexFormat.of().formatHex(value));
        }
    }
}
