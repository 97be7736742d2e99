package io.meshwork.protocol.tls;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * A TLS certificate pin: the SHA-256 of a leaf certificate's DER encoding, written {@code sha256:<64 hex digits>}.
 * Control prints its own pin and clients take it as {@code --control-pin}; control hands relays' pins to devices
 * (as bare hex). A client holding a pin trusts exactly that certificate ({@link PinnedTrustManager}), so a
 * self-signed certificate needs no certificate authority and may be reached by any name or address.
 */
public final class CertificatePin {

    /** The prefix of the written form. */
    public static final String PREFIX = "sha256:";
    private static final int SHA256_BYTES = 32;

    private final byte[] sha256;

    private CertificatePin(byte[] sha256) {
        this.sha256 = sha256;
    }

    /**
     * Reads {@code sha256:HEX}; bare hex (as relays' pins are handed out) and colons between bytes (as
     * {@code openssl x509 -fingerprint -sha256} prints them) are accepted too, in either case.
     *
     * @throws IllegalArgumentException with a one-line message when {@code text} is not a SHA-256 pin
     */
    public static CertificatePin parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("a certificate pin is sha256:<64 hex digits>, not empty");
        }
        String hex = text.strip();
        if (hex.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            hex = hex.substring(PREFIX.length());
        }
        hex = hex.replace(":", "");
        byte[] parsed;
        try {
            parsed = HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a certificate pin is sha256:<64 hex digits>; " + text.strip()
                    + " is not hex");
        }
        if (parsed.length != SHA256_BYTES) {
            throw new IllegalArgumentException("a certificate pin is sha256:<64 hex digits> (a SHA-256), not "
                    + parsed.length + " bytes");
        }
        return new CertificatePin(parsed);
    }

    /** The pin of {@code certificate}. */
    public static CertificatePin of(X509Certificate certificate) throws CertificateEncodingException {
        return new CertificatePin(digest(certificate));
    }

    /** Whether {@code certificate} is the pinned one; compares in constant time. */
    public boolean matches(X509Certificate certificate) throws CertificateEncodingException {
        return MessageDigest.isEqual(sha256, digest(certificate));
    }

    byte[] sha256() {
        return sha256;
    }

    /** The 64 lowercase hex digits, without the prefix. */
    public String hex() {
        return HexFormat.of().formatHex(sha256);
    }

    /** A TLS client context that trusts exactly this certificate, whatever name it was reached by. */
    public SSLContext clientContext(String peer, String mismatchMessage) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new PinnedTrustManager(this, peer, mismatchMessage)}, null);
        return context;
    }

    /**
     * A TLS client context for control's API that trusts exactly this certificate; a mismatch is refused with
     * {@link #controlMismatch()}.
     */
    public SSLContext controlContext() throws GeneralSecurityException {
        return clientContext("control", controlMismatch());
    }

    /** "control's certificate does not match --control-pin sha256:…". */
    public String controlMismatch() {
        return "control's certificate does not match --control-pin " + this;
    }

    /**
     * The refusal of a pinned certificate somewhere in {@code failure}'s causes (a TLS handshake failure wraps
     * it), so a client can say that the certificate did not match rather than that the connection failed.
     */
    public static Optional<PinnedTrustManager.PinMismatchException> mismatchIn(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof PinnedTrustManager.PinMismatchException mismatch) {
                return Optional.of(mismatch);
            }
            for (Throwable suppressed : cause.getSuppressed()) {
                if (suppressed instanceof PinnedTrustManager.PinMismatchException mismatch) {
                    return Optional.of(mismatch);
                }
            }
        }
        return Optional.empty();
    }

    static byte[] digest(X509Certificate certificate) throws CertificateEncodingException {
        try {
            return MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CertificatePin pin && MessageDigest.isEqual(sha256, pin.sha256);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(sha256);
    }

    /** {@code sha256:<64 lowercase hex digits>}. */
    @Override
    public String toString() {
        return PREFIX + hex().toLowerCase(Locale.ROOT);
    }
}
