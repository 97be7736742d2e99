package io.meshwork.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwork.protocol.stun.StunParseException.Reason;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One test per way a datagram can be malformed; each must yield its own typed reason. */
class StunMalformedInputTest {

    private static final String HEADER_TAIL = "2112a4420102030405060708090a0b0c";

    private static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    /** A binding request carrying {@code attributesHex}, with the header length set to match. */
    private static byte[] request(String attributesHex) {
        int length = attributesHex.length() / 2;
        return hex(String.format("0001%04x", length) + HEADER_TAIL + attributesHex);
    }

    private static Reason reasonOf(byte[] datagram) {
        return assertThrows(StunParseException.class, () -> StunDecoder.decode(datagram)).reason();
    }

    @Test
    void emptyDatagram() {
        assertEquals(Reason.TRUNCATED_HEADER, reasonOf(new byte[0]));
    }

    @Test
    void truncatedHeader() {
        assertEquals(Reason.TRUNCATED_HEADER, reasonOf(Arrays.copyOf(request(""), 19)));
    }

    @Test
    void topBitsSet() {
        byte[] message = request("");
        message[0] = (byte) 0x40;
        assertEquals(Reason.NOT_STUN, reasonOf(message));
    }

    @Test
    void lengthNotAMultipleOfFour() {
        assertEquals(Reason.BAD_LENGTH, reasonOf(hex("00010006" + HEADER_TAIL + "000000000000")));
    }

    @Test
    void lengthBeyondTheDatagram() {
        assertEquals(Reason.BAD_LENGTH, reasonOf(hex("00010008" + HEADER_TAIL + "00000000")));
    }

    @Test
    void wrongMagicCookie() {
        byte[] message = request("");
        message[4] = 0x22;
        assertEquals(Reason.WRONG_MAGIC_COOKIE, reasonOf(message));
    }

    @Test
    void wrongMagicCookieIsAcceptedAsClassicWhenAsked() throws Exception {
        byte[] message = request("");
        message[4] = 0x22;
        StunMessage classic = StunDecoder.decodeAllowingClassic(ByteBuffer.wrap(message));
        assertEquals(0x2212a442, classic.magicCookie());
        assertEquals(true, classic.isClassic());
    }

    @Test
    void oversizedMessage() {
        int length = StunDecoder.MAX_MESSAGE_BYTES;
        byte[] message = new byte[StunDecoder.HEADER_BYTES + length];
        System.arraycopy(request(""), 0, message, 0, StunDecoder.HEADER_BYTES);
        message[2] = (byte) (length >>> 8);
        message[3] = (byte) length;
        assertEquals(Reason.OVERSIZED, reasonOf(message));
    }

    @Test
    void attributeOverrunningTheMessage() {
        assertEquals(Reason.ATTRIBUTE_OVERRUN, reasonOf(request("80220008" + "61626364")));
    }

    @Test
    void attributePaddingIsInsideTheMessage() {
        // A 5-byte SOFTWARE needs 3 padding bytes; a message ending after the value is overrun by its padding.
        assertEquals(Reason.BAD_LENGTH, reasonOf(hex("00010009" + HEADER_TAIL + "802200056162636465")));
    }

    @Test
    void badFingerprint() {
        byte[] message = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random()), null, true);
        message[message.length - 1] ^= 1;
        assertEquals(Reason.BAD_FINGERPRINT, reasonOf(message));
    }

    @Test
    void fingerprintOfWrongSize() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("8028000800000000" + "00000000")));
    }

    @Test
    void attributeAfterFingerprint() {
        byte[] signed = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random()), null, true);
        byte[] message = Arrays.copyOf(signed, signed.length + 8);
        System.arraycopy(hex("8022000461626364"), 0, message, signed.length, 8);
        message[3] = (byte) (message.length - StunDecoder.HEADER_BYTES);
        assertEquals(Reason.FINGERPRINT_NOT_LAST, reasonOf(message));
    }

    @Test
    void unknownAddressFamily() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("00200008" + "0003a147e112a643")));
    }

    @Test
    void ipv4AddressOfIpv6Length() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("00010014" + "00010001" + "00".repeat(16))));
    }

    @Test
    void addressAttributeTooShort() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("802c0002" + "00010000")));
    }

    @Test
    void changeRequestOfWrongSize() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("00030008" + "0000000600000000")));
    }

    @Test
    void messageIntegrityOfWrongSize() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("00080010" + "00".repeat(16))));
    }

    @Test
    void errorCodeOutOfRange() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("00090004" + "00000214")));
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("00090004" + "00000464")));
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("00090002" + "00000000")));
    }

    @Test
    void unknownAttributesOfOddSize() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("000a0003" + "00240000")));
    }

    @Test
    void softwareLongerThanTheLimit() {
        assertEquals(Reason.BAD_ATTRIBUTE, reasonOf(request("80220300" + "61".repeat(0x300))));
    }

    @Test
    void unknownComprehensionRequiredAttributesAreReportedNotThrown() throws Exception {
        StunMessage message = StunDecoder.decode(request("7fff0000" + "c0010004deadbeef" + "00240004" + "00000001"));
        assertEquals(List.of(0x7fff, 0x0024), message.unknownComprehensionRequired());
        assertEquals(3, message.attributes().size());
    }

    @Test
    void attributesAfterMessageIntegrityAreIgnored() throws Exception {
        StunMessage message = StunDecoder.decode(request("00080014" + "00".repeat(20) + "8022000461626364"));
        assertEquals(1, message.attributes().size());
    }

    @Test
    void trailingBytesAfterTheMessageAreIgnored() throws Exception {
        byte[] message = Arrays.copyOf(request(""), StunDecoder.HEADER_BYTES + 3);
        assertEquals(List.of(), StunDecoder.decode(message).attributes());
    }

    @Test
    void integrityMissingDoesNotVerify() throws Exception {
        assertFalse(StunDecoder.verifyIntegrity(ByteBuffer.wrap(request("")), new byte[] {1}));
    }

    @Test
    void decodingLeavesTheBufferUntouched() throws Exception {
        ByteBuffer buffer = ByteBuffer.wrap(request("80220004" + "61626364"));
        StunDecoder.decode(buffer);
        assertEquals(0, buffer.position());
        assertEquals(28, buffer.limit());
    }
}
