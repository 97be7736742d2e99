package io.meshwork.protocol.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * NAT-PMP (RFC 6886) against golden bytes laid out as in RFC 6886 §3.2, §3.3 and §3.5, and against the replies of a
 * real miniupnpd 2.3.1 (captured in the lab: external address 192.0.3.201, epoch 58).
 */
class NatPmpTest {

    private static final HexFormat HEX = HexFormat.of();

    @Test
    void requestsHaveTheLayoutOfRfc6886() {
        assertEquals("0000", HEX.formatHex(NatPmp.externalAddressRequest()));
        assertEquals("00010000ca76ca7600001c20", HEX.formatHex(NatPmp.mapUdpRequest(51830, 51830, 7200)));
        // §3.4: a delete has lifetime 0 and suggested external port 0.
        assertEquals("00010000ca76000000000000", HEX.formatHex(NatPmp.mapUdpRequest(51830, 0, 0)));
    }

    @Test
    void readsMiniupnpdsExternalAddressAnswer() throws Exception {
        byte[] bytes = HEX.parseHex("008000000000003ac00003c9");
        NatPmp.Response response = NatPmp.parseResponse(bytes, bytes.length, NatPmp.OPCODE_EXTERNAL_ADDRESS);
        assertTrue(response.success());
        assertEquals(58, response.epochSeconds());
        assertEquals(InetAddress.getByName("192.0.3.201"), response.externalAddress());
    }

    @Test
    void readsMiniupnpdsMappingAnswer() throws Exception {
        byte[] bytes = HEX.parseHex("008100000000003aca76ca7600001c20");
        NatPmp.Response response = NatPmp.parseResponse(bytes, bytes.length, NatPmp.OPCODE_MAP_UDP);
        assertTrue(response.success());
        assertEquals(51830, response.internalPort());
        assertEquals(51830, response.externalPort());
        assertEquals(7200, response.lifetimeSeconds());
        assertNull(response.externalAddress());
    }

    @Test
    void readsAShortenedErrorAnswer() throws Exception {
        // miniupnpd answers an unknown opcode with the 8 common bytes only (RFC 6886 §3.5).
        byte[] bytes = HEX.parseHex("008900050000003a");
        NatPmp.Response response = NatPmp.parseResponse(bytes, bytes.length, 9);
        assertFalse(response.success());
        assertEquals(NatPmp.UNSUPPORTED_OPCODE, response.resultCode());
    }

    @Test
    void refusesMalformedAnswers() {
        byte[] mapping = HEX.parseHex("008100000000003aca76ca7600001c20");
        assertReason(PortMapParseException.Reason.TRUNCATED, mapping, 1, NatPmp.OPCODE_MAP_UDP);
        assertReason(PortMapParseException.Reason.TRUNCATED, mapping, 7, NatPmp.OPCODE_MAP_UDP);
        assertReason(PortMapParseException.Reason.TRUNCATED, mapping, 15, NatPmp.OPCODE_MAP_UDP);
        assertReason(PortMapParseException.Reason.WRONG_OPCODE, mapping, 16, NatPmp.OPCODE_EXTERNAL_ADDRESS);
        assertReason(PortMapParseException.Reason.TRUNCATED, HEX.parseHex("008000000000003ac000"), 10,
                NatPmp.OPCODE_EXTERNAL_ADDRESS);
        assertReason(PortMapParseException.Reason.OVERSIZED, new byte[2000], 1101, NatPmp.OPCODE_MAP_UDP);
        byte[] pcp = HEX.parseHex("02800000000000000000003a000000000000000000000000");
        assertReason(PortMapParseException.Reason.WRONG_VERSION, pcp, pcp.length, NatPmp.OPCODE_EXTERNAL_ADDRESS);
        byte[] request = NatPmp.mapUdpRequest(51830, 51830, 7200);
        assertReason(PortMapParseException.Reason.WRONG_OPCODE, request, request.length, NatPmp.OPCODE_MAP_UDP);
        byte[] noInternal = mapping.clone();
        noInternal[8] = 0;
        noInternal[9] = 0;
        assertReason(PortMapParseException.Reason.BAD_FIELD, noInternal, 16, NatPmp.OPCODE_MAP_UDP);
    }

    private static void assertReason(PortMapParseException.Reason reason, byte[] bytes, int length, int opcode) {
        PortMapParseException e = assertThrows(PortMapParseException.class,
                () -> NatPmp.parseResponse(bytes, length, opcode));
        assertEquals(reason, e.reason());
    }
}
