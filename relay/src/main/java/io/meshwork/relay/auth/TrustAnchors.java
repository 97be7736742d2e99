package io.meshwork.relay.auth;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The control CA certificates a relay trusts: usually one, two while control rolls its CA over.
 */
public final class TrustAnchors {

    private final List<X509Certificate> certificates;

    public TrustAnchors(List<X509Certificate> certificates) {
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("at least one CA certificate is needed");
        }
        this.certificates = List.copyOf(certificates);
    }

    /** Every certificate in a PEM file (or a single DER certificate). */
    public static TrustAnchors fromFile(Path file) throws IOException, CertificateException {
        return fromBytes(Files.readAllBytes(file));
    }

    public static TrustAnchors fromPem(String pem) throws CertificateException {
        return fromBytes(pem.getBytes(StandardCharsets.US_ASCII));
    }

    private static TrustAnchors fromBytes(byte[] bytes) throws CertificateException {
        List<X509Certificate> certificates = new ArrayList<>();
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        factory.generateCertificates(new ByteArrayInputStream(bytes))
                .forEach(certificate -> certificates.add((X509Certificate) certificate));
        if (certificates.isEmpty()) {
            throw new CertificateException("no certificate found");
        }
        return new TrustAnchors(certificates);
    }

    public List<X509Certificate> certificates() {
        return certificates;
    }
}
