package io.meshwork.protocol.stun;

/** Attribute type codes this codec understands, with the registry entry that defines each. */
public final class StunAttributeType {

    /** RFC 8489 §14.1. */
    public static final int MAPPED_ADDRESS = 0x0001;
    /** RFC 5780 §7.2 (from RFC 3489 §11.2.4). */
    public static final int CHANGE_REQUEST = 0x0003;
    /** RFC 3489 §11.2.5: the classic form of RESPONSE-ORIGIN, sent only to RFC 3489 clients. */
    public static final int SOURCE_ADDRESS = 0x0004;
    /** RFC 3489 §11.2.3: the classic form of OTHER-ADDRESS, sent only to RFC 3489 clients. */
    public static final int CHANGED_ADDRESS = 0x0005;
    /** RFC 8489 §14.3. */
    public static final int USERNAME = 0x0006;
    /** RFC 8489 §14.5. */
    public static final int MESSAGE_INTEGRITY = 0x0008;
    /** RFC 8489 §14.8. */
    public static final int ERROR_CODE = 0x0009;
    /** RFC 8489 §14.9. */
    public static final int UNKNOWN_ATTRIBUTES = 0x000A;
    /** RFC 8489 §14.2. */
    public static final int XOR_MAPPED_ADDRESS = 0x0020;
    /** RFC 8489 §14.14. */
    public static final int SOFTWARE = 0x8022;
    /** RFC 8489 §14.7. */
    public static final int FINGERPRINT = 0x8028;
    /** RFC 5780 §7.3. */
    public static final int RESPONSE_ORIGIN = 0x802B;
    /** RFC 5780 §7.4. */
    public static final int OTHER_ADDRESS = 0x802C;

    private StunAttributeType() {
    }

    /** RFC 8489 §14: types 0x0000–0x7FFF are comprehension-required, 0x8000–0xFFFF comprehension-optional. */
    public static boolean isComprehensionRequired(int type) {
        return type < 0x8000;
    }
}
