package io.meshwork.control.ca;

import io.meshwork.protocol.tls.P256;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

/**
 * The control plane's certificate authority (BouncyCastle, ECDSA P-256; device certificates are written as DER
 * directly, {@link DeviceCertificateDer}, and signed with BouncyCastle's provider, which is not installed
 * globally). A cluster has exactly one: the
 * {@link ClusterAuthority} entity keeps its key and certificate in the journal, and every member signs with what
 * that entity adopted. It issues device certificates in the profile relays
 * check: subject CN = device id, the device's WireGuard X25519 key as the subject public key (RFC 8410) and as
 * a subjectAltName URI {@code urn:meshwork:wireguard:<hex>}, and the device's organization as a subjectAltName URI
 * {@code urn:meshwork:organization:<id>} (relays forward only within one organization; DeviceCertificateProfile).
 */
public final class CertificateAuthority {

    public static final String WIREGUARD_KEY_URI_PREFIX = "urn:meshwork:wireguard:";
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    /** How long a device certificate is valid unless {@link #withDeviceLifetime} says otherwise. */
    public static final Duration DEFAULT_DEVICE_LIFETIME = Duration.ofDays(365);
    /** How far a device certificate's validity starts before its issue, for clocks a little behind. */
    private static final Duration MAX_BACKDATE = Duration.ofMinutes(5);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int PASSPHRASE_ITERATIONS = 100_000;
    /**
     * For the PKCS#8 encryption (the JDK's providers lack its padding name) and device certificates' signatures;
     * not installed globally.
     */
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

    private final PrivateKey key;
    private final X509Certificate certificate;
    private final String certificatePem;
    /** The issuer name of every device certificate (the CA's subject), as DER. */
    private final byte[] issuerDer;
    private final Duration deviceLifetime;

    private CertificateAuthority(PrivateKey key, X509Certificate certificate) {
        this(key, certificate, DEFAULT_DEVICE_LIFETIME);
    }

    private CertificateAuthority(PrivateKey key, X509Certificate certificate, Duration deviceLifetime) {
        this.key = key;
        this.certificate = certificate;
        this.certificatePem = pem(certificate);
        this.issuerDer = certificate.getSubjectX500Principal().getEncoded();
        this.deviceLifetime = deviceLifetime;
    }

    /**
     * The same CA issuing device certificates valid for {@code lifetime} ({@code
     * meshwork.control.device-certificate-lifetime}; devices renew them at two thirds of it, docs/architecture.md
     * "Certificate renewal"). Their validity starts a tenth of it before issue, at most five minutes.
     */
    public CertificateAuthority withDeviceLifetime(Duration lifetime) {
        if (lifetime.isNegative() || lifetime.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("a device certificate lifetime must be at least a minute: " + lifetime);
        }
        return lifetime.equals(deviceLifetime) ? this : new CertificateAuthority(key, certificate, lifetime);
    }

    /** How long the device certificates this CA issues are valid. */
    public Duration deviceLifetime() {
        return deviceLifetime;
    }

    /** A new CA (key and self-signed certificate), held only in memory until the cluster adopts it. */
    public static CertificateAuthority generate() {
        try {
            KeyPair pair = P256.generate();
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

    /** Like {@link #fromPem(String, String, String)} for a key that is not encrypted. */
    public static CertificateAuthority fromPem(String privateKeyPem, String certificatePem) throws IOException {
        return fromPem(privateKeyPem, certificatePem, "");
    }

    /**
     * A CA from its key (PKCS#8 PEM, encrypted with {@code passphrase} or not, or the traditional EC PEM an older
     * file may hold) and certificate (PEM). Refuses a pair whose key does not belong to the certificate, a
     * certificate that is not a CA's, and an encrypted key without the right passphrase. An unencrypted key is
     * accepted whatever the passphrase.
     */
    public static CertificateAuthority fromPem(String privateKeyPem, String certificatePem, String passphrase)
            throws IOException {
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
            } else if (keyObject instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                if (passphrase.isEmpty()) {
                    throw new IOException("the CA key is encrypted: set meshwork.control.ca-key-passphrase");
                }
                try {
                    key = converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(
                            new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BOUNCY_CASTLE).build(passphrase.toCharArray())));
                } catch (PKCSException e) {
                    throw new IOException("the CA key does not open with meshwork.control.ca-key-passphrase", e);
                }
            } else {
                throw new IOException("the CA key is not a private key in PEM");
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
        } catch (GeneralSecurityException | OperatorCreationException | RuntimeException e) {
            throw new IOException("unusable CA: " + e.getMessage(), e);
        }
    }

    /** Whether {@code privateKeyPem} is an encrypted PKCS#8 key. */
    public static boolean isEncrypted(String privateKeyPem) {
        return privateKeyPem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    }

    /** The private key as PKCS#8 PEM, which carries the curve with the key. */
    public String privateKeyPem() {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    /**
     * The private key as PKCS#8 PEM, encrypted with {@code passphrase} (PBES2: PBKDF2 with HMAC-SHA-256, AES-256-CBC;
     * RFC 8018) unless it is empty.
     */
    public String privateKeyPem(String passphrase) {
        if (passphrase.isEmpty()) {
            return privateKeyPem();
        }
        try {
            OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                    .setProvider(BOUNCY_CASTLE)
                    .setPRF(PKCS8Generator.PRF_HMACSHA256)
                    .setIterationCount(PASSPHRASE_ITERATIONS)
                    .setRandom(RANDOM)
                    .setPassword(passphrase.toCharArray())
                    .build();
            return pem(new JcaPKCS8Generator(key, encryptor).generate());
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot encrypt the CA key: " + e.getMessage(), e);
        }
    }

    public String certificatePem() {
        return certificatePem;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** An issued certificate: PEM text and serial number (hex, as relays compare revocations). */
    public record Issued(String pem, String serialHex) {}

    /** A certificate for a device's 32-byte WireGuard public key that names no organization. */
    public Issued issueDeviceCertificate(String deviceId, byte[] wireGuardPublicKey) {
        return issue(Optional.empty(), deviceId, wireGuardPublicKey, newSerialHex());
    }

    /**
     * A fresh serial number (128 random bits, hex), for a certificate issued later with
     * {@link #issueDeviceCertificate(String, byte[], String)}: the serial can be recorded before anything is signed.
     */
    public static String newSerialHex() {
        return serial().toString(16);
    }

    /**
     * A certificate for a device of {@code organizationId} and its WireGuard key, with the serial {@code serialHex}
     * (from {@link #newSerialHex}).
     */
    public Issued issueDeviceCertificate(String organizationId, String deviceId, byte[] wireGuardPublicKey,
            String serialHex) {
        return issue(Optional.of(organizationId), deviceId, wireGuardPublicKey, serialHex);
    }

    private Issued issue(Optional<String> organizationId, String deviceId, byte[] wireGuardPublicKey,
            String serialHex) {
        BigInteger serial = new BigInteger(serialHex, 16);
        byte[] tbs = deviceTbs(organizationId, deviceId, wireGuardPublicKey, serial, Instant.now());
        // BouncyCastle's ECDSA (on Temurin 25 it signs P-256 in about 60% of SunEC's time), one initialized
        // Signature per thread; PEM straight from the DER.
        Signature signature = signatures.get();
        try {
            signature.update(tbs);
            return new Issued(certificatePem(DeviceCertificateDer.certificate(tbs, signature.sign())),
                    serial.toString(16));
        } catch (GeneralSecurityException | RuntimeException e) {
            // The signature may hold part of a certificate: this thread starts afresh next time.
            signatures.remove();
            throw new IllegalStateException("cannot issue a certificate for " + deviceId, e);
        }
    }

    /** The to-be-signed part of a device certificate issued at {@code now} (see {@link DeviceCertificateDer}). */
    byte[] deviceTbs(Optional<String> organizationId, String deviceId, byte[] wireGuardPublicKey, BigInteger serial,
            Instant now) {
        return DeviceCertificateDer.tbs(issuerDer, serial, now.minus(backdate()), now.plus(deviceLifetime), deviceId,
                wireGuardPublicKey, organizationId.orElse(null));
    }

    private Duration backdate() {
        Duration tenth = deviceLifetime.dividedBy(10);
        return tenth.compareTo(MAX_BACKDATE) < 0 ? tenth : MAX_BACKDATE;
    }

    /**
     * One initialized signature per thread: initializing one looks up the provider and sets the key up each time,
     * and a signature signs any number of certificates in turn (producing one resets it).
     */
    private final ThreadLocal<Signature> signatures = ThreadLocal.withInitial(this::newSignature);

    private Signature newSignature() {
        try {
            Signature signature = Signature.getInstance(SIGNATURE, BOUNCY_CASTLE);
            signature.initSign(key, RANDOM);
            return signature;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the CA key", e);
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

    private static final Base64.Encoder PEM_BASE64 = Base64.getMimeEncoder(64, new byte[] {'\n'});

    /** A DER certificate as PEM, as {@code JcaPEMWriter} writes it. */
    static String certificatePem(byte[] der) {
        return "-----BEGIN CERTIFICATE-----\n" + PEM_BASE64.encodeToString(der) + "\n-----END CERTIFICATE-----\n";
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
