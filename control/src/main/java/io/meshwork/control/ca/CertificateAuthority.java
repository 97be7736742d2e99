package io.meshwork.control.ca;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
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
 * The control plane's certificate authority (BouncyCastle, ECDSA P-256). Its key and certificate live in the
 * data directory (key 0600) and are made on first start. It issues device certificates in the profile relays
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

    /** Loads the CA from {@code directory}, creating it there on first use. */
    public static CertificateAuthority loadOrCreate(Path directory) throws IOException {
        Path keyFile = directory.resolve("ca.key");
        Path certificateFile = directory.resolve("ca.crt");
        try {
            if (Files.exists(keyFile) && Files.exists(certificateFile)) {
                return load(keyFile, certificateFile);
            }
            Files.createDirectories(directory);
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            X500Name name = new X500Name("CN=meshwork control CA");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            X509Certificate certificate = convert(builder.build(signer(pair.getPrivate())));
            // PKCS#8, which carries the curve with the key.
            Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n"
                    + java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                            .encodeToString(pair.getPrivate().getEncoded())
                    + "\n-----END PRIVATE KEY-----\n");
            Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
            Files.writeString(certificateFile, pem(certificate));
            return new CertificateAuthority(pair.getPrivate(), certificate);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot create the CA in " + directory + ": " + e.getMessage(), e);
        }
    }

    private static CertificateAuthority load(Path keyFile, Path certificateFile)
            throws IOException, GeneralSecurityException {
        try (PEMParser keyParser = new PEMParser(new StringReader(Files.readString(keyFile)));
                PEMParser certificateParser = new PEMParser(new StringReader(Files.readString(certificateFile)))) {
            Object keyObject = keyParser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            PrivateKey key = keyObject instanceof PEMKeyPair pair ? converter.getPrivateKey(pair.getPrivateKeyInfo())
                    : converter.getPrivateKey((PrivateKeyInfo) keyObject);
            X509Certificate certificate = convert((X509CertificateHolder) certificateParser.readObject());
            return new CertificateAuthority(key, certificate);
        }
    }

    public String certificatePem() {
        return certificatePem;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** A certificate for a device's 32-byte WireGuard public key, valid for a year. */
    public String issueDeviceCertificate(String deviceId, byte[] wireGuardPublicKey) {
        try {
            Instant now = Instant.now();
            SubjectPublicKeyInfo subjectKey = new SubjectPublicKeyInfo(
                    new AlgorithmIdentifier(EdECObjectIdentifiers.id_X25519), wireGuardPublicKey);
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(
                    X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()), serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(DEVICE_LIFETIME)),
                    new X500Name("CN=" + deviceId), subjectKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyAgreement))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(
                            GeneralName.uniformResourceIdentifier,
                            WIREGUARD_KEY_URI_PREFIX + HexFormat.of().formatHex(wireGuardPublicKey))));
            return pem(convert(builder.build(signer(key))));
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
