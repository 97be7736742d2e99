package io.meshwork.relay.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.DeviceCertificateProfile;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.testing.TestDevices;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceCredentialVerifierTest {

    private final TestDevices devices = new TestDevices("control CA");
    private final RevocationList revocations = new RevocationList();
    private final DeviceCredentialVerifier verifier = new DeviceCredentialVerifier(devices.anchors(), revocations);
    private final Instant now = Instant.now();

    private static ByteBuffer der(X509Certificate certificate) throws Exception {
        return ByteBuffer.wrap(certificate.getEncoded());
    }

    private CredentialVerdict verify(TestDevices.Device device) throws Exception {
        return verifier.verify(der(device.certificate()), device.keys().publicKey(), now);
    }

    private static AuthStatus refusal(CredentialVerdict verdict) {
        return assertInstanceOf(CredentialVerdict.Refused.class, verdict).status();
    }

    @Test
    void acceptsADeviceOfTheCa() throws Exception {
        TestDevices.Device device = devices.enroll("device-1");
        VerifiedDevice verified = assertInstanceOf(CredentialVerdict.Accepted.class, verify(device)).device();
        assertEquals("device-1", verified.deviceId());
        assertEquals(device.keys().publicKey(), verified.key());
        assertEquals(device.certificate().getSerialNumber(), verified.serial());
    }

    @Test
    void readsTheOrganizationAndTreatsItsAbsenceAsNone() throws Exception {
        TestDevices.Device scoped = devices.enroll("o0123456789ab", "device-2", now.minusSeconds(60),
                now.plusSeconds(3_600));
        assertEquals("o0123456789ab",
                assertInstanceOf(CredentialVerdict.Accepted.class, verify(scoped)).device().organizationId());
        TestDevices.Device unscoped = devices.enroll("device-3");
        assertEquals("", assertInstanceOf(CredentialVerdict.Accepted.class, verify(unscoped)).device()
                .organizationId());
    }

    @Test
    void refusesAMalformedOrSecondOrganization() throws Exception {
        KeyPair caKeys = ecKeys();
        X500Name caName = new X500Name("CN=hand-made CA");
        X509Certificate ca = sign(new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
                Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3_600)), caName, caKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(0)), caKeys);
        DeviceCredentialVerifier handMade = new DeviceCredentialVerifier(new TrustAnchors(List.of(ca)),
                new RevocationList());
        RelayKey key = RelayKeyPair.generate(new SecureRandom()).publicKey();
        String keyUri = DeviceCertificateProfile.wireGuardKeyUri(key);
        for (List<String> uris : List.of(
                List.of(keyUri, "urn:meshwork:organization:has space"),
                List.of(keyUri, "urn:meshwork:organization:o1", "urn:meshwork:organization:o2"))) {
            GeneralName[] names = uris.stream().map(uri -> new GeneralName(GeneralName.uniformResourceIdentifier, uri))
                    .toArray(GeneralName[]::new);
            X509Certificate device = sign(new JcaX509v3CertificateBuilder(caName, BigInteger.TWO,
                    Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3_600)), new X500Name("CN=d"),
                    ecKeys().getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names)), caKeys);
            assertEquals(AuthStatus.BAD_CERTIFICATE, refusal(handMade.verify(der(device), key, now)), uris.toString());
        }
    }

    private static KeyPair ecKeys() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }

    @Test
    void refusesAnotherCasDevice() throws Exception {
        TestDevices.Device stranger = new TestDevices("control CA").enroll("device-1");
        assertEquals(AuthStatus.UNTRUSTED, refusal(verify(stranger)));
    }

    @Test
    void refusesRevokedSerials() throws Exception {
        TestDevices.Device device = devices.enroll("device-1");
        revocations.replace(Set.of(device.certificate().getSerialNumber()));
        assertEquals(AuthStatus.REVOKED, refusal(verify(device)));
        revocations.replace(Set.of());
        assertInstanceOf(CredentialVerdict.Accepted.class, verify(device));
    }

    @Test
    void refusesOutsideValidity() throws Exception {
        assertEquals(AuthStatus.EXPIRED, refusal(verify(
                devices.enroll("old", now.minusSeconds(7200), now.minusSeconds(3600)))));
        assertEquals(AuthStatus.NOT_YET_VALID, refusal(verify(
                devices.enroll("early", now.plusSeconds(3600), now.plusSeconds(7200)))));
    }

    @Test
    void refusesACertificateForAnotherKey() throws Exception {
        TestDevices.Device device = devices.enroll("device-1");
        RelayKey other = RelayKeyPair.generate(new SecureRandom()).publicKey();
        assertEquals(AuthStatus.KEY_MISMATCH, refusal(verifier.verify(der(device.certificate()), other, now)));
    }

    @Test
    void refusesTheCaCertificateItself() throws Exception {
        RelayKey key = RelayKeyPair.generate(new SecureRandom()).publicKey();
        assertEquals(AuthStatus.BAD_CERTIFICATE, refusal(verifier.verify(der(devices.ca().caCertificate()), key, now)));
    }

    @Test
    void refusesGarbageWithoutThrowing() throws Exception {
        RelayKey key = RelayKeyPair.generate(new SecureRandom()).publicKey();
        assertEquals(AuthStatus.BAD_CERTIFICATE, refusal(verifier.verify(ByteBuffer.allocate(0), key, now)));
        assertEquals(AuthStatus.BAD_CERTIFICATE, refusal(verifier.verify(
                ByteBuffer.wrap(new byte[] {0x30, (byte) 0x82, 0x7f, 0x7f, 1, 2, 3}), key, now)));
        byte[] truncated = devices.enroll("device-1").certificate().getEncoded();
        assertEquals(AuthStatus.BAD_CERTIFICATE, refusal(verifier.verify(
                ByteBuffer.wrap(truncated, 0, truncated.length / 2), key, now)));
        byte[] flipped = devices.enroll("device-2").certificate().getEncoded();
        flipped[flipped.length - 5] ^= 0x40;
        AuthStatus status = refusal(verifier.verify(ByteBuffer.wrap(flipped), key, now));
        assertTrue(status == AuthStatus.UNTRUSTED || status == AuthStatus.BAD_CERTIFICATE, status.name());
    }

    @Test
    void anchorsLoadFromPem(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("ca.pem");
        Files.writeString(file, DeviceCertificateIssuer.toPem(devices.ca().caCertificate()));
        DeviceCredentialVerifier fromFile = new DeviceCredentialVerifier(TrustAnchors.fromFile(file), revocations);
        TestDevices.Device device = devices.enroll("device-1");
        assertInstanceOf(CredentialVerdict.Accepted.class,
                fromFile.verify(der(device.certificate()), device.keys().publicKey(), now));
    }
}
