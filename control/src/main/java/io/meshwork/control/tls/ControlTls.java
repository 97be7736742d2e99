package io.meshwork.control.tls;

import io.meshwork.protocol.fs.SecretFiles;
import io.meshwork.protocol.tls.CertificatePin;
import io.meshwork.protocol.tls.P256;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
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
 * The certificate and key control's API listener serves over HTTPS, and its pin ({@link CertificatePin}), which
 * control prints and clients pass as {@code --control-pin}. Either the operator's PEM files ({@code --tls-cert},
 * {@code --tls-key}) or a self-signed ECDSA P-256 certificate generated once under the data directory
 * ({@value #SELF_SIGNED_CERTIFICATE} and {@value #SELF_SIGNED_KEY}, both 0600) and reused on every restart, so the
 * pin stays the same.
 */
public final class ControlTls {

    public static final String SELF_SIGNED_CERTIFICATE = "control-tls-cert.pem";
    public static final String SELF_SIGNED_KEY = "control-tls-key.pem";
    private static final Duration SELF_SIGNED_LIFETIME = Duration.ofDays(3650);

    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final CertificatePin pin;

    private ControlTls(PrivateKey key, List<X509Certificate> chain) throws CertificateException {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.pin = CertificatePin.of(chain.get(0));
    }

    /**
     * The operator's certificate chain (PEM, leaf first) and private key (PEM: PKCS#8, or the traditional EC or
     * RSA form).
     */
    public static ControlTls fromPem(Path certificateFile, Path keyFile) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(certificateFile)) {
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) certificate);
            }
        } catch (CertificateException e) {
            throw new IOException(certificateFile + " is not a PEM certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IOException("no certificate in " + certificateFile);
        }
        PrivateKey key = privateKey(Files.readString(keyFile, StandardCharsets.US_ASCII), keyFile);
        try {
            ControlTls tls = new ControlTls(key, chain);
            tls.serverContext();
            return tls;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot serve TLS with " + certificateFile + " and " + keyFile + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The self-signed certificate under {@code dataDirectory}, generated there on first use for {@code host} (the
     * listen address; also "localhost", 127.0.0.1 and ::1). A client with the pin accepts it by any name.
     */
    public static ControlTls selfSigned(Path dataDirectory, String host) throws IOException {
        Path certificateFile = dataDirectory.resolve(SELF_SIGNED_CERTIFICATE);
        Path keyFile = dataDirectory.resolve(SELF_SIGNED_KEY);
        if (Files.exists(certificateFile) && Files.exists(keyFile)) {
            return fromPem(certificateFile, keyFile);
        }
        try {
            KeyPair keys = P256.generate();
            X500Name name = new X500Name("CN=meshwork control");
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                    new BigInteger(128, new SecureRandom()), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(SELF_SIGNED_LIFETIME)), name, keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.subjectAlternativeName, false, subjectAlternativeNames(host));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            // The key first: a certificate without its key would be read back as a broken pair.
            SecretFiles.writeAtomically(keyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null)));
            SecretFiles.writeAtomically(certificateFile, pem(certificate));
            return new ControlTls(keys.getPrivate(), List.of(certificate));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make a self-signed TLS certificate: " + e.getMessage(), e);
        }
    }

    /** The context the HTTPS listener serves with. */
    public SSLContext serverContext() throws GeneralSecurityException {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = new char[0];
            store.setKeyEntry("control", key, password, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(), null, new SecureRandom());
            return context;
        } catch (IOException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /** The pin of the leaf certificate. */
    public CertificatePin pin() {
        return pin;
    }

    public X509Certificate certificate() {
        return chain.get(0);
    }

    private static GeneralNames subjectAlternativeNames(String host) {
        Set<String> hosts = new LinkedHashSet<>();
        if (!host.isBlank() && !isWildcard(host)) {
            hosts.add(host);
        }
        hosts.add("localhost");
        hosts.add("127.0.0.1");
        hosts.add("::1");
        List<GeneralName> names = new ArrayList<>();
        for (String name : hosts) {
            String bare = name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name;
            names.add(isIpLiteral(bare) ? new GeneralName(GeneralName.iPAddress, bare)
                    : new GeneralName(GeneralName.dNSName, bare));
        }
        return new GeneralNames(names.toArray(new GeneralName[0]));
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private static boolean isIpLiteral(String host) {
        return host.contains(":") || host.matches("[0-9.]+");
    }

    private static PrivateKey privateKey(String pem, Path file) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            throw new IOException(file + " holds no unencrypted private key in PEM");
        }
    }

    private static byte[] pem(Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Whether {@code host} names only loopback addresses ("localhost", 127.0.0.0/8, ::1). */
    public static boolean isLoopback(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (bare.isBlank() || isWildcard(bare)) {
            return false;
        }
        try {
            InetAddress[] addresses = InetAddress.getAllByName(bare);
            for (InetAddress address : addresses) {
                if (!address.isLoopbackAddress()) {
                    return false;
                }
            }
            return addresses.length > 0;
        } catch (IOException e) {
            return false;
        }
    }
}
