package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.organization.Device;
import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.api.RenewedCertificate;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Certificate renewal ({@code POST /api/v1/devices/self/certificate}, with the device token; docs/api.md
 * "Certificate renewal"): a new certificate for the device's registered key with a new serial, naming its
 * organization (so a certificate issued before certificates named one is replaced by one that does). The
 * organization records the new serial before anything is signed; the device's entity takes it on; the old serial is
 * revoked with the relays {@code grace} later, so a relay session still on it has time to move to the new one.
 * Renewals count against the device's endpoint-report budget ({@link RateLimits#report}).
 */
final class CertificateRoutes {

    private static final Logger log = LoggerFactory.getLogger(CertificateRoutes.class);

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;
    private final CertificateAuthority ca;
    private final RateLimits limits;
    private final Duration grace;
    private final ActorSystem<?> system;
    private final Counter renewals;

    CertificateRoutes(Authorization auth, Entities entities, JsonSupport json, CertificateAuthority ca,
            RateLimits limits, Duration grace, MeterRegistry metrics) {
        this.auth = auth;
        this.entities = entities;
        this.json = json;
        this.ca = ca;
        this.limits = limits;
        this.grace = grace;
        this.system = entities.system();
        this.renewals = Counter.builder("meshwork_certificate_renewals").description("device certificates renewed")
                .register(metrics);
    }

    Route routes() {
        return path(PathMatchers.segment("devices").slash("self").slash("certificate"), () -> post(() ->
                auth.bearer(token -> auth.withSelf(token, (organizationId, device) ->
                        limits.report(device.id(), () -> renew(organizationId, device))))));
    }

    private Route renew(String organizationId, Organization.DeviceRecord device) {
        byte[] publicKey = Validation.publicKey(device.publicKey());
        String oldSerial = device.certificateSerial();
        String serial = CertificateAuthority.newSerialHex();
        CompletionStage<Organization.Reply> recorded = entities.organization(organizationId, replyTo ->
                new Organization.RenewCertificate(device.id(), device.publicKey(), serial, System.currentTimeMillis(),
                        replyTo));
        return onSuccess(recorded, reply -> {
            if (!reply.isOk()) {
                return json.error(reply.status(), reply.error());
            }
            CertificateAuthority.Issued issued = ca.issueDeviceCertificate(organizationId, device.id(), publicKey,
                    serial);
            long notAfterMillis = Instant.now().plus(ca.deviceLifetime()).toEpochMilli();
            CompletionStage<Device.Reply> taken = entities.device(device.id(),
                    replyTo -> new Device.TakeCredentials(reply.device(), replyTo));
            return onSuccess(taken, answer -> {
                if (!answer.isOk()) {
                    return json.error(answer.status(), answer.error());
                }
                revokeLater(device.id(), oldSerial);
                renewals.increment();
                return json.ok(new RenewedCertificate(issued.pem(), ca.certificatePem(), issued.serialHex(),
                        notAfterMillis));
            });
        });
    }

    /**
     * Revokes the replaced serial after the grace period. Held in memory: should this member stop first, the old
     * certificate stays valid until it expires, as it would have without the renewal.
     */
    private void revokeLater(String deviceId, String oldSerial) {
        if (oldSerial == null) {
            return;
        }
        system.scheduler().scheduleOnce(grace, () -> entities.revokeCertificates(Set.of(oldSerial))
                .whenComplete((done, error) -> {
                    if (error != null) {
                        log.warn("could not revoke the replaced certificate {} of {}: {}", oldSerial, deviceId,
                                error.toString());
                    }
                }), system.executionContext());
    }
}
