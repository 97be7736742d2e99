package io.meshwork.node.agent;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/**
 * When a node renews its device certificate (docs/architecture.md, "Certificate renewal"): at two thirds of its
 * validity, so that a third of it is left for retries and for relays to take the new one on; after a failed attempt,
 * again after a tenth of what is left, between 5 s and a minute. Pure functions of the certificate and the time.
 */
public final class CertificateRenewal {

    static final Duration MIN_RETRY = Duration.ofSeconds(5);
    static final Duration MAX_RETRY = Duration.ofMinutes(1);

    private CertificateRenewal() {}

    /** Two thirds into the validity from {@code notBefore} to {@code notAfter}. */
    public static Instant renewAt(Instant notBefore, Instant notAfter) {
        Duration validity = Duration.between(notBefore, notAfter);
        return validity.isNegative() ? notBefore : notBefore.plus(validity.multipliedBy(2).dividedBy(3));
    }

    /** When {@code certificate} is due: two thirds into its validity. */
    public static Instant renewAt(X509Certificate certificate) {
        return renewAt(certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant());
    }

    /** How long to wait before trying again after a failed renewal at {@code now}. */
    public static Duration retryDelay(Instant now, Instant notAfter) {
        Duration tenth = Duration.between(now, notAfter).dividedBy(10);
        return tenth.compareTo(MIN_RETRY) < 0 ? MIN_RETRY : tenth.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : tenth;
    }

    /** How long from {@code now} until {@code at}; zero when it is past. */
    public static Duration until(Instant now, Instant at) {
        Duration wait = Duration.between(now, at);
        return wait.isNegative() ? Duration.ZERO : wait;
    }

    /** The X.509 certificate in {@code pem}. */
    public static X509Certificate parse(String pem) throws CertificateException {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }
}
