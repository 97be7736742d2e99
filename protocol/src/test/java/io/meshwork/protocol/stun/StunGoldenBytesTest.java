package io.meshwork.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every message meshwork emits, against bytes computed independently of this codec (hand-assembled
 * headers and attributes, CRC-32 and HMAC-SHA1 from another implementation).
 */
class StunGoldenBytesTest {

    private static final TransactionId TRANSACTION = TransactionId.of(
            HexFormat.of().parseHex("0102030405060708090a0b0c"));

    private static InetSocketAddress address(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static void assertRoundTrip(byte[] encoded) throws StunParseException {
        StunMessage decoded = StunDecoder.decodeAllowingClassic(java.nio.ByteBuffer.wrap(encoded));
        byte[] again = StunEncoder.encode(new StunMessage(decoded.messageClass(), decoded.method(),
                decoded.magicCookie(), decoded.transactionId(), decoded.attributes().stream()
                        .filter(a -> !(a instanceof StunAttribute.Fingerprint)
                                && !(a instanceof StunAttribute.MessageIntegrity))
                        .toList()), null, decoded.attribute(StunAttribute.Fingerprint.class).isPresent());
        assertEquals(hex(encoded), hex(again));
    }

    @Test
    void plainBindingRequest() throws Exception {
        byte[] bytes = StunEncoder.encode(StunMessage.bindingRequest(TRANSACTION));
        assertEquals("000100002112a4420102030405060708090a0b0c", hex(bytes));
        assertRoundTrip(bytes);
    }

    @Test
    void bindingRequestWithFingerprint() throws Exception {
        byte[] bytes = StunEncoder.encode(StunMessage.bindingRequest(TRANSACTION), null, true);
        assertEquals("000100082112a4420102030405060708090a0b0c" + "802800045b20f9cc", hex(bytes));
        assertRoundTrip(bytes);
    }

    @Test
    void bindingRequestWithChangeRequest() throws Exception {
        byte[] bytes = StunEncoder.encode(StunMessage.bindingRequest(TRANSACTION,
                new StunAttribute.ChangeRequest(true, true)), null, true);
        assertEquals("000100102112a4420102030405060708090a0b0c"
                + "0003000400000006" + "802800045eb7183d", hex(bytes));
        assertRoundTrip(bytes);
    }

    @Test
    void bindingSuccessWithRfc5780Attributes() throws Exception {
        StunMessage request = StunMessage.bindingRequest(TRANSACTION);
        byte[] bytes = StunEncoder.encode(StunMessage.bindingSuccess(request, List.of(
                new StunAttribute.XorMappedAddress(address("192.0.2.1", 32853)),
                new StunAttribute.ResponseOrigin(address("127.0.0.1", 3478)),
                new StunAttribute.OtherAddress(address("127.0.0.2", 3479)),
                new StunAttribute.Software("meshwork"))), null, true);
        assertEquals("010100382112a4420102030405060708090a0b0c"
                + "002000080001a147e112a643"
                + "802b000800010d967f000001"
                + "802c000800010d977f000002"
                + "802200086d657368776f726b"
                + "80280004f3ca3a67", hex(bytes));
        assertRoundTrip(bytes);
    }

    @Test
    void ipv6XorMappedAddress() throws Exception {
        StunMessage request = StunMessage.bindingRequest(TRANSACTION);
        byte[] bytes = StunEncoder.encode(StunMessage.bindingSuccess(request, List.of(
                new StunAttribute.XorMappedAddress(address("2001:db8::1", 443)))));
        assertEquals("010100182112a4420102030405060708090a0b0c"
                + "00200014000220a90113a9fa0102030405060708090a0b0d", hex(bytes));
        assertRoundTrip(bytes);
    }

    @Test
    void unknownAttributeError() throws Exception {
        StunMessage request = StunMessage.bindingRequest(TRANSACTION);
        byte[] bytes = StunEncoder.encode(StunMessage.bindingError(request, List.of(
                new StunAttribute.ErrorCode(420, "Unknown Attribute"),
                new StunAttribute.UnknownAttributes(List.of(0x0024, 0x7fff)),
                new StunAttribute.Software("meshwork"))), null, true);
        assertEquals("011100382112a4420102030405060708090a0b0c"
                + "0009001500000414556e6b6e6f776e20417474726962757465000000"
                + "000a000400247fff"
                + "802200086d657368776f726b"
                + "8028000479624fde", hex(bytes));
        assertRoundTrip(bytes);
    }

    @Test
    void classicResponseEchoesTheWholeTransactionId() throws Exception {
        StunMessage classicRequest = new StunMessage(StunClass.REQUEST, StunMessage.BINDING, 0x01020304,
                TransactionId.of(HexFormat.of().parseHex("05060708090a0b0c0d0e0f10")), List.of());
        byte[] bytes = StunEncoder.encode(StunMessage.bindingSuccess(classicRequest, List.of(
                new StunAttribute.MappedAddress(address("192.0.2.1", 32853)),
                new StunAttribute.SourceAddress(address("127.0.0.1", 3478)),
                new StunAttribute.ChangedAddress(address("127.0.0.2", 3479)))));
        assertEquals("010100240102030405060708090a0b0c0d0e0f10"
                + "0001000800018055c0000201"
                + "0004000800010d967f000001"
                + "0005000800010d977f000002", hex(bytes));
        assertRoundTrip(bytes);
    }

    @Test
    void requestWithShortTermIntegrity() throws Exception {
        byte[] bytes = StunEncoder.encode(StunMessage.bindingRequest(TRANSACTION,
                new StunAttribute.Username("user")), StunCredentials.shortTermKey("secret"), true);
        assertEquals("000100282112a4420102030405060708090a0b0c"
                + "0006000475736572"
                + "000800144679fb8a4a39ac8c3ee99ad1d662220df04b6ec4"
                + "80280004943db108", hex(bytes));
        assertEquals(true, StunDecoder.verifyIntegrity(java.nio.ByteBuffer.wrap(bytes),
                StunCredentials.shortTermKey("secret")));
    }
}
