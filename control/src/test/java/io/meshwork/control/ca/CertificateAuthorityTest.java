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

        StringWriter expected = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(expected)) {
            writer.writeObject(device);
        }
        assertEquals(expected.toString(), issued.pem());
    }
}
