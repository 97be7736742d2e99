package io.meshwork.control.ca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.DeviceCertificateProfile;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class CertificateAuthorityTest {

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void validityTimesAreUtcTimeBefore2050AndGeneralizedTimeFromThenAsBouncyCastleWritesThem() throws Exception {
        for (String instant : List.of("2049-12-31T23:59:59.7Z", "2050-01-01T00:00:00Z", "2031-02-03T04:05:06.999Z",
                "2026-12-07T00:00:09Z", "2099-10-11T12:13:14Z")) {
            Instant time = Instant.parse(instant);
            assertArrayEquals(new Time(Date.from(time.truncatedTo(ChronoUnit.SECONDS))).getEncoded("DER"),
                    DeviceCertificateDer.time(time), instant);
        }
        assertEquals(0x17, DeviceCertificateDer.time(Instant.parse("2049-12-31T23:59:59Z"))[0], "UTCTime");
        assertEquals(0x18, DeviceCertificateDer.time(Instant.parse("2050-01-01T00:00:00Z"))[0], "GeneralizedTime");
    }

    /**
     * The device certificate written as DER directly has the bytes BouncyCastle's builder wrote for the same fields
     * (what certificates were before): with and without an organization, validity before and after 2050, device
     * ids and serials of several lengths (a serial with its top bit set needs a leading zero).
     */
    @Test
    void aDeviceCertificateHasTheStructureBouncyCastlesBuilderGaveIt() throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate();
        X500Name issuer = X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(
                KeyPairGenerator.getInstance("EC").generateKeyPair().getPrivate());
        SecureRandom random = new SecureRandom();
        Instant now = Instant.parse("2026-12-07T23:41:02.345Z");
        for (int i = 0; i < 40; i++) {
            CertificateAuthority authority = i % 3 == 2 ? ca.withDeviceLifetime(Duration.ofDays(365 * 40))
                    : i % 3 == 1 ? ca.withDeviceLifetime(Duration.ofMinutes(20)) : ca;
            byte[] key = new byte[32];
            random.nextBytes(key);
            BigInteger serial = i == 0 ? BigInteger.ONE : i == 1 ? BigInteger.ONE.shiftLeft(127)
                    : new BigInteger(128, random);
            String deviceId = "d" + "0123456789abcdef".repeat(5).substring(0, 4 + i);
            Optional<String> organization = i % 2 == 0 ? Optional.of("o0123456789ab") : Optional.empty();
            Duration backdate = authority.deviceLifetime().dividedBy(10).compareTo(Duration.ofMinutes(5)) < 0
                    ? authority.deviceLifetime().dividedBy(10) : Duration.ofMinutes(5);
            Instant at = now.plusSeconds(i * 7919L);
            GeneralName keyName = new GeneralName(GeneralName.uniformResourceIdentifier,
                    CertificateAuthority.WIREGUARD_KEY_URI_PREFIX + HexFormat.of().formatHex(key));
            GeneralNames names = organization.map(id -> new GeneralNames(new GeneralName[] {keyName,
                    new GeneralName(GeneralName.uniformResourceIdentifier,
                            DeviceCertificateProfile.organizationUri(id))})).orElseGet(() -> new GeneralNames(keyName));
            byte[] expected = new X509v3CertificateBuilder(issuer, serial,
                    new Time(Date.from(at.minus(backdate).truncatedTo(ChronoUnit.SECONDS))),
                    new Time(Date.from(at.plus(authority.deviceLifetime()).truncatedTo(ChronoUnit.SECONDS))),
                    new X500Name(new RDN[] {new RDN(BCStyle.CN, new DERUTF8String(deviceId))}),
                    new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_X25519), key))
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyAgreement))
                    .addExtension(Extension.subjectAlternativeName, false, names)
                    .build(signer).toASN1Structure().getTBSCertificate().getEncoded("DER");
            assertArrayEquals(expected, authority.deviceTbs(organization, deviceId, key, serial, at),
                    "certificate " + i);
        }
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
