package io.meshwork.protocol.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.cert.CertificateException;
import java.util.Collections;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class CertificatePinTest {

    private static final String HEX = "0123456789abcdef".repeat(4);

    @Test
    void theWrittenFormBareHexAndColonsAllReadAsOnePin() {
        CertificatePin pin = CertificatePin.parse("sha256:" + HEX);
        assertEquals("sha256:" + HEX, pin.toString());
        assertEquals(HEX, pin.hex());
        assertEquals(pin, CertificatePin.parse(HEX));
        assertEquals(pin, CertificatePin.parse("SHA256:" + HEX.toUpperCase()));
        assertEquals(CertificatePin.parse("sha256:" + "ab".repeat(32)),
                CertificatePin.parse(String.join(":", Collections.nCopies(32, "AB"))));
    }

    @Test
    void anythingElseIsRefusedWithAOneLineMessage() {
        for (String bad : new String[] {"", " ", "sha256:", "sha256:zz", "abcd", "00".repeat(33), "md5:" + HEX}) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> CertificatePin.parse(bad), bad);
            assertTrue(refused.getMessage().startsWith("a certificate pin is sha256:<64 hex digits>"), bad);
            assertTrue(!refused.getMessage().contains("\n"));
        }
        assertThrows(IllegalArgumentException.class, () -> CertificatePin.parse(null));
    }

    @Test
    void aMismatchIsFoundInsideTheHandshakeFailureThatWrapsIt() {
        PinnedTrustManager trust = new PinnedTrustManager(CertificatePin.parse(HEX), "control", "does not match");
        CertificateException refusal = assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(new java.security.cert.X509Certificate[0], "EC"));
        SSLHandshakeException handshake = new SSLHandshakeException("PKIX");
        handshake.initCause(refusal);
        assertSame(refusal, CertificatePin.mismatchIn(new java.io.IOException(handshake)).orElseThrow());
        assertTrue(CertificatePin.mismatchIn(new java.io.IOException("refused")).isEmpty());
    }
}
