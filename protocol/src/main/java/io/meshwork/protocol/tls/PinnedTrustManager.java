package io.meshwork.protocol.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trusts exactly one server certificate: the leaf whose DER has the pinned SHA-256 ({@link CertificatePin}). The
 * pin replaces both the chain check and hostname verification. Being an {@link X509ExtendedTrustManager}, it is
 * not wrapped by JSSE's endpoint identification (which java.net.http.HttpClient and HTTPS sockets would otherwise
 * apply, asking for a name the certificate need not carry), so only the client holding the pin skips the name
 * check; every other client keeps the JDK's.
 */
public final class PinnedTrustManager extends X509ExtendedTrustManager {

    /** The server's certificate is not the pinned one. */
    public static final class PinMismatchException extends CertificateException {
        private static final long serialVersionUID = 1L;

        PinMismatchException(String message) {
            super(message);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(PinnedTrustManager.class);

    private final CertificatePin pin;
    private final String peer;
    private final String mismatchMessage;

    /**
     * @param peer what the server is, for the log ("control", "the relay")
     * @param mismatchMessage the message of the refusal when the certificate is another
     */
    public PinnedTrustManager(CertificatePin pin, String peer, String mismatchMessage) {
        this.pin = pin;
        this.peer = peer;
        this.mismatchMessage = mismatchMessage;
    }

    public CertificatePin pin() {
        return pin;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            log.warn("{} refused: it presented no TLS certificate", peer);
            throw new PinMismatchException(peer + " presented no certificate");
        }
        byte[] presented = CertificatePin.digest(chain[0]);
        // Constant time: how far a forged certificate's digest matches must not show in the timing.
        if (!java.security.MessageDigest.isEqual(pin.sha256(), presented)) {
            log.warn("{} refused: its TLS certificate has SHA-256 {}, the pin is {}", peer,
                    HexFormat.of().formatHex(presented), pin.hex());
            throw new PinMismatchException(mismatchMessage);
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
        throw new CertificateException("a certificate pin authenticates servers only");
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
}
