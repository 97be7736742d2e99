package io.meshwork.relay.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.testing.TestDevices;
import java.nio.ByteBuffer;
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
