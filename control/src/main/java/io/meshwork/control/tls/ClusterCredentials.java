package io.meshwork.control.tls;

import io.meshwork.protocol.fs.SecretFiles;
import io.meshwork.protocol.tls.P256;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The credentials a control member presents on the cluster port (Pekko Artery over TLS with mutual authentication,
 * docs/operations.md "Cluster TLS"): a directory in the layout Pekko's {@code RotatingKeysSSLEngineProvider}
 * reads, which is one member directory of {@code meshwork control cluster-certs}:
 *
 * <ul>
 *   <li>{@value #CA_CERTIFICATE}: the cluster CA's certificate (PEM), the only issuer a member trusts;
 *   <li>{@value #MEMBER_CERTIFICATE}: this member's certificate (PEM), signed by that CA, with the subject name
 *       {@value #CLUSTER_NAME} every member shares (Pekko's check after the handshake: a peer must share a subject
 *       name with this member's certificate);
 *   <li>{@value #MEMBER_KEY}: this member's private key, RSA (the only kind Pekko's PEM loader reads), PKCS#8
 *       PEM, not encrypted, mode 0600.
 * </ul>
 *
 * The cluster CA is ECDSA P-256 and has nothing to do with the device CA ({@code ca/CertificateAuthority}): it
 * only admits members to the cluster. Its key ({@value #CA_KEY}) is needed only to issue member certificates.
 */
public final class ClusterCredentials {

    public static final String CA_CERTIFICATE = "ca.crt";
    public static final String CA_KEY = "ca.key";
    public static final String MEMBER_CERTIFICATE = "tls.crt";
    public static final String MEMBER_KEY = "tls.key";
    /** The subject name (CN and DNS subjectAltName) every member certificate carries. */
    public static final String CLUSTER_NAME = "meshwork-control-cluster";

    private static final int MEMBER_KEY_BITS = 3072;
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration MEMBER_LIFETIME = Duration.ofDays(3650);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The files of a member directory could not be used; the message says which and why. */
    public static final class UnusableCredentialsException extends IOException {
        private static final long serialVersionUID = 1L;

        UnusableCredentialsException(String message) {
            super(message);
        }

        UnusableCredentialsException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A cluster CA: its key signs member certificates. */
    public record ClusterCa(PrivateKey key, X509Certificate certificate) {}

    private final Path directory;
    private final X509Certificate caCertificate;
    private final X509Certificate memberCertificate;

    private ClusterCredentials(Path directory, X509Certificate caCertificate, X509Certificate memberCertificate) {
        this.directory = directory;
        this.caCertificate = caCertificate;
        this.memberCertificate = memberCertificate;
    }

    public Path directory() {
        return directory;
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    public X509Certificate memberCertificate() {
        return memberCertificate;
    }

    /**
     * The credentials in {@code directory}, checked as the TLS handshake will use them: the three files are there,
     * the key is an RSA key that belongs to the member certificate, the CA certificate is a CA's and signed the
     * member certificate, and both are valid now. Refuses anything else with a message naming the file.
     */
    public static ClusterCredentials load(Path directory) throws UnusableCredentialsException {
        Path caFile = directory.resolve(CA_CERTIFICATE);
        Path certificateFile = directory.resolve(MEMBER_CERTIFICATE);
        Path keyFile = directory.resolve(MEMBER_KEY);
        X509Certificate ca = certificate(caFile);
        X509Certificate member = certificate(certificateFile);
        PrivateKey key = privateKey(keyFile);
        try {
            if (ca.getBasicConstraints() < 0) {
                throw new UnusableCredentialsException(caFile + " is not a CA certificate (no basicConstraints cA)");
            }
            ca.checkValidity();
            member.checkValidity();
        } catch (CertificateException e) {
            throw new UnusableCredentialsException("a cluster certificate in " + directory + " is not valid now: "
                    + e.getMessage(), e);
        }
        try {
            member.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new UnusableCredentialsException(certificateFile + " is not signed by the CA in " + caFile, e);
        }
        if (!(key instanceof RSAPrivateKey)) {
            throw new UnusableCredentialsException(keyFile + " holds a " + key.getAlgorithm()
                    + " key; the cluster transport reads RSA keys only (meshwork control cluster-certs makes them)");
        }
        if (!belongsTo(key, member.getPublicKey())) {
            throw new UnusableCredentialsException(keyFile + " is not the key of " + certificateFile);
        }
        return new ClusterCredentials(directory, ca, member);
    }

    /** Whether all three files of a member directory are in {@code directory}. */
    public static boolean present(Path directory) {
        return Files.exists(directory.resolve(CA_CERTIFICATE)) && Files.exists(directory.resolve(MEMBER_CERTIFICATE))
                && Files.exists(directory.resolve(MEMBER_KEY));
    }

    /**
     * Generates credentials for a member of its own: a new cluster CA, whose key is dropped once it has signed
     * this member's certificate, so only members given credentials from it elsewhere could ever join.
     */
    public static ClusterCredentials generateStandalone(Path directory) throws IOException {
        ClusterCa ca = newCa();
        writeMember(directory, ca, "member");
        return load(directory);
    }

    /** A new cluster CA (ECDSA P-256, self-signed, ten years), in memory. */
    public static ClusterCa newCa() {
        try {
            KeyPair keys = P256.generate();
            X500Name name = new X500Name("CN=meshwork control cluster CA");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), name,
                    keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new ClusterCa(keys.getPrivate(), sign(builder, keys.getPrivate()));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make a cluster CA: " + e.getMessage(), e);
        }
    }

    /** The cluster CA kept in {@code directory} ({@value #CA_KEY}, {@value #CA_CERTIFICATE}). */
    public static ClusterCa loadCa(Path directory) throws UnusableCredentialsException {
        Path keyFile = directory.resolve(CA_KEY);
        Path certificateFile = directory.resolve(CA_CERTIFICATE);
        X509Certificate certificate = certificate(certificateFile);
        PrivateKey key = privateKey(keyFile);
        if (certificate.getBasicConstraints() < 0) {
            throw new UnusableCredentialsException(certificateFile + " is not a CA certificate");
        }
        if (!belongsTo(key, certificate.getPublicKey())) {
            throw new UnusableCredentialsException(keyFile + " is not the key of " + certificateFile);
        }
        return new ClusterCa(key, certificate);
    }

    /** Writes {@code ca}'s key and certificate into {@code directory} (both 0600). */
    public static void writeCa(Path directory, ClusterCa ca) throws IOException {
        // The key first: a certificate without its key would be read back as a broken pair.
        SecretFiles.writeAtomically(directory.resolve(CA_KEY), pem(new JcaPKCS8Generator(ca.key(), null)));
        SecretFiles.writeAtomically(directory.resolve(CA_CERTIFICATE), pem(ca.certificate()));
    }

    /**
     * Writes a member directory: a new RSA key for member {@code memberName} and its certificate signed by
     * {@code ca}, with the CA certificate beside them (every file 0600, the directory 0700).
     */
    public static void writeMember(Path directory, ClusterCa ca, String memberName) throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(MEMBER_KEY_BITS, RANDOM);
            KeyPair keys = generator.generateKeyPair();
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(MEMBER_LIFETIME)),
                    new X500Name("CN=" + CLUSTER_NAME), keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    // Members are TLS servers (inbound connections) and clients (outbound) on the cluster port.
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, CLUSTER_NAME),
                        new GeneralName(GeneralName.dNSName, memberName)}));
            X509Certificate certificate = sign(builder, ca.key());
            SecretFiles.createPrivateDirectories(directory);
            SecretFiles.writeAtomically(directory.resolve(MEMBER_KEY), pem(new JcaPKCS8Generator(keys.getPrivate(),
                    null)));
            SecretFiles.writeAtomically(directory.resolve(MEMBER_CERTIFICATE), pem(certificate));
            SecretFiles.writeAtomically(directory.resolve(CA_CERTIFICATE), pem(ca.certificate()));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make a cluster member certificate: " + e.getMessage(), e);
        }
    }

    private static X509Certificate certificate(Path file) throws UnusableCredentialsException {
        try (InputStream in = Files.newInputStream(file)) {
            List<? extends java.security.cert.Certificate> certificates =
                    List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (certificates.isEmpty()) {
                throw new UnusableCredentialsException("no certificate in " + file);
            }
            return (X509Certificate) certificates.get(0);
        } catch (NoSuchFileException e) {
            throw new UnusableCredentialsException("missing " + file, e);
        } catch (IOException | CertificateException e) {
            throw new UnusableCredentialsException(file + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) throws UnusableCredentialsException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new UnusableCredentialsException("missing " + file, e);
        } catch (IOException e) {
            throw new UnusableCredentialsException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
        } catch (IOException | RuntimeException e) {
            throw new UnusableCredentialsException(file + " is not a PEM private key: " + e.getMessage(), e);
        }
        throw new UnusableCredentialsException(file + " holds no unencrypted private key in PEM");
    }

    /** Whether a signature made with {@code key} verifies with {@code publicKey}. */
    private static boolean belongsTo(PrivateKey key, PublicKey publicKey) {
        try {
            String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            byte[] probe = "meshwork cluster key check".getBytes(StandardCharsets.US_ASCII);
            Signature signing = Signature.getInstance(algorithm);
            signing.initSign(key);
            signing.update(probe);
            Signature verifying = Signature.getInstance(algorithm);
            verifying.initVerify(publicKey);
            verifying.update(probe);
            return verifying.verify(signing.sign());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey caKey)
            throws OperatorCreationException, CertificateException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
    }

    private static BigInteger serial() {
        return new BigInteger(128, RANDOM);
    }

    private static byte[] pem(Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
