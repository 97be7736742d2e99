package io.meshwork.node.agent;

import io.meshwork.protocol.api.RenewedCertificate;
import io.meshwork.protocol.relay.DeviceCertificateProfile;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the device certificate fresh (docs/architecture.md, "Certificate renewal"): asks control for a new one
 * ({@code POST /api/v1/devices/self/certificate}) when {@link CertificateRenewal} says it is due, retries after a
 * failure, and hands every new one to {@code renewed} (which saves it and gives it to the relay connections). A
 * certificate control issued before certificates named the organization is renewed at start, since relays refuse to
 * forward between it and devices whose certificates name one.
 */
public final class CertificateRenewer implements AutoCloseable {

    /** Asks control for a new certificate. */
    public interface Renew {
        RenewedCertificate renew() throws Exception;
    }

    private static final Logger log = LoggerFactory.getLogger(CertificateRenewer.class);

    private final ScheduledExecutorService scheduler;
    private final Supplier<String> currentPem;
    private final Renew renew;
    private final Consumer<RenewedCertificate> renewed;
    private final Clock clock;
    private ScheduledFuture<?> next;
    private boolean closed;

    public CertificateRenewer(ScheduledExecutorService scheduler, Supplier<String> currentPem, Renew renew,
            Consumer<RenewedCertificate> renewed, Clock clock) {
        this.scheduler = scheduler;
        this.currentPem = currentPem;
        this.renew = renew;
        this.renewed = renewed;
        this.clock = clock;
    }

    /** Schedules the first renewal: now for a certificate that names no organization, else when it is due. */
    public synchronized void start() {
        X509Certificate certificate = current();
        if (certificate != null) {
            schedule(namesOrganization(certificate) ? dueIn(certificate) : Duration.ZERO);
        }
    }

    /**
     * Schedules the next renewal when the certificate is due (once renewed, whatever it names), and never sooner
     * than {@link CertificateRenewal#MIN_RETRY}: a certificate that is due at once does not make a busy loop.
     */
    private void scheduleNext() {
        X509Certificate certificate = current();
        if (certificate != null) {
            Duration due = dueIn(certificate);
            schedule(due.compareTo(CertificateRenewal.MIN_RETRY) < 0 ? CertificateRenewal.MIN_RETRY : due);
        }
    }

    private Duration dueIn(X509Certificate certificate) {
        return CertificateRenewal.until(clock.instant(), CertificateRenewal.renewAt(certificate));
    }

    private X509Certificate current() {
        try {
            return CertificateRenewal.parse(currentPem.get());
        } catch (CertificateException | RuntimeException e) {
            log.warn("cannot read the device certificate, so it is not renewed: {}", e.toString());
            return null;
        }
    }

    private synchronized void schedule(Duration delay) {
        if (closed) {
            return;
        }
        log.debug("renewing the device certificate in {} s", delay.toSeconds());
        next = scheduler.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void attempt() {
        try {
            RenewedCertificate fresh = renew.renew();
            CertificateRenewal.parse(fresh.certificate());
            renewed.accept(fresh);
            log.info("device certificate renewed (serial {})", fresh.serial());
            scheduleNext();
        } catch (Exception e) {
            if (e instanceof ControlClient.ControlException refused && refused.isPermanent()) {
                // A control without the route, or a revoked device: asking again at once would not help. Asked
                // again when the certificate is due, and at most once a minute.
                log.warn("control refused to renew the device certificate ({}); asking again when it is due",
                        e.getMessage());
                X509Certificate certificate = current();
                Duration due = certificate == null ? CertificateRenewal.MAX_RETRY : dueIn(certificate);
                schedule(due.compareTo(CertificateRenewal.MAX_RETRY) < 0 ? CertificateRenewal.MAX_RETRY : due);
                return;
            }
            X509Certificate certificate = current();
            Instant notAfter = certificate == null ? clock.instant() : certificate.getNotAfter().toInstant();
            Duration delay = CertificateRenewal.retryDelay(clock.instant(), notAfter);
            log.warn("could not renew the device certificate ({}); trying again in {} s", e.getMessage(),
                    delay.toSeconds());
            schedule(delay);
        }
    }

    static boolean namesOrganization(X509Certificate certificate) {
        try {
            var names = certificate.getSubjectAlternativeNames();
            return names != null && names.stream().anyMatch(name -> name.size() == 2
                    && Integer.valueOf(6).equals(name.get(0)) && String.valueOf(name.get(1))
                    .startsWith(DeviceCertificateProfile.ORGANIZATION_URI_PREFIX));
        } catch (CertificateException e) {
            return false;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (next != null) {
            next.cancel(false);
        }
    }
}
