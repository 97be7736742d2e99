package io.meshwork.node.relay;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trusts exactly one relay certificate: the leaf whose DER has the SHA-256 control handed out with the relay.
 * The pin replaces both the chain check and hostname verification, so a relay needs no certificate authority and
 * may be reached by any address. Being an {@link X509ExtendedTrustManager}, it is not wrapped by JSSE's endpoint
 * identification, which would otherwise ask for a name the self-signed certificate need not carry.
 */
public final class PinnedCertificateTrust extends X509ExtendedTrustManager {

    private static final Logger log = LoggerFactory.getLogger(PinnedCertificateTrust.class);
    private static final int SHA256_BYTES = 32;

    private final byte[] pin;

    /**
     * @param sha256Hex SHA-256 of the relay's leaf certificate DER, 64 hex digits (colons between bytes allowed)
     * @throws IllegalArgumentException when it is not that
     */
    public PinnedCertificateTrust(String sha256Hex) {
        byte[] parsed;
        try {
            parsed = HexFormat.of().parseHex(sha256Hex.strip().replace(":", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("relay TLS pin is not hex: " + e.getMessage());
        }
        if (parsed.length != SHA256_BYTES) {
            throw new IllegalArgumentException("relay TLS pin must be a SHA-256 (32 bytes), not " + parsed.length);
        }
        this.pin = parsed;
    }

    /** A socket factory for TLS that trusts only the certificate with this pin. */
    public static SSLSocketFactory socketFactory(String sha256Hex) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new PinnedCertificateTrust(sha256Hex)}, null);
        return context.getSocketFactory();
    }

    /** The pin's form: lowercase hex SHA-256 of the certificate's DER encoding. */
    public static String sha256Hex(X509Certificate certificate) throws CertificateException {
        return HexFormat.of().formatHex(digest(certificate));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            log.warn("relay refused: it presented no TLS certificate");
            throw new CertificateException("the relay presented no certificate");
        }
        byte[] presented = digest(chain[0]);
        // Constant time: how far a forged certificate's digest matches must not show in the timing.
        if (!MessageDigest.isEqual(pin, presented)) {
            log.warn("relay refused: its TLS certificate has SHA-256 {}, control pinned {}",
                    HexFormat.of().formatHex(presented), HexFormat.of().formatHex(pin));
            throw new CertificateException("the relay's certificate does not match the pin control handed out");
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a relay pin authenticates servers only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    private static byte[] digest(X509Certificate certificate) throws CertificateException {
        try {
            return MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
        } catch (NoSuchAlgorithmException e) {
            throw new CertificateException("SHA-256 is unavailable", e);
        }
    }
}
