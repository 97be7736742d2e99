package io.meshwork.protocol.portmap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * PCP (RFC 6887) against golden bytes laid out as in RFC 6887 §7.1, §7.2, §11.1 and §11.2, and against the replies
 * of a real miniupnpd 2.3.1 (captured in the lab: gateway 10.1.0.1, external address 192.0.3.201).
 */
class PcpTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] NONCE = HEX.parseHex("0102030405060708090a0b0c");
    /** The MAP request this codec sent to miniupnpd (RFC 6887 §11.1: client ::ffff:10.1.0.10, port 51840, 7200 s). */
    private static final String MAP_REQUEST = "0201000000001c2000000000000000000000ffff0a01000a"
            + "0102030405060708090a0b0c11000000ca80ca8000000000000000000000ffff00000000";
    /** miniupnpd's answer: SUCCESS, lifetime 7200, epoch 58, external 192.0.3.201:51840. */
    private static final String MAP_RESPONSE = "0281000000001c200000003a0000000000000000000000000102030405060708090a0b0c"
            + "11000000ca80ca8000000000000000000000ffffc00003c9";
    /** miniupnpd's answer to ANNOUNCE: SUCCESS, epoch 58. */
    private static final String ANNOUNCE_RESPONSE = "02800000000000000000003a000000000000000000000000";

    @Test
    void mapRequestHasTheLayoutOfRfc6887() throws Exception {
        byte[] request = Pcp.mapRequest(InetAddress.getByName("10.1.0.10"), NONCE, 51840, 51840, null, 7200);
        assertEquals(MAP_REQUEST, HEX.formatHex(request));
        assertEquals(60, request.length);
    }

    @Test
    void deleteIsMapWithLifetimeZero() throws Exception {
        byte[] request = Pcp.mapRequest(InetAddress.getByName("10.1.0.10"), NONCE, 51840, 51840,
                InetAddress.getByName("192.0.3.201"), 0);
        assertEquals("00000000", HEX.formatHex(request, 4, 8));
        assertEquals("00000000000000000000ffffc00003c9", HEX.formatHex(request, 44, 60));
    }

    @Test
    void announceIsAHeaderWithLifetimeZero() throws Exception {
        assertEquals("020000000000000000000000000000000000ffff0a01000a",
                HEX.formatHex(Pcp.announceRequest(InetAddress.getByName("10.1.0.10"))));
    }

    @Test
    void readsMiniupnpdsMapAnswer() throws Exception {
        byte[] bytes = HEX.parseHex(MAP_RESPONSE);
        Pcp.Response response = Pcp.parseResponse(bytes, bytes.length);
        assertTrue(response.success());
        assertEquals(Pcp.OPCODE_MAP, response.opcode());
        assertEquals(7200, response.lifetimeSeconds());
        assertEquals(58, response.epochSeconds());
        assertEquals(51840, response.internalPort());
        assertEquals(51840, response.externalPort());
        assertEquals(InetAddress.getByName("192.0.3.201"), response.externalAddress());
        assertTrue(response.nonceMatches(NONCE));
        assertFalse(response.nonceMatches(new byte[12]));
    }

    @Test
    void readsMiniupnpdsAnnounceAnswer() throws Exception {
        byte[] bytes = HEX.parseHex(ANNOUNCE_RESPONSE);
        Pcp.Response response = Pcp.parseResponse(bytes, bytes.length);
        assertTrue(response.success());
        assertEquals(Pcp.OPCODE_ANNOUNCE, response.opcode());
        assertEquals(58, response.epochSeconds());
    }

    @Test
    void readsAnErrorAnswer() throws Exception {
        byte[] bytes = HEX.parseHex(MAP_RESPONSE);
        bytes[3] = Pcp.NOT_AUTHORIZED;
        Pcp.Response response = Pcp.parseResponse(bytes, bytes.length);
        assertFalse(response.success());
        assertEquals(Pcp.NOT_AUTHORIZED, response.resultCode());
    }

    @Test
    void aNatPmpServersUnsupportedVersionAnswerIsNotPcp() {
        // RFC 6887 §9: a NAT-PMP-only server answers version 0, opcode 128 + op, result 1.
        byte[] bytes = HEX.parseHex("008100010000003a");
        assertReason(PortMapParseException.Reason.WRONG_VERSION, bytes, bytes.length);
    }

    @Test
    void refusesMalformedAnswers() {
        byte[] map = HEX.parseHex(MAP_RESPONSE);
        assertReason(PortMapParseException.Reason.TRUNCATED, map, 1);
        assertReason(PortMapParseException.Reason.TRUNCATED, map, 23);
        assertReason(PortMapParseException.Reason.TRUNCATED, map, 59);
        assertReason(PortMapParseException.Reason.OVERSIZED, new byte[1200], 1101);
        byte[] request = HEX.parseHex(MAP_REQUEST);
        assertReason(PortMapParseException.Reason.WRONG_OPCODE, request, request.length);
        byte[] peer = map.clone();
        peer[1] = (byte) 0x82;
        assertReason(PortMapParseException.Reason.WRONG_OPCODE, peer, peer.length);
        byte[] tcp = map.clone();
        tcp[36] = 6;
        assertReason(PortMapParseException.Reason.BAD_FIELD, tcp, tcp.length);
        byte[] noPort = map.clone();
        noPort[42] = 0;
        noPort[43] = 0;
        assertReason(PortMapParseException.Reason.BAD_FIELD, noPort, noPort.length);
    }

    @Test
    void trailingOptionsAreIgnored() throws Exception {
        byte[] map = HEX.parseHex(MAP_RESPONSE + "0100000400000000");
        assertEquals(51840, Pcp.parseResponse(map, map.length).externalPort());
    }

    @Test
    void addressesAreSixteenBytesOnTheWire() throws Exception {
        assertArrayEquals(HEX.parseHex("00000000000000000000ffff0a01000a"), Pcp.wire(InetAddress.getByName("10.1.0.10")));
        assertEquals(InetAddress.getByName("2001:db8::1"), Pcp.fromWire(HEX.parseHex("20010db8000000000000000000000001")));
    }

    private static void assertReason(PortMapParseException.Reason reason, byte[] bytes, int length) {
        PortMapParseException e = assertThrows(PortMapParseException.class, () -> Pcp.parseResponse(bytes, length));
        assertEquals(reason, e.reason());
    }
}
