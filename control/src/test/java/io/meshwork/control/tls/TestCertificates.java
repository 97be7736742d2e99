package io.meshwork.control.tls;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed certificates for tests, written as the PEM files {@code --tls-cert} and {@code --tls-key} take. */
public final class TestCertificates {

    private TestCertificates() {}

    /** A P-256 certificate for the DNS name {@code dnsName} only; its PEM files go to {@code directory}. */
    public static X509Certificate write(Path directory, String dnsName) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        X500Name name = new X500Name("CN=" + dnsName);
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(7),
                Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(86_400)), name, keys.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
        X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        Files.createDirectories(directory);
        try (JcaPEMWriter writer = new JcaPEMWriter(Files.newBufferedWriter(certificate(directory),
                StandardCharsets.US_ASCII))) {
            writer.writeObject(certificate);
        }
        try (JcaPEMWriter writer = new JcaPEMWriter(Files.newBufferedWriter(key(directory),
                StandardCharsets.US_ASCII))) {
            writer.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
        }
        return certificate;
    }

    public static Path certificate(Path directory) {
        return directory.resolve("cert.pem");
    }

    public static Path key(Path directory) {
        return directory.resolve("key.pem");
    }
}
