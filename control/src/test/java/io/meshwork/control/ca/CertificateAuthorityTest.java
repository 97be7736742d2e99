package io.meshwork.control.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;

class CertificateAuthorityTest {

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void validityTimesAreUtcTimeBefore2050AndGeneralizedTimeFromThen() throws Exception {
        assertEquals("UTCTime", asn1Kind(CertificateAuthority.time(java.time.Instant.parse("2049-12-31T23:59:59.7Z"))));
        assertEquals("491231235959Z", ((org.bouncycastle.asn1.ASN1UTCTime) CertificateAuthority.time(
                java.time.Instant.parse("2049-12-31T23:59:59.7Z")).toASN1Primitive()).getTime().substring(0, 12)
                + "Z");
        assertEquals("GeneralizedTime", asn1Kind(CertificateAuthority.time(java.time.Instant.parse("2050-01-01T00:00:00Z"))));
        assertEquals(new org.bouncycastle.asn1.x509.Time(java.util.Date.from(java.time.Instant.parse(
                "2031-02-03T04:05:06Z"))).getDate(), CertificateAuthority.time(java.time.Instant.parse(
                "2031-02-03T04:05:06.999Z")).getDate(), "the same instant as BouncyCastle's own, to the second");
    }

    private static String asn1Kind(org.bouncycastle.asn1.x509.Time time) {
        return time.toASN1Primitive() instanceof org.bouncycastle.asn1.ASN1UTCTime ? "UTCTime"
                : time.toASN1Primitive() instanceof org.bouncycastle.asn1.ASN1GeneralizedTime ? "GeneralizedTime" : "?";
    }

    @Test
    void aSerialDrawnBeforehandIsTheOneTheCertificateCarries() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate();
        String serial = CertificateAuthority.newSerialHex();
        assertTrue(!serial.equals(CertificateAuthority.newSerialHex()), "serials are random");
        X509Certificate device = parse(ca.issueDeviceCertificate("o0123456789ab", "d-7", new byte[32], serial).pem());
        device.verify(parse(ca.certificatePem()).getPublicKey());
        assertEquals(serial, device.getSerialNumber().toString(16));
        assertTrue(device.getSubjectAlternativeNames().toString().contains("urn:meshwork:organization:o0123456789ab"),
                "the organization is named for relays");
    }

    @Test
    void aDeviceCertificateIsSignedByTheCaNamesItAsIssuerAndIsTheSamePemAJcaWriterWrites() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate();
        X509Certificate caCertificate = parse(ca.certificatePem());
        byte[] wireGuardKey = new byte[32];
        wireGuardKey[0] = 7;
        CertificateAuthority.Issued issued = ca.issueDeviceCertificate("d-42", wireGuardKey);

        X509Certificate device = parse(issued.pem());
        device.verify(caCertificate.getPublicKey());
        assertEquals(caCertificate.getSubjectX500Principal(), device.getIssuerX500Principal());
        assertEquals("CN=d-42", device.getSubjectX500Principal().getName());
        assertEquals(issued.serialHex(), device.getSerialNumber().toString(16));
        assertTrue(device.getSubjectAlternativeNames().toString().contains(HexFormat.of().formatHex(wireGuardKey)));

        java.time.Instant issuedAt = java.time.Instant.now();
        assertTrue(Math.abs(device.getNotBefore().toInstant().getEpochSecond()
                - issuedAt.minusSeconds(300).getEpochSecond()) <= 5, device.getNotBefore().toString());
        assertTrue(Math.abs(device.getNotAfter().toInstant().getEpochSecond()
                - issuedAt.plus(java.time.Duration.ofDays(365)).getEpochSecond()) <= 5, device.getNotAfter().toString());

        // The same thread's signer again: each certificate verifies on its own.
        for (int i = 0; i < 3; i++) {
            X509Certificate next = parse(ca.issueDeviceCertificate("d-" + i, wireGuardKey).pem());
            next.verify(caCertificate.getPublicKey());
            assertEquals("CN=d-" + i, next.getSubjectX500Principal().getName());
        }

        StringWriter expected = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(expected)) {
            writer.writeObject(device);
        }
        assertEquals(expected.toString(), issued.pem());
    }
}
