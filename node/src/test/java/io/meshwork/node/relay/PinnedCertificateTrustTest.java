package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.Locale;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class PinnedCertificateTrustTest {

    private static X509Certificate selfSigned(String name) throws Exception {
        var keys = KeyPairGenerator.getInstance("EC").generateKeyPair();
        X500Name subject = new X500Name("CN=" + name);
        Instant now = Instant.now();
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(subject, BigInteger.ONE,
                Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), subject, keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    @Test
    void thePinnedLeafIsTrustedWhateverFollowsIt() throws Exception {
        X509Certificate relay = selfSigned("relay");
        String pin = PinnedCertificateTrust.sha256Hex(relay);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(relay.getEncoded()), HexFormat.of().parseHex(pin));
        PinnedCertificateTrust trust = new PinnedCertificateTrust(pin);
        assertDoesNotThrow(() -> trust.checkServerTrusted(new X509Certificate[] {relay}, "ECDHE_ECDSA"));
        assertDoesNotThrow(() -> trust.checkServerTrusted(new X509Certificate[] {relay, selfSigned("issuer")},
                "ECDHE_ECDSA"));
        assertDoesNotThrow(() -> new PinnedCertificateTrust(pin.toUpperCase(Locale.ROOT))
                .checkServerTrusted(new X509Certificate[] {relay}, "ECDHE_ECDSA", (java.net.Socket) null));
    }

    @Test
    void anyOtherLeafIsRefusedEvenWithThePinnedOneBehindIt() throws Exception {
        X509Certificate relay = selfSigned("relay");
        X509Certificate impostor = selfSigned("relay");
        PinnedCertificateTrust trust = new PinnedCertificateTrust(PinnedCertificateTrust.sha256Hex(relay));
        assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(new X509Certificate[] {impostor}, "ECDHE_ECDSA"));
        assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(new X509Certificate[] {impostor, relay}, "ECDHE_ECDSA"));
    }

    @Test
    void anEmptyOrMissingChainIsRefused() throws Exception {
        PinnedCertificateTrust trust = new PinnedCertificateTrust(PinnedCertificateTrust.sha256Hex(selfSigned("r")));
        assertThrows(CertificateException.class, () -> trust.checkServerTrusted(new X509Certificate[0], "RSA"));
        assertThrows(CertificateException.class, () -> trust.checkServerTrusted(null, "RSA"));
        assertEquals(0, trust.getAcceptedIssuers().length);
    }

    @Test
    void itNeverAuthenticatesClients() throws Exception {
        X509Certificate relay = selfSigned("relay");
        PinnedCertificateTrust trust = new PinnedCertificateTrust(PinnedCertificateTrust.sha256Hex(relay));
        assertThrows(CertificateException.class,
                () -> trust.checkClientTrusted(new X509Certificate[] {relay}, "ECDHE_ECDSA"));
    }

    @Test
    void malformedPinsAreRefusedUpFront() {
        assertThrows(IllegalArgumentException.class, () -> new PinnedCertificateTrust("zz"));
        assertThrows(IllegalArgumentException.class, () -> new PinnedCertificateTrust("abcd"));
        assertThrows(IllegalArgumentException.class, () -> new PinnedCertificateTrust("00".repeat(33)));
        assertDoesNotThrow(() -> new PinnedCertificateTrust(String.join(":", java.util.Collections.nCopies(32, "AB"))));
    }
}
