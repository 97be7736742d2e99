package io.meshwork.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated datagrams (fixed seed, so failures reproduce): the decoder must either return a
 * message or throw {@link StunParseException}, never anything else.
 */
class StunFuzzTest {

    private static final long SEED = 0x5354554EL;

    private static List<byte[]> seeds() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 40000);
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 40001);
        StunMessage request = StunMessage.bindingRequest(TransactionId.random(),
                new StunAttribute.ChangeRequest(true, false), new StunAttribute.Username("u"));
        return List.of(
                StunEncoder.encode(request, StunCredentials.shortTermKey("pw"), true),
                StunEncoder.encode(StunMessage.bindingSuccess(request, List.of(
                        new StunAttribute.XorMappedAddress(v4), new StunAttribute.XorMappedAddress(v6),
                        new StunAttribute.MappedAddress(v4), new StunAttribute.ResponseOrigin(v4),
                        new StunAttribute.OtherAddress(v6), new StunAttribute.Software("meshwork"))), null, true),
                StunEncoder.encode(StunMessage.bindingError(request, List.of(
                        new StunAttribute.ErrorCode(420, "Unknown Attribute"),
                        new StunAttribute.UnknownAttributes(List.of(1, 2, 3))))),
                Rfc5769VectorsTest.SAMPLE_REQUEST,
                Rfc5769VectorsTest.SAMPLE_IPV4_RESPONSE,
                Rfc5769VectorsTest.SAMPLE_IPV6_RESPONSE);
    }

    private static void decodeEveryWay(byte[] datagram) {
        ByteBuffer buffer = ByteBuffer.wrap(datagram);
        try {
            StunDecoder.decode(buffer);
        } catch (StunParseException expected) {
            assertTrue(expected.reason() != null);
        }
        try {
            StunMessage message = StunDecoder.decodeAllowingClassic(buffer);
            message.mappedAddress();
            message.otherAddress();
            message.unknownComprehensionRequired();
        } catch (StunParseException expected) {
            assertTrue(expected.reason() != null);
        }
        try {
            StunDecoder.verifyIntegrity(buffer, new byte[] {1, 2, 3});
        } catch (StunParseException expected) {
            assertTrue(expected.reason() != null);
        }
    }

    @Test
    void randomBytes() {
        Random random = new Random(SEED);
        for (int i = 0; i < 20_000; i++) {
            byte[] datagram = new byte[random.nextInt(200)];
            random.nextBytes(datagram);
            if (random.nextBoolean() && datagram.length >= 8) {
                // Make the header plausible so the attribute parser gets exercised too.
                datagram[0] &= 0x01;
                datagram[2] = 0;
                datagram[3] = (byte) ((datagram.length - 20) & 0xFC);
                datagram[4] = 0x21;
                datagram[5] = 0x12;
                datagram[6] = (byte) 0xa4;
                datagram[7] = 0x42;
            }
            decodeEveryWay(datagram);
        }
    }

    @Test
    void mutatedMessages() throws Exception {
        Random random = new Random(SEED + 1);
        List<byte[]> seeds = seeds();
        for (int i = 0; i < 50_000; i++) {
            byte[] datagram = seeds.get(random.nextInt(seeds.size())).clone();
            int mutations = 1 + random.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                switch (random.nextInt(4)) {
                    case 0 -> datagram[random.nextInt(datagram.length)] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> datagram[random.nextInt(datagram.length)] = (byte) random.nextInt(256);
                    case 2 -> datagram = java.util.Arrays.copyOf(datagram, random.nextInt(datagram.length + 1));
                    default -> {
                        // Corrupt a length field at a 4-byte boundary: header or attribute.
                        int at = 4 * random.nextInt(Math.max(1, datagram.length / 4)) + 2;
                        if (at + 1 < datagram.length) {
                            datagram[at] = (byte) random.nextInt(256);
                            datagram[at + 1] = (byte) random.nextInt(256);
                        }
                    }
                }
                if (datagram.length == 0) {
                    break;
                }
            }
            decodeEveryWay(datagram);
        }
    }
}
