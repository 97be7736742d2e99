package io.meshwork.protocol.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.relay.RelayFrame.AuthResult;
import io.meshwork.protocol.relay.RelayFrame.ClientAuth;
import io.meshwork.protocol.relay.RelayFrame.ClientHello;
import io.meshwork.protocol.relay.RelayFrame.CloseReason;
import io.meshwork.protocol.relay.RelayFrame.Goodbye;
import io.meshwork.protocol.relay.RelayFrame.ObservedAddress;
import io.meshwork.protocol.relay.RelayFrame.PeerGone;
import io.meshwork.protocol.relay.RelayFrame.Ping;
import io.meshwork.protocol.relay.RelayFrame.Pong;
import io.meshwork.protocol.relay.RelayFrame.ReceivedDisco;
import io.meshwork.protocol.relay.RelayFrame.ReceivedPacket;
import io.meshwork.protocol.relay.RelayFrame.SendDisco;
import io.meshwork.protocol.relay.RelayFrame.SendPacket;
import io.meshwork.protocol.relay.RelayFrame.ServerChallenge;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RelayFrameCodecTest {

    private static final HexFormat HEX = HexFormat.of();
    /** Keys 0x01..0x20 and 0xA1..0xC0: easy to spot in the golden hex. */
    private static final String KEY_A_HEX = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    private static final String KEY_B_HEX = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0";
    private static final RelayKey KEY_A = RelayKey.of(HEX.parseHex(KEY_A_HEX));
    private static final RelayKey KEY_B = RelayKey.of(HEX.parseHex(KEY_B_HEX));
    private static final String CHALLENGE_HEX = "00000000665f1e00" + "c0".repeat(16);
    private static final String PROOF_HEX = "d0".repeat(32);

    private static ByteBuffer hex(String hex) {
        return ByteBuffer.wrap(HEX.parseHex(hex));
    }

    static Stream<Arguments> goldenFrames() throws Exception {
        return Stream.of(
                Arguments.of(new ClientHello(1, KEY_A), "01" + "01" + KEY_A_HEX),
                Arguments.of(new ServerChallenge(1, KEY_B, hex(CHALLENGE_HEX)), "02" + "01" + KEY_B_HEX + CHALLENGE_HEX),
                Arguments.of(new ClientAuth(KEY_A, hex(CHALLENGE_HEX), hex(PROOF_HEX), hex("3082abcd")),
                        "03" + KEY_A_HEX + CHALLENGE_HEX + PROOF_HEX + "0004" + "3082abcd"),
                Arguments.of(new AuthResult(AuthStatus.OK, ""), "04" + "00" + "00"),
                Arguments.of(new AuthResult(AuthStatus.REVOKED, "revoked"), "04" + "03" + "07" + "7265766f6b6564"),
                Arguments.of(new AuthResult(AuthStatus.OK, "", 0x1122334455667788L),
                        "04" + "00" + "00" + "1122334455667788"),
                Arguments.of(new ObservedAddress(Transport.UDP,
                                new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 41641)),
                        "05" + "01" + "04" + "a2a9" + "cb007107"),
                Arguments.of(new ObservedAddress(Transport.TCP,
                                new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 443)),
                        "05" + "02" + "06" + "01bb" + "20010db8000000000000000000000001"),
                Arguments.of(new SendPacket(KEY_B, hex("04000000aabb")), "06" + KEY_B_HEX + "04000000aabb"),
                Arguments.of(new ReceivedPacket(KEY_A, hex("04000000aabb")), "07" + KEY_A_HEX + "04000000aabb"),
                Arguments.of(new SendDisco(KEY_B, hex("f04d5750524f4245")), "08" + KEY_B_HEX + "f04d5750524f4245"),
                Arguments.of(new ReceivedDisco(KEY_A, hex("")), "09" + KEY_A_HEX),
                Arguments.of(new Ping(0x0102030405060708L), "0a" + "0102030405060708"),
                Arguments.of(new Pong(-1L), "0b" + "ffffffffffffffff"),
                Arguments.of(new PeerGone(KEY_B), "0c" + KEY_B_HEX),
                Arguments.of(new Goodbye(CloseReason.IDLE, "idle"), "0d" + "03" + "04" + "69646c65"),
                Arguments.of(new RelayFrame.Sealed(0x0102030405060708L, 5, hex("e0".repeat(16)), hex("0a" + "0102030405060708")),
                        "0e" + "0102030405060708" + "0000000000000005" + "e0".repeat(16) + "0a" + "0102030405060708"));
    }

    @ParameterizedTest
    @MethodSource("goldenFrames")
    void datagramGoldenBytesAndRoundTrip(RelayFrame frame, String body) throws Exception {
        byte[] encoded = RelayFrameCodec.encodeDatagram(frame);
        assertEquals("f14d5752" + body, HEX.formatHex(encoded));
        assertEquals(DatagramKind.RELAY, DatagramKind.classify(ByteBuffer.wrap(encoded)));
        RelayFrame decoded = RelayFrameCodec.decodeDatagram(ByteBuffer.wrap(encoded));
        assertEquals(frame.type(), decoded.type());
        assertArrayEquals(encoded, RelayFrameCodec.encodeDatagram(decoded));
    }

    @ParameterizedTest
    @MethodSource("goldenFrames")
    void streamGoldenBytesAndRoundTrip(RelayFrame frame, String body) throws Exception {
        byte[] encoded = RelayFrameCodec.encodeStream(frame);
        assertEquals(String.format("%04x", body.length() / 2) + body, HEX.formatHex(encoded));
        ByteBuffer stream = ByteBuffer.wrap(encoded);
        int length = RelayFrameCodec.streamFrameLength(stream);
        assertEquals(body.length() / 2, length);
        stream.position(RelayFrameCodec.STREAM_HEADER_BYTES);
        RelayFrame decoded = RelayFrameCodec.decodeFrame(stream);
        assertArrayEquals(encoded, RelayFrameCodec.encodeStream(decoded));
    }

    @Test
    void decodedFieldsMatch() throws Exception {
        ClientAuth auth = (ClientAuth) RelayFrameCodec.decodeFrame(
                hex("03" + KEY_A_HEX + CHALLENGE_HEX + PROOF_HEX + "0002" + "beef"));
        assertEquals(KEY_A, auth.clientKey());
        assertEquals(hex("beef"), auth.certificate());
        assertEquals(hex(CHALLENGE_HEX), auth.challenge());
        ObservedAddress observed = (ObservedAddress) RelayFrameCodec.decodeFrame(hex("050104a2a9cb007107"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 41641), observed.address());
        assertEquals(Transport.UDP, observed.transport());
        AuthResult result = (AuthResult) RelayFrameCodec.decodeFrame(hex("0403077265766f6b6564"));
        assertEquals(AuthStatus.REVOKED, result.status());
        assertEquals("revoked", result.reason());
    }

    @Test
    void trailingBytesAfterFixedFieldsAreIgnored() throws Exception {
        Ping ping = (Ping) RelayFrameCodec.decodeFrame(hex("0a" + "0000000000000007" + "ffff"));
        assertEquals(7, ping.nonce());
        assertInstanceOf(ClientHello.class, RelayFrameCodec.decodeFrame(hex("0101" + KEY_A_HEX + "00")));
    }

    @Test
    void payloadTakesTheRestOfTheFrame() throws Exception {
        SendPacket send = (SendPacket) RelayFrameCodec.decodeDatagram(hex("f14d5752" + "06" + KEY_B_HEX + "0102"));
        assertEquals(KEY_B, send.destination());
        assertEquals(hex("0102"), send.payload());
    }

    static Stream<Arguments> malformedFrames() {
        return Stream.of(
                Arguments.of("", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("ee", RelayFrameException.Reason.UNKNOWN_TYPE),
                Arguments.of("00", RelayFrameException.Reason.UNKNOWN_TYPE),
                Arguments.of("0f", RelayFrameException.Reason.UNKNOWN_TYPE),
                Arguments.of("0e", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("0e" + "00".repeat(32), RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("0e" + "00".repeat(32) + "06" + "00".repeat(RelayFrameCodec.MAX_FRAME_BYTES),
                        RelayFrameException.Reason.OVERSIZED),
                Arguments.of("01" + "01" + KEY_A_HEX.substring(2), RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("02" + "01" + KEY_B_HEX + CHALLENGE_HEX.substring(2), RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("03" + KEY_A_HEX + CHALLENGE_HEX + PROOF_HEX + "00", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("03" + KEY_A_HEX + CHALLENGE_HEX + PROOF_HEX + "0005" + "3082abcd",
                        RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("04", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("04" + "63" + "00", RelayFrameException.Reason.BAD_FIELD),
                Arguments.of("04" + "03" + "05" + "7265", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("04" + "03" + "02" + "c328", RelayFrameException.Reason.BAD_FIELD),
                Arguments.of("05" + "01" + "04" + "a2a9" + "cb0071", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("05" + "03" + "04" + "a2a9" + "cb007107", RelayFrameException.Reason.BAD_FIELD),
                Arguments.of("05" + "01" + "05" + "a2a9" + "cb007107", RelayFrameException.Reason.BAD_FIELD),
                Arguments.of("06" + KEY_B_HEX.substring(2), RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("07", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("08" + "00", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("09" + "00", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("0a" + "00000000000000", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("0b", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("0c" + "00".repeat(31), RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("0d" + "03", RelayFrameException.Reason.TOO_SHORT),
                Arguments.of("0d" + "09" + "00", RelayFrameException.Reason.BAD_FIELD),
                Arguments.of("06" + KEY_B_HEX + "00".repeat(RelayFrameCodec.MAX_PAYLOAD_BYTES + 1),
                        RelayFrameException.Reason.OVERSIZED));
    }

    @ParameterizedTest
    @MethodSource("malformedFrames")
    void malformedFramesGiveTypedErrors(String frameHex, RelayFrameException.Reason reason) {
        RelayFrameException e = assertThrows(RelayFrameException.class,
                () -> RelayFrameCodec.decodeFrame(hex(frameHex)));
        assertEquals(reason, e.reason());
        RelayFrameException fromDatagram = assertThrows(RelayFrameException.class,
                () -> RelayFrameCodec.decodeDatagram(hex("f14d5752" + frameHex)));
        assertEquals(frameHex.isEmpty() ? RelayFrameException.Reason.TOO_SHORT : reason, fromDatagram.reason());
    }

    @Test
    void datagramWithoutMagicIsRejected() {
        RelayFrameException e = assertThrows(RelayFrameException.class,
                () -> RelayFrameCodec.decodeDatagram(hex("f14d5753" + "0a0000000000000001")));
        assertEquals(RelayFrameException.Reason.BAD_MAGIC, e.reason());
        assertEquals(RelayFrameException.Reason.TOO_SHORT, assertThrows(RelayFrameException.class,
                () -> RelayFrameCodec.decodeDatagram(hex("f14d57"))).reason());
    }

    @Test
    void streamLengthPrefixRules() throws Exception {
        assertEquals(-1, RelayFrameCodec.streamFrameLength(hex("")));
        assertEquals(-1, RelayFrameCodec.streamFrameLength(hex("00")));
        assertEquals(9, RelayFrameCodec.streamFrameLength(hex("0009" + "0a")));
        assertEquals(RelayFrameCodec.MAX_FRAME_BYTES, RelayFrameCodec.streamFrameLength(hex("2000")));
        assertEquals(RelayFrameException.Reason.OVERSIZED, assertThrows(RelayFrameException.class,
                () -> RelayFrameCodec.streamFrameLength(hex("2001"))).reason());
        assertEquals(RelayFrameException.Reason.OVERSIZED, assertThrows(RelayFrameException.class,
                () -> RelayFrameCodec.streamFrameLength(hex("ffff"))).reason());
        assertEquals(RelayFrameException.Reason.TOO_SHORT, assertThrows(RelayFrameException.class,
                () -> RelayFrameCodec.streamFrameLength(hex("0000"))).reason());
    }

    @Test
    void streamLengthDoesNotConsume() throws Exception {
        ByteBuffer stream = hex("0009");
        RelayFrameCodec.streamFrameLength(stream);
        assertEquals(0, stream.position());
    }

    @Test
    void longReasonsAreClippedAtACharacterBoundary() throws Exception {
        String reason = "é".repeat(200);
        AuthResult result = new AuthResult(AuthStatus.UNTRUSTED, reason);
        assertEquals(127, result.reason().length());
        AuthResult decoded = (AuthResult) RelayFrameCodec.decodeDatagram(
                ByteBuffer.wrap(RelayFrameCodec.encodeDatagram(result)));
        assertEquals(result.reason(), decoded.reason());
    }

    @Test
    void oversizedPayloadCannotBeBuilt() {
        ByteBuffer big = ByteBuffer.allocate(RelayFrameCodec.MAX_PAYLOAD_BYTES + 1);
        assertThrows(IllegalArgumentException.class, () -> new SendPacket(KEY_A, big));
        SendPacket largest = new SendPacket(KEY_A, ByteBuffer.allocate(RelayFrameCodec.MAX_PAYLOAD_BYTES));
        assertEquals(RelayFrameCodec.MAX_FRAME_BYTES + 2, RelayFrameCodec.encodeStream(largest).length);
    }
}
