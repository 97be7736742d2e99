package io.meshwork.protocol.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DeviceCertificateProfileTest {

    private static final String HEX = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

    @Test
    void keyUriRoundTrip() {
        RelayKey key = RelayKey.of(HexFormat.of().parseHex(HEX));
        String uri = DeviceCertificateProfile.wireGuardKeyUri(key);
        assertEquals("urn:meshwork:wireguard:" + HEX, uri);
        assertEquals(Optional.of(key), DeviceCertificateProfile.parseWireGuardKeyUri(uri));
        assertEquals(Optional.of(key), DeviceCertificateProfile.parseWireGuardKeyUri(uri.toUpperCase()));
        assertEquals(HEX, HexFormat.of().formatHex(key.bytes()));
        assertEquals(key, RelayKey.fromBase64(key.toBase64()));
    }

    @Test
    void foreignOrMalformedUrisAreIgnored() {
        assertTrue(DeviceCertificateProfile.parseWireGuardKeyUri("https://example.com/").isEmpty());
        assertTrue(DeviceCertificateProfile.parseWireGuardKeyUri("urn:meshwork:wireguard:" + HEX.substring(2)).isEmpty());
        assertTrue(DeviceCertificateProfile.parseWireGuardKeyUri("urn:meshwork:wireguard:" + "zz" + HEX.substring(2))
                .isEmpty());
    }

    @Test
    void organizationUriRoundTripAndMalformedOnesAreRefused() {
        String uri = DeviceCertificateProfile.organizationUri("o0123456789ab");
        assertEquals("urn:meshwork:organization:o0123456789ab", uri);
        assertEquals(Optional.of("o0123456789ab"), DeviceCertificateProfile.parseOrganizationUri(uri));
        assertTrue(DeviceCertificateProfile.isOrganizationUri("URN:MESHWORK:ORGANIZATION:x"));
        assertTrue(DeviceCertificateProfile.parseOrganizationUri("urn:meshwork:organization:").isEmpty());
        assertTrue(DeviceCertificateProfile.parseOrganizationUri("urn:meshwork:organization:a b").isEmpty());
        assertTrue(DeviceCertificateProfile.parseOrganizationUri("urn:meshwork:organization:" + "a".repeat(65))
                .isEmpty());
        assertTrue(DeviceCertificateProfile.parseOrganizationUri("urn:meshwork:wireguard:" + HEX).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> DeviceCertificateProfile.organizationUri("a/b"));
    }
}
