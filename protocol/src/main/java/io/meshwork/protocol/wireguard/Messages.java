package io.meshwork.protocol.wireguard;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Message types, sizes and field offsets of WireGuard §5.4. All integers are little-endian. */
public final class Messages {

    public static final byte TYPE_INITIATION = 1;
    public static final byte TYPE_RESPONSE = 2;
    public static final byte TYPE_COOKIE_REPLY = 3;
    public static final byte TYPE_TRANSPORT = 4;

    public static final int INITIATION_SIZE = 148;
    public static final int RESPONSE_SIZE = 92;
    public static final int COOKIE_REPLY_SIZE = 64;
    /** Transport header: type, reserved, receiver index, counter. */
    public static final int TRANSPORT_HEADER_SIZE = 16;
    public static final int TRANSPORT_MIN_SIZE = TRANSPORT_HEADER_SIZE + ChaChaPoly.TAG_LENGTH;

    static final int INITIATION_SENDER = 4;
    static final int INITIATION_EPHEMERAL = 8;
    static final int INITIATION_STATIC = 40;
    static final int INITIATION_TIMESTAMP = 88;
    static final int INITIATION_MAC1 = 116;
    static final int INITIATION_MAC2 = 132;

    static final int RESPONSE_SENDER = 4;
    static final int RESPONSE_RECEIVER = 8;
    static final int RESPONSE_EPHEMERAL = 12;
    static final int RESPONSE_EMPTY = 44;
    static final int RESPONSE_MAC1 = 60;
    static final int RESPONSE_MAC2 = 76;

    static final int COOKIE_RECEIVER = 4;
    static final int COOKIE_NONCE = 8;
    static final int COOKIE_ENCRYPTED = 32;

    public static final int TRANSPORT_RECEIVER = 4;
    public static final int TRANSPORT_COUNTER = 8;

    private Messages() {}

    /** The message type of a datagram whose first four bytes are a type and three zero bytes, else 0. */
    public static int type(ByteBuffer datagram) {
        int start = datagram.position();
        if (datagram.remaining() < 4 || datagram.get(start + 1) != 0 || datagram.get(start + 2) != 0
                || datagram.get(start + 3) != 0) {
            return 0;
        }
        int type = datagram.get(start);
        return type >= TYPE_INITIATION && type <= TYPE_TRANSPORT ? type : 0;
    }

    /** Checks that a handshake or cookie message has exactly the size its type requires (WireGuard §5.4). */
    public static void checkSize(int type, int size) throws WireGuardException {
        int expected = switch (type) {
            case TYPE_INITIATION -> INITIATION_SIZE;
            case TYPE_RESPONSE -> RESPONSE_SIZE;
            case TYPE_COOKIE_REPLY -> COOKIE_REPLY_SIZE;
            case TYPE_TRANSPORT -> -1;
            default -> throw new WireGuardException(WireGuardException.Reason.UNKNOWN_TYPE, "unknown type " + type);
        };
        if (expected == -1 ? size < TRANSPORT_MIN_SIZE : size != expected) {
            throw new WireGuardException(WireGuardException.Reason.WRONG_SIZE,
                    "type " + type + " message of " + size + " bytes");
        }
    }

    static int readIndex(byte[] message, int offset) {
        return ByteBuffer.wrap(message, offset, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    static void writeIndex(byte[] message, int offset, int index) {
        ByteBuffer.wrap(message, offset, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(index);
    }

    /** The receiver index of a response, cookie reply or transport message. */
    public static int receiverIndex(byte[] message) {
        int offset = switch (message[0]) {
            case TYPE_RESPONSE -> RESPONSE_RECEIVER;
            case TYPE_COOKIE_REPLY -> COOKIE_RECEIVER;
            default -> TRANSPORT_RECEIVER;
        };
        return readIndex(message, offset);
    }

    /** The sender index of an initiation or response. */
    public static int senderIndex(byte[] message) {
        return readIndex(message, message[0] == TYPE_INITIATION ? INITIATION_SENDER : RESPONSE_SENDER);
    }
}
