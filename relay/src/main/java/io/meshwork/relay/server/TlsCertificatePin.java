package io.meshwork.relay.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.HexFormat;
import java.util.Iterator;

/**
 * The pin devices trust this relay's TLS listener by: the SHA-256 of the DER of its leaf certificate, the first
 * in the PEM chain the listener serves. Control hands it to devices, so the certificate may be self-signed.
 */
public final class TlsCertificatePin {

    private TlsCertificatePin() {}

    /** Lowercase hex SHA-256 of the leaf certificate in {@code chainPem}. */
    public static String sha256Hex(Path chainPem) throws IOException, CertificateException {
        try (InputStream in = Files.newInputStream(chainPem)) {
            Iterator<? extends Certificate> chain = CertificateFactory.getInstance("X.509")
                    .generateCertificates(in).iterator();
            if (!chain.hasNext()) {
                throw new CertificateException("no certificate in " + chainPem);
            }
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(chain.next().getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new CertificateException("SHA-256 is unavailable", e);
        }
    }
}
