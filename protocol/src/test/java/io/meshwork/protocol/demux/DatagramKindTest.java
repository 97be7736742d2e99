package io.meshwork.protocol.demux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class DatagramKindTest {

    private static DatagramKind kindOf(String hex) {
        return DatagramKind.classify(ByteBuffer.wrap(HexFormat.of().parseHex(hex)));
    }

    @Test
    void wireGuardMessagesByTypeAndReservedBytes() {
        assertEquals(DatagramKind.WIREGUARD, kindOf("01000000" + "00".repeat(144)));
        assertEquals(DatagramKind.WIREGUARD, kindOf("04000000" + "00".repeat(28)));
        assertEquals(DatagramKind.UNKNOWN, kindOf("05000000" + "00".repeat(28)));
        assertEquals(DatagramKind.UNKNOWN, kindOf("01000100" + "00".repeat(28)));
    }

    @Test
    void stunNeedsMagicCookieAndWholeWords() {
        // RFC 5769 §2.1 sample request header.
        String header = "000100582112a442b7e7a701bc34d686fa87dfae";
        assertEquals(DatagramKind.STUN, kindOf(header + "00".repeat(88)));
        assertEquals(DatagramKind.UNKNOWN, kindOf("000100582112a443b7e7a701bc34d686fa87dfae" + "00".repeat(88)));
        assertEquals(DatagramKind.UNKNOWN, kindOf(header + "00".repeat(87)));
    }

    @Test
    void probeByMagic() {
        assertEquals(DatagramKind.PROBE, kindOf("f04d5750524f4245" + "01"));
        assertEquals(DatagramKind.UNKNOWN, kindOf("f04d5750524f42"));
    }

    @Test
    void relayByMagic() {
        assertEquals(DatagramKind.RELAY, kindOf("f14d5752" + "0a" + "00".repeat(8)));
        assertEquals(DatagramKind.RELAY, kindOf("f14d5752"));
        assertEquals(DatagramKind.UNKNOWN, kindOf("f14d57"));
        assertEquals(DatagramKind.UNKNOWN, kindOf("f14d5753" + "0a"));
        // A probe magic differs from the relay magic in its first byte, so neither is taken for the other.
        assertEquals(DatagramKind.UNKNOWN, kindOf("f04d5752" + "0a" + "00".repeat(8)));
    }

    @Test
    void classifyLeavesBufferUntouched() {
        ByteBuffer buffer = ByteBuffer.wrap(HexFormat.of().parseHex("ff01000000" + "00".repeat(31)));
        buffer.position(1);
        assertEquals(DatagramKind.WIREGUARD, DatagramKind.classify(buffer));
        assertEquals(1, buffer.position());
        assertEquals(36, buffer.limit());
    }

    @Test
    void tinyDatagramsAreUnknown() {
        assertEquals(DatagramKind.UNKNOWN, kindOf(""));
        assertEquals(DatagramKind.UNKNOWN, kindOf("01"));
    }
}
