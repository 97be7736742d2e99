package io.meshwork.control.ca;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Optional;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The control plane's certificate authority (BouncyCastle, ECDSA P-256). A cluster has exactly one: the
 * {@link ClusterAuthority} entity keeps its key and certificate in the journal, and every member signs with what
 * that entity adopted. It issues device certificates in the profile relays
 * check: subject CN = device id, the device's WireGuard X25519 key as the subject public key (RFC 8410) and as
 * a subjectAltName URI {@code urn:meshwork:wireguard:<hex>}.
 */
public final class CertificateAuthority {

    public static final String WIREGUARD_KEY_URI_PREFIX = "urn:meshwork:wireguard:";
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration DEVICE_LIFETIME = Duration.ofDays(365);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PrivateKey key;
    private final X509Certificate certificate;
    private final String certificatePem;

    private CertificateAuthority(PrivateKey key, X509Certificate certificate) {
        this.key = key;
        this.certificate = certificate;
        this.certificatePem = pem(certificate);
    }

    /** A new CA (key and self-signed certificate), held only in memory until the cluster adopts it. */
    public static CertificateAuthority generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            X500Name name = new X500Name("CN=meshwork control CA");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new CertificateAuthority(pair.getPrivate(), convert(builder.build(signer(pair.getPrivate()))));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot create a CA: " + e.getMessage(), e);
        }
    }

    /**
     * The CA a member of an earlier release kept in {@code directory} ({@code ca.key}, {@code ca.crt}), if both
     * files are there: the cluster adopts it rather than a new one, so certificates it issued stay valid.
     */
    public static Optional<CertificateAuthority> loadFrom(Path directory) throws IOException {
        Path keyFile = directory.resolve("ca.key");
        Path certificateFile = directory.resolve("ca.crt");
        if (!Files.exists(keyFile) || !Files.exists(certificateFile)) {
            return Optional.empty();
        }
        return Optional.of(fromPem(Files.readString(keyFile, StandardCharsets.US_ASCII),
                Files.readString(certificateFile, StandardCharsets.US_ASCII)));
    }

    /**
     * A CA from its key (PKCS#8 PEM, or the traditional EC PEM an older file may hold) and certificate (PEM).
     * Refuses a pair whose key does not belong to the certificate, or a certificate that is not a CA's.
     */
    public static CertificateAuthority fromPem(String privateKeyPem, String certificatePem) throws IOException {
        try (PEMParser keyParser = new PEMParser(new StringReader(privateKeyPem));
                PEMParser certificateParser = new PEMParser(new StringReader(certificatePem))) {
            Object keyObject = keyParser.readObject();
            Object certificateObject = certificateParser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            PrivateKey key;
            if (keyObject instanceof PEMKeyPair pair) {
                key = converter.getPrivateKey(pair.getPrivateKeyInfo());
            } else if (keyObject instanceof PrivateKeyInfo info) {
                key = converter.getPrivateKey(info);
            } else {
                throw new IOException("the CA key is not an unencrypted private key in PEM");
            }
            if (!(certificateObject instanceof X509CertificateHolder holder)) {
                throw new IOException("the CA certificate is not an X.509 certificate in PEM");
            }
            X509Certificate certificate = convert(holder);
            if (certificate.getBasicConstraints() < 0) {
                throw new IOException("the CA certificate is not a CA certificate (no basicConstraints cA)");
            }
            // A signature made with the key must verify with the certificate's public key.
            byte[] probe = "meshwork CA key check".getBytes(StandardCharsets.US_ASCII);
            Signature signing = Signature.getInstance(SIGNATURE);
            signing.initSign(key);
            signing.update(probe);
            Signature verifying = Signature.getInstance(SIGNATURE);
            verifying.initVerify(certificate.getPublicKey());
            verifying.update(probe);
            if (!verifying.verify(signing.sign())) {
                throw new IOException("the CA key does not belong to the CA certificate");
            }
            return new CertificateAuthority(key, certificate);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException("unusable CA: " + e.getMessage(), e);
        }
    }

    /** The private key as PKCS#8 PEM, which carries the curve with the key. */
    public String privateKeyPem() {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    public String certificatePem() {
        return certificatePem;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** An issued certificate: PEM text and serial number (hex, as relays compare revocations). */
    public record Issued(String pem, String serialHex) {}

    /** A certificate for a device's 32-byte WireGuard public key, valid for a year. */
    public Issued issueDeviceCertificate(String deviceId, byte[] wireGuardPublicKey) {
        try {
            Instant now = Instant.now();
            SubjectPublicKeyInfo subjectKey = new SubjectPublicKeyInfo(
                    new AlgorithmIdentifier(EdECObjectIdentifiers.id_X25519), wireGuardPublicKey);
            BigInteger serial = serial();
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(
                    X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()), serial,
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(DEVICE_LIFETIME)),
                    new X500Name("CN=" + deviceId), subjectKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyAgreement))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(
                            GeneralName.uniformResourceIdentifier,
                            WIREGUARD_KEY_URI_PREFIX + HexFormat.of().formatHex(wireGuardPublicKey))));
            return new Issued(pem(convert(builder.build(signer(key)))), serial.toString(16));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot issue a certificate for " + deviceId, e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(128, RANDOM);
    }

    private static ContentSigner signer(PrivateKey key) throws OperatorCreationException {
        return new JcaContentSignerBuilder(SIGNATURE).build(key);
    }

    private static X509Certificate convert(X509CertificateHolder holder) throws GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static String pem(Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return text.toString();
    }
}
