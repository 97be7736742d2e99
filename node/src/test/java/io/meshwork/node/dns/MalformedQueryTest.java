package io.meshwork.node.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * What the resolver does with queries that are not well-formed: each kind is dropped without an answer and
 * counted, and the resolver answers the next good query as before. Then random bytes and mutations of a good
 * query (a fuzz with a fixed seed): nothing throws, every input is answered or counted.
 */
class MalformedQueryTest {

    private final DnsStats stats = new DnsStats();
    private final MeshResolver resolver = new MeshResolver(DnsZone.build("meshwork.internal",
            MeshResolverTest.DEVICES, MeshResolverTest.CUSTOM, MeshResolverTest.OVERLAY), null, stats);
    private final DnsCodec codec = new DnsCodec();

    private List<byte[]> send(byte[] bytes) {
        List<byte[]> replies = new ArrayList<>();
        resolver.handle(Unpooled.wrappedBuffer(bytes), DnsMessages.CLIENT, DnsMessages.SERVER, false, codec,
                ByteBufAllocator.DEFAULT, answer -> {
                    replies.add(ByteBufUtil.getBytes(answer));
                    answer.release();
                });
        return replies;
    }

    private static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replace(" ", ""));
    }

    private static final String GOOD = "1234 0100 0001 0000 0000 0000 04 64622d31 086d657368776f726b 08696e7465726e616c 00 "
            + "0001 0001";

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("empty datagram", ""),
                Arguments.of("shorter than a header", "1234 0100 0001"),
                Arguments.of("a response, not a query (QR set)", GOOD.replaceFirst("0100", "8100")),
                Arguments.of("no question", "1234 0100 0000 0000 0000 0000"),
                Arguments.of("two questions", "1234 0100 0002 0000 0000 0000 0161 00 0001 0001 0162 00 0001 0001"),
                Arguments.of("a question count with no question", "1234 0100 0001 0000 0000 0000"),
                Arguments.of("question cut inside a label", "1234 0100 0001 0000 0000 0000 04 6462"),
                Arguments.of("question without type and class", "1234 0100 0001 0000 0000 0000 0161 00"),
                Arguments.of("label longer than 63 (bad length octet)", "1234 0100 0001 0000 0000 0000 50 61 00 0001 0001"),
                Arguments.of("compression pointer to itself", "1234 0100 0001 0000 0000 0000 c00c 0001 0001"),
                Arguments.of("compression pointer past the end", "1234 0100 0001 0000 0000 0000 c0ff 0001 0001"),
                Arguments.of("an answer record in a query", GOOD.replaceFirst("0001 0000", "0001 0001")),
                Arguments.of("additional count with nothing there", GOOD.replaceFirst("0000 0000 04", "0000 0001 04")),
                Arguments.of("OPT record cut short",
                        GOOD.replaceFirst("0000 0000 04", "0000 0001 04") + " 00 0029 1000 0000 0000 0005 00"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void isDroppedAndCountedAndTheNextQueryIsAnswered(String kind, String bytes) {
        assertEquals(List.of(), send(hex(bytes)).stream().map(HexFormat.of()::formatHex).toList(), kind);
        assertEquals(1, stats.dropped.sum(), kind + " is counted");
        List<byte[]> good = send(hex(GOOD));
        assertEquals(1, good.size(), "a good query after " + kind);
        DnsResponse response = DnsMessages.decode(good.get(0));
        assertEquals(DnsResponseCode.NOERROR, response.code());
        assertEquals(0x1234, response.id());
        response.release();
    }

    @Test
    void theGoodQueryOfTheseTestsIsOne() {
        List<byte[]> replies = send(hex(GOOD));
        assertEquals(1, replies.size());
        assertEquals(0, stats.dropped.sum());
        assertTrue(replies.get(0).length > 12);
    }

    @Test
    void randomBytesAndMutatedQueriesNeverThrowAndAreAnsweredOrCounted() {
        Random random = new Random(20261207);
        byte[] good = DnsMessages.query(77, "db-1.meshwork.internal", DnsRecordType.A, 1232);
        int inputs = 20_000;
        long answered = 0;
        for (int i = 0; i < inputs; i++) {
            byte[] input;
            if (i % 2 == 0) {
                input = new byte[random.nextInt(600)];
                random.nextBytes(input);
            } else {
                input = good.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    input[random.nextInt(input.length)] = (byte) random.nextInt(256);
                }
                if (random.nextInt(4) == 0) {
                    input = java.util.Arrays.copyOf(input, random.nextInt(input.length));
                }
            }
            List<byte[]> replies = send(input);
            assertTrue(replies.size() <= 1);
            answered += replies.size();
            for (byte[] reply : replies) {
                DnsResponse response = DnsMessages.decode(reply);
                assertNotNull(response, "every answer decodes");
                response.release();
            }
        }
        assertEquals(inputs, answered + stats.dropped.sum(), "each input answered or counted as dropped");
        assertTrue(stats.dropped.sum() > inputs / 2, "most random input is dropped: " + stats.dropped.sum());
    }
}
