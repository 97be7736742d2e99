package io.meshwork.node.relay;

import io.meshwork.protocol.tls.CertificatePin;
import io.meshwork.protocol.tls.PinnedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly one relay certificate: the leaf whose DER has the SHA-256 control handed out with the relay
 * ({@link PinnedTrustManager} with the relay's messages). The pin replaces both the chain check and hostname
 * verification, so a relay needs no certificate authority and may be reached by any address.
 */
public final class PinnedCertificateTrust extends X509ExtendedTrustManager {

    private static final String MISMATCH = "the relay's certificate does not match the pin control handed out";

    private final PinnedTrustManager pinned;

    /**
     * @param sha256Hex SHA-256 of the relay's leaf certificate DER, 64 hex digits (colons between bytes allowed)
     * @throws IllegalArgumentException when it is not that
     */
    public PinnedCertificateTrust(String sha256Hex) {
        this.pinned = new PinnedTrustManager(CertificatePin.parse(sha256Hex), "relay", MISMATCH);
    }

    /** A socket factory for TLS that trusts only the certificate with this pin. */
    public static SSLSocketFactory socketFactory(String sha256Hex) throws GeneralSecurityException {
        return CertificatePin.parse(sha256Hex).clientContext("relay", MISMATCH).getSocketFactory();
    }

    /** The pin's form: lowercase hex SHA-256 of the certificate's DER encoding. */
    public static String sha256Hex(X509Certificate certificate) throws CertificateException {
        return CertificatePin.of(certificate).hex();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pinned.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        pinned.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        pinned.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pinned.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        pinned.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        pinned.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pinned.getAcceptedIssuers();
    }
}
