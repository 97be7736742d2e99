package io.meshwork.relay.testing;

import io.meshwork.node.relay.RelayCredential;
import io.meshwork.protocol.relay.RelayKeyPair;
import io.meshwork.relay.auth.DeviceCertificateIssuer;
import io.meshwork.relay.auth.TrustAnchors;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** A test CA and devices enrolled under it. */
public final class TestDevices {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final DeviceCertificateIssuer ca;

    public TestDevices(String caName) {
        this.ca = DeviceCertificateIssuer.create(caName);
    }

    public TrustAnchors anchors() {
        return new TrustAnchors(List.of(ca.caCertificate()));
    }

    public DeviceCertificateIssuer ca() {
        return ca;
    }

    /** A device with a fresh key and a certificate valid now. */
    public Device enroll(String deviceId) {
        RelayKeyPair keys = RelayKeyPair.generate(RANDOM);
        return new Device(keys, ca.issue(deviceId, keys.publicKey()));
    }

    /** A device whose certificate is valid only within [notBefore, notAfter]. */
    public Device enroll(String deviceId, Instant notBefore, Instant notAfter) {
        RelayKeyPair keys = RelayKeyPair.generate(RANDOM);
        return new Device(keys, ca.issue(deviceId, keys.publicKey(), notBefore, notAfter));
    }

    /** A device of organization {@code organizationId}, with a certificate valid within [notBefore, notAfter]. */
    public Device enroll(String organizationId, String deviceId, Instant notBefore, Instant notAfter) {
        RelayKeyPair keys = RelayKeyPair.generate(RANDOM);
        return new Device(keys, ca.issue(Optional.of(organizationId), deviceId, keys.publicKey(), notBefore,
                notAfter));
    }

    public record Device(RelayKeyPair keys, X509Certificate certificate) {
        public RelayCredential credential() {
            try {
                return new RelayCredential(keys, certificate.getEncoded());
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
