package io.meshwork.relay.auth;

import io.meshwork.protocol.relay.DeviceCertificateProfile;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.tls.P256;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A CA that issues device certificates in the {@link DeviceCertificateProfile} format: for relays run without
 * control (a lab, a benchmark), and as the reference for what control's CA must produce.
 */
public final class DeviceCertificateIssuer {

    private final KeyPair caKeys;
    private final X509Certificate caCertificate;
    private final AtomicLong serials = new AtomicLong(1000);

    private DeviceCertificateIssuer(KeyPair caKeys, X509Certificate caCertificate) {
        this.caKeys = caKeys;
        this.caCertificate = caCertificate;
    }

    /** A fresh self-signed ECDSA P-256 CA, valid from now for ten years. */
    public static DeviceCertificateIssuer create(String name) {
        return create(name, Instant.now());
    }

    /** A fresh self-signed ECDSA P-256 CA, valid for ten years from {@code now} (a simulation passes virtual time). */
    public static DeviceCertificateIssuer create(String name, Instant now) {
        KeyPair keys = newKeyPair();
        X500Name subject = new X500Name("CN=" + name);
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, BigInteger.ONE,
                    Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(10L * 365 * 86_400)), subject,
                    keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new DeviceCertificateIssuer(keys, sign(builder, keys));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    /** A device certificate valid for a year from now. */
    public X509Certificate issue(String deviceId, RelayKey wireGuardKey) {
        Instant now = Instant.now();
        return issue(deviceId, wireGuardKey, now.minusSeconds(60), now.plusSeconds(365L * 86_400));
    }

    /** A device certificate that names no organization, with the given validity (tests use past and future windows). */
    public X509Certificate issue(String deviceId, RelayKey wireGuardKey, Instant notBefore, Instant notAfter) {
        return issue(Optional.empty(), deviceId, wireGuardKey, notBefore, notAfter);
    }

    /** A device certificate of organization {@code organizationId}, valid for a year from now. */
    public X509Certificate issue(String organizationId, String deviceId, RelayKey wireGuardKey) {
        Instant now = Instant.now();
        return issue(Optional.of(organizationId), deviceId, wireGuardKey, now.minusSeconds(60),
                now.plusSeconds(365L * 86_400));
    }

    /** A device certificate of {@code organizationId} (none when empty) with the given validity. */
    public X509Certificate issue(Optional<String> organizationId, String deviceId, RelayKey wireGuardKey,
            Instant notBefore, Instant notAfter) {
        KeyPair deviceKeys = newKeyPair();
        GeneralName keyName = new GeneralName(GeneralName.uniformResourceIdentifier,
                DeviceCertificateProfile.wireGuardKeyUri(wireGuardKey));
        GeneralNames names = organizationId.map(id -> new GeneralNames(new GeneralName[] {keyName,
                new GeneralName(GeneralName.uniformResourceIdentifier, DeviceCertificateProfile.organizationUri(id))}))
                .orElseGet(() -> new GeneralNames(keyName));
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(caCertificate.getSubjectX500Principal().getEncoded()),
                    BigInteger.valueOf(serials.incrementAndGet()), Date.from(notBefore), Date.from(notAfter),
                    new X500Name("CN=" + deviceId), deviceKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.subjectAlternativeName, false, names);
            return sign(builder, caKeys);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PEM text of a certificate, as the relay's {@code --ca} file holds it. */
    public static String toPem(X509Certificate certificate) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(certificate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) {
        try {
            ContentSigner contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("ECDSA P-256 signing is available in every JDK", e);
        }
    }

    private static KeyPair newKeyPair() {
        return P256.generate();
    }
}
