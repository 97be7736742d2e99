package io.meshwork.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class StunResponderTest {

    private static final InetSocketAddress CLIENT = address("203.0.113.9", 51000);
    private static final InetSocketAddress IP1_P = address("192.0.2.1", 3478);
    private static final InetSocketAddress IP1_P1 = address("192.0.2.1", 3479);
    private static final InetSocketAddress IP2_P = address("192.0.2.2", 3478);
    private static final InetSocketAddress IP2_P1 = address("192.0.2.2", 3479);

    private static final StunResponder SINGLE = new StunResponder(
            StunServerAddresses.single(IP1_P.getAddress(), 3478), "meshwork");
    private static final StunResponder RFC5780 = new StunResponder(
            StunServerAddresses.rfc5780(IP1_P.getAddress(), IP2_P.getAddress(), 3478), "meshwork");

    private static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetSocketAddress socketNamed(String name) {
        return switch (name) {
            case "IP1:P" -> IP1_P;
            case "IP1:P+1" -> IP1_P1;
            case "IP2:P" -> IP2_P;
            case "IP2:P+1" -> IP2_P1;
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static StunResponder.Reply reply(StunResponder responder, byte[] request, InetSocketAddress local) {
        return assertInstanceOf(StunResponder.Reply.class,
                responder.respond(ByteBuffer.wrap(request), CLIENT, local));
    }

    private static StunMessage decode(StunResponder.Reply reply) throws StunParseException {
        return StunDecoder.decodeAllowingClassic(ByteBuffer.wrap(reply.datagram()));
    }

    @Test
    void singleAddressAnswersWithTheMappedAddress() throws Exception {
        StunMessage request = StunMessage.bindingRequest(TransactionId.random());
        StunResponder.Reply reply = reply(SINGLE, StunEncoder.encode(request), IP1_P);
        assertEquals(IP1_P, reply.from());
        assertEquals(CLIENT, reply.to());
        StunMessage response = StunDecoder.decode(reply.datagram());
        assertEquals(StunClass.SUCCESS_RESPONSE, response.messageClass());
        assertEquals(request.transactionId(), response.transactionId());
        assertEquals(Optional.of(CLIENT), response.attribute(StunAttribute.XorMappedAddress.class)
                .map(StunAttribute.XorMappedAddress::address));
        assertEquals(Optional.of(IP1_P), response.responseOrigin());
        assertEquals(Optional.empty(), response.otherAddress());
        assertTrue(response.attribute(StunAttribute.Fingerprint.class).isPresent());
    }

    @ParameterizedTest(name = "received on {0}, change ip={1} port={2} -> from {3}, other {4}")
    @CsvSource({
        "IP1:P,   false, false, IP1:P,   IP2:P+1",
        "IP1:P,   true,  false, IP2:P,   IP1:P+1",
        "IP1:P,   false, true,  IP1:P+1, IP2:P",
        "IP1:P,   true,  true,  IP2:P+1, IP1:P",
        "IP2:P,   false, false, IP2:P,   IP1:P+1",
        "IP2:P+1, true,  false, IP1:P+1, IP2:P",
        "IP1:P+1, false, true,  IP1:P,   IP2:P+1",
    })
    void rfc5780ChangeRequests(String receivedOn, boolean changeIp, boolean changePort, String from, String other)
            throws Exception {
        byte[] request = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random(),
                new StunAttribute.ChangeRequest(changeIp, changePort)), null, true);
        StunResponder.Reply reply = reply(RFC5780, request, socketNamed(receivedOn));
        assertEquals(socketNamed(from), reply.from());
        StunMessage response = decode(reply);
        assertEquals(Optional.of(socketNamed(from)), response.responseOrigin());
        assertEquals(Optional.of(socketNamed(other)), response.otherAddress());
        assertEquals(Optional.of(CLIENT), response.mappedAddress());
    }

    @Test
    void classicClientsGetClassicAttributesAndTheirCookieBack() throws Exception {
        byte[] request = HexFormat.of().parseHex("00010008" + "a1b2c3d4" + "0102030405060708090a0b0c"
                + "0003000400000004");
        StunResponder.Reply reply = reply(RFC5780, request, IP1_P);
        assertEquals(IP2_P, reply.from());
        StunMessage response = decode(reply);
        assertEquals(0xa1b2c3d4, response.magicCookie());
        assertEquals(List.of(new StunAttribute.MappedAddress(CLIENT), new StunAttribute.SourceAddress(IP2_P),
                new StunAttribute.ChangedAddress(IP1_P1)), response.attributes());
    }

    @Test
    void unknownComprehensionRequiredAttributesGet420() throws Exception {
        StunMessage request = StunMessage.bindingRequest(TransactionId.random(),
                new StunAttribute.Unknown(0x0024, new byte[4]), new StunAttribute.Unknown(0x8029, new byte[8]));
        StunResponder.Reply reply = reply(RFC5780, StunEncoder.encode(request), IP1_P);
        StunMessage response = decode(reply);
        assertEquals(StunClass.ERROR_RESPONSE, response.messageClass());
        assertEquals(420, response.attribute(StunAttribute.ErrorCode.class).orElseThrow().code());
        assertEquals(List.of(0x0024), response.attribute(StunAttribute.UnknownAttributes.class).orElseThrow().types());
    }

    @Test
    void changeRequestWithoutAnAlternateAddressGets420() throws Exception {
        byte[] request = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random(),
                new StunAttribute.ChangeRequest(false, true)));
        StunMessage response = decode(reply(SINGLE, request, IP1_P));
        assertEquals(420, response.attribute(StunAttribute.ErrorCode.class).orElseThrow().code());
        assertEquals(List.of(StunAttributeType.CHANGE_REQUEST),
                response.attribute(StunAttribute.UnknownAttributes.class).orElseThrow().types());
    }

    @Test
    void changeRequestAskingForNoChangeIsAnsweredWithoutAlternate() throws Exception {
        byte[] request = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random(),
                new StunAttribute.ChangeRequest(false, false)));
        assertEquals(StunClass.SUCCESS_RESPONSE, decode(reply(SINGLE, request, IP1_P)).messageClass());
    }

    @Test
    void unknownMethodGets400WithThatMethod() throws Exception {
        StunMessage request = new StunMessage(StunClass.REQUEST, 0x003, StunMessage.MAGIC_COOKIE,
                TransactionId.random(), List.of());
        StunMessage response = decode(reply(SINGLE, StunEncoder.encode(request), IP1_P));
        assertEquals(0x003, response.method());
        assertEquals(400, response.attribute(StunAttribute.ErrorCode.class).orElseThrow().code());
    }

    @Test
    void malformedResponsesAndStrangersAreDropped() {
        assertEquals(StunResponder.DropReason.MALFORMED, drop(SINGLE, new byte[] {1, 2, 3}, IP1_P));
        byte[] response = StunEncoder.encode(StunMessage.bindingSuccess(
                StunMessage.bindingRequest(TransactionId.random()), List.of()));
        assertEquals(StunResponder.DropReason.NOT_A_REQUEST, drop(SINGLE, response, IP1_P));
        byte[] request = StunEncoder.encode(StunMessage.bindingRequest(TransactionId.random()));
        assertEquals(StunResponder.DropReason.UNKNOWN_LOCAL_ADDRESS, drop(SINGLE, request, IP2_P));
    }

    private static StunResponder.DropReason drop(StunResponder responder, byte[] datagram, InetSocketAddress local) {
        return assertInstanceOf(StunResponder.Drop.class,
                responder.respond(ByteBuffer.wrap(datagram), CLIENT, local)).reason();
    }

    @Test
    void addressesRejectImpossibleSets() {
        assertFalse(StunServerAddresses.single(IP1_P.getAddress(), 3478).supportsRfc5780());
        assertEquals(4, StunServerAddresses.rfc5780(IP1_P.getAddress(), IP2_P.getAddress(), 3478).sockets().size());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> StunServerAddresses.rfc5780(IP1_P.getAddress(), IP1_P.getAddress(), 3478));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> StunServerAddresses.rfc5780(IP1_P.getAddress(), IP2_P.getAddress(), 65535));
    }
}
