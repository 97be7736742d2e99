package io.meshwork.relay.auth;

import io.meshwork.protocol.relay.AuthStatus;
import io.meshwork.protocol.relay.DeviceCertificateProfile;
import io.meshwork.protocol.relay.RelayKey;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * Checks a device certificate locally, with no call to control: issued by a trusted CA, not revoked, within
 * its validity, naming the WireGuard key the client proved it holds and at most one well-formed organization
 * ({@link DeviceCertificateProfile}).
 * The certificate bytes come from the network, so anything unparsable is a refusal, never an exception.
 */
public final class DeviceCredentialVerifier {

    private static final int SUBJECT_ALT_NAME_URI = 6;

    private final TrustAnchors anchors;
    private final RevocationList revocations;

    public DeviceCredentialVerifier(TrustAnchors anchors, RevocationList revocations) {
        this.anchors = anchors;
        this.revocations = revocations;
    }

    public CredentialVerdict verify(ByteBuffer certificateDer, RelayKey claimedKey, Instant now) {
        X509Certificate certificate;
        try {
            byte[] der = new byte[certificateDer.remaining()];
            certificateDer.duplicate().get(der);
            certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            // Hostile DER can make the JDK parser throw unchecked exceptions too.
            return refuse(AuthStatus.BAD_CERTIFICATE, "unparsable certificate");
        }
        if (!issuedByAnchor(certificate)) {
            return refuse(AuthStatus.UNTRUSTED, "not issued by a trusted control CA");
        }
        if (revocations.isRevoked(certificate.getSerialNumber())) {
            return refuse(AuthStatus.REVOKED, "certificate " + certificate.getSerialNumber().toString(16) + " revoked");
        }
        try {
            certificate.checkValidity(Date.from(now));
        } catch (CertificateExpiredException e) {
            return refuse(AuthStatus.EXPIRED, "expired at " + certificate.getNotAfter().toInstant());
        } catch (CertificateNotYetValidException e) {
            return refuse(AuthStatus.NOT_YET_VALID, "valid from " + certificate.getNotBefore().toInstant());
        }
        if (certificate.getBasicConstraints() != -1) {
            return refuse(AuthStatus.BAD_CERTIFICATE, "a CA certificate is not a device credential");
        }
        Optional<RelayKey> key = wireGuardKey(certificate);
        if (key.isEmpty()) {
            return refuse(AuthStatus.BAD_CERTIFICATE, "certificate names no WireGuard key");
        }
        if (!key.get().equals(claimedKey)) {
            return refuse(AuthStatus.KEY_MISMATCH, "certificate is for another WireGuard key");
        }
        Optional<String> deviceId = commonName(certificate);
        if (deviceId.isEmpty()) {
            return refuse(AuthStatus.BAD_CERTIFICATE, "certificate names no device id");
        }
        Optional<String> organizationId = organization(certificate);
        if (organizationId.isEmpty()) {
            return refuse(AuthStatus.BAD_CERTIFICATE, "certificate names a malformed or second organization");
        }
        return new CredentialVerdict.Accepted(new VerifiedDevice(deviceId.get(), organizationId.get(), key.get(),
                certificate.getSerialNumber(), certificate.getNotAfter().toInstant()));
    }

    private boolean issuedByAnchor(X509Certificate certificate) {
        for (X509Certificate anchor : anchors.certificates()) {
            if (!anchor.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())) {
                continue;
            }
            try {
                certificate.verify(anchor.getPublicKey());
                return true;
            } catch (GeneralSecurityException | RuntimeException e) {
                // A bad signature under this anchor; another anchor with the same name may still match.
            }
        }
        return false;
    }

    /** The key from the subjectAltName URI, else an X25519 subject public key (DeviceCertificateProfile). */
    static Optional<RelayKey> wireGuardKey(X509Certificate certificate) {
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    if (name.size() >= 2 && Integer.valueOf(SUBJECT_ALT_NAME_URI).equals(name.get(0))
                            && name.get(1) instanceof String uri) {
                        Optional<RelayKey> key = DeviceCertificateProfile.parseWireGuardKeyUri(uri);
                        if (key.isPresent()) {
                            return key;
                        }
                    }
                }
            }
            SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(certificate.getPublicKey().getEncoded());
            if (info.getAlgorithm().getAlgorithm().getId().equals(DeviceCertificateProfile.X25519_OID)) {
                byte[] raw = info.getPublicKeyData().getOctets();
                if (raw.length == RelayKey.LENGTH) {
                    return Optional.of(RelayKey.of(raw));
                }
            }
            return Optional.empty();
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The organization from the subjectAltName URI ({@link DeviceCertificateProfile}): "" when the certificate names
     * none, empty when it names a malformed one or more than one (which the relay refuses: it could not tell which
     * organization's devices to forward to).
     */
    static Optional<String> organization(X509Certificate certificate) {
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            String found = "";
            if (names != null) {
                for (List<?> name : names) {
                    if (name.size() >= 2 && Integer.valueOf(SUBJECT_ALT_NAME_URI).equals(name.get(0))
                            && name.get(1) instanceof String uri && DeviceCertificateProfile.isOrganizationUri(uri)) {
                        Optional<String> id = DeviceCertificateProfile.parseOrganizationUri(uri);
                        if (id.isEmpty() || !found.isEmpty()) {
                            return Optional.empty();
                        }
                        found = id.get();
                    }
                }
            }
            return Optional.of(found);
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> commonName(X509Certificate certificate) {
        try {
            X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
            for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
                ASN1Encodable value = rdn.getFirst().getValue();
                String text = IETFUtils.valueToString(value);
                if (!text.isBlank()) {
                    return Optional.of(text);
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static CredentialVerdict refuse(AuthStatus status, String reason) {
        return new CredentialVerdict.Refused(status, reason);
    }
}
