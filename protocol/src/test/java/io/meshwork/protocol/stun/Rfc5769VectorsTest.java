package io.meshwork.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sample messages of RFC 5769, byte for byte. */
class Rfc5769VectorsTest {

    private static final String PASSWORD = "VOkJxbRl1RmTxUk/WvJxBt";
    private static final TransactionId TRANSACTION = TransactionId.of(hex("b7e7a701bc34d686fa87dfae"));

    /** RFC 5769 §2.1. */
    static final byte[] SAMPLE_REQUEST = hex(
            "000100582112a442b7e7a701bc34d686fa87dfae"
            + "80220010" + "5354554e20746573742063" + "6c69656e74"
            + "00240004" + "6e0001ff"
            + "80290008" + "932ff9b151263b36"
            + "00060009" + "6576746a3a68367659202020"
            + "00080014" + "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
            + "80280004" + "e57a3bcf");

    /** RFC 5769 §2.2. */
    static final byte[] SAMPLE_IPV4_RESPONSE = hex(
            "0101003c2112a442b7e7a701bc34d686fa87dfae"
            + "8022000b" + "7465737420766563746f7220"
            + "00200008" + "0001a147e112a643"
            + "00080014" + "2b91f599fd9e90c38c7489f92af9ba53f06be7d7"
            + "80280004" + "c07d4c96");

    /** RFC 5769 §2.3. */
    static final byte[] SAMPLE_IPV6_RESPONSE = hex(
            "010100482112a442b7e7a701bc34d686fa87dfae"
            + "8022000b" + "7465737420766563746f7220"
            + "00200014" + "0002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
            + "00080014" + "a382954e4be67bf11784c97c8292c275bfe3ed41"
            + "80280004" + "c8fb0b4c");

    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    @Test
    void sampleRequest() throws Exception {
        StunMessage message = StunDecoder.decode(SAMPLE_REQUEST);
        assertEquals(StunClass.REQUEST, message.messageClass());
        assertEquals(StunMessage.BINDING, message.method());
        assertEquals(TRANSACTION, message.transactionId());
        assertFalse(message.isClassic());
        List<StunAttribute> attributes = message.attributes();
        assertEquals(6, attributes.size());
        assertEquals(new StunAttribute.Software("STUN test client"), attributes.get(0));
        assertEquals(new StunAttribute.Unknown(0x0024, hex("6e0001ff")), attributes.get(1));
        assertEquals(new StunAttribute.Unknown(0x8029, hex("932ff9b151263b36")), attributes.get(2));
        assertEquals(new StunAttribute.Username("evtj:h6vY"), attributes.get(3));
        assertEquals(new StunAttribute.MessageIntegrity(hex("9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2")),
                attributes.get(4));
        assertEquals(new StunAttribute.Fingerprint(0xe57a3bcf), attributes.get(5));
        // PRIORITY (ICE) is comprehension-required and unknown here: a server would answer 420.
        assertEquals(List.of(0x0024), message.unknownComprehensionRequired());
        assertTrue(StunDecoder.verifyIntegrity(ByteBuffer.wrap(SAMPLE_REQUEST), StunCredentials.shortTermKey(PASSWORD)));
        assertFalse(StunDecoder.verifyIntegrity(ByteBuffer.wrap(SAMPLE_REQUEST), StunCredentials.shortTermKey("wrong")));
    }

    @Test
    void sampleIpv4Response() throws Exception {
        StunMessage message = StunDecoder.decode(SAMPLE_IPV4_RESPONSE);
        assertEquals(StunClass.SUCCESS_RESPONSE, message.messageClass());
        assertEquals(TRANSACTION, message.transactionId());
        assertEquals(new StunAttribute.Software("test vector"), message.attributes().get(0));
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853), message.mappedAddress().orElseThrow());
        assertInstanceOf(StunAttribute.Fingerprint.class, message.attributes().get(3));
        assertTrue(StunDecoder.verifyIntegrity(ByteBuffer.wrap(SAMPLE_IPV4_RESPONSE), StunCredentials.shortTermKey(PASSWORD)));
        assertEquals(List.of(), message.unknownComprehensionRequired());
    }

    @Test
    void sampleIpv6Response() throws Exception {
        StunMessage message = StunDecoder.decode(SAMPLE_IPV6_RESPONSE);
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8:1234:5678:11:2233:4455:6677"), 32853),
                message.mappedAddress().orElseThrow());
        assertTrue(StunDecoder.verifyIntegrity(ByteBuffer.wrap(SAMPLE_IPV6_RESPONSE), StunCredentials.shortTermKey(PASSWORD)));
    }

    @Test
    void encoderReproducesTheIpv4ResponseUpToPaddingAndChecksums() throws Exception {
        StunMessage message = new StunMessage(StunClass.SUCCESS_RESPONSE, StunMessage.BINDING,
                StunMessage.MAGIC_COOKIE, TRANSACTION, List.of(
                        new StunAttribute.Software("test vector"),
                        new StunAttribute.XorMappedAddress(
                                new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853))));
        byte[] ours = StunEncoder.encode(message, StunCredentials.shortTermKey(PASSWORD), true);
        byte[] expected = SAMPLE_IPV4_RESPONSE.clone();
        // RFC 5769 pads SOFTWARE with a space; padding is any value (RFC 8489 §14) and ours is zero,
        // which changes the checksums that follow: compare the bytes they do not cover.
        expected[35] = 0;
        assertEquals(expected.length, ours.length);
        assertArrayEquals(Arrays.copyOf(expected, 48), Arrays.copyOf(ours, 48));
        // Our checksums over our bytes verify with the same key.
        assertTrue(StunDecoder.verifyIntegrity(ByteBuffer.wrap(ours), StunCredentials.shortTermKey(PASSWORD)));
        assertEquals(message.attributes(), StunDecoder.decode(ours).attributes().subList(0, 2));
    }
}
