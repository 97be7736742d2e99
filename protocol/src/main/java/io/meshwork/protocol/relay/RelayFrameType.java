package io.meshwork.protocol.relay;

import java.util.Optional;

/** The type byte of each relay frame. */
public enum RelayFrameType {
    CLIENT_HELLO(0x01),
    SERVER_CHALLENGE(0x02),
    CLIENT_AUTH(0x03),
    AUTH_RESULT(0x04),
    OBSERVED_ADDRESS(0x05),
    SEND_PACKET(0x06),
    RECEIVED_PACKET(0x07),
    SEND_DISCO(0x08),
    RECEIVED_DISCO(0x09),
    PING(0x0A),
    PONG(0x0B),
    PEER_GONE(0x0C),
    GOODBYE(0x0D),
    SEALED(0x0E);

    private static final RelayFrameType[] BY_CODE = new RelayFrameType[256];

    static {
        for (RelayFrameType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    private final int code;

    RelayFrameType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static Optional<RelayFrameType> fromCode(int code) {
        return code < 0 || code > 0xFF ? Optional.empty() : Optional.ofNullable(BY_CODE[code]);
    }
}
