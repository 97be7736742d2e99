package io.meshwork.control.http;

import io.meshwork.protocol.net.IpLiteral;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.http.views.EndpointsReported;
import io.meshwork.control.organization.Device;
import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.RegisterRequest;
import io.meshwork.protocol.api.RegisterResponse;
import io.meshwork.protocol.api.RouteAdvertisement;
import io.meshwork.protocol.api.RouteStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A node's own routes: registration ({@code POST /api/v1/register}, with a registration key) and its endpoint
 * reports ({@code POST /api/v1/devices/self/endpoints}, with its device token). The peer-map stream is
 * {@link PeerStreamRoutes}'.
 */
final class NodeRoutes {

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;
    private final CertificateAuthority ca;
    private final Counter registrations;
    private final Counter repeatedRegistrations;
    private final RateLimits limits;
    private final ClientAddress clients;

    NodeRoutes(Authorization auth, Entities entities, JsonSupport json, CertificateAuthority ca,
            MeterRegistry metrics, RateLimits limits, ClientAddress clients) {
        this.limits = limits;
        this.clients = clients;
        this.auth = auth;
        this.entities = entities;
        this.json = json;
        this.ca = ca;
        this.registrations = Counter.builder("meshwork_registrations").description("devices registered")
                .register(metrics);
        this.repeatedRegistrations = Counter.builder("meshwork_registrations_repeated")
                .description("registrations repeated after their answer was lost").register(metrics);
    }

    Route routes() {
        return concat(
                path("register", () -> post(() -> auth.bearer(token -> json.body(RegisterRequest.class,
                        request -> clients.source(remote -> register(token, request, remote)))))),
                path(PathMatchers.segment("devices").slash("self").slash("endpoints"), () -> post(() ->
                        auth.bearer(token -> json.body(EndpointReport.class, report ->
                                clients.source(remote -> reportEndpoints(token, report, remote)))))),
                path(PathMatchers.segment("devices").slash("self").slash("routes"), () -> post(() ->
                        auth.bearer(token -> json.body(RouteAdvertisement.class, advertisement ->
                                reportRoutes(token, advertisement))))));
    }

    /**
     * A router's report of its routes (docs/api.md, "Subnet routes and exit nodes"): checked, then the organization
     * records what changed and counts the device as an online router for 10 s. Answers its {@link RouteStatus}.
     */
    private Route reportRoutes(String token, RouteAdvertisement advertisement) {
        return auth.withSelf(token, (organizationId, device) -> {
            List<String> routes = new ArrayList<>(Validation.routes(advertisement.routes(), "routes",
                    device.overlayIps()));
            if (Boolean.TRUE.equals(advertisement.exitNode())) {
                routes.addAll(RouteAdvertisement.EXIT_ROUTES);
            }
            boolean healthy = advertisement.healthy() == null || advertisement.healthy();
            return limits.report(device.id() + "/routes", () -> entities.askOrganization(organizationId,
                    replyTo -> new Organization.ReportRoutes(device.id(), List.copyOf(routes), healthy,
                            System.currentTimeMillis(), replyTo),
                    reply -> json.ok(reply.routes())));
        });
    }

    private Route register(String token, RegisterRequest request, ClientAddress.Source remote) {
        TokenKind.Parsed key = TokenKind.REGISTRATION_KEY.parse(token)
                .orElseThrow(() -> auth.refused(token, "a registration key (mwk....) as bearer token"));
        if (!Validation.isOrganizationId(key.organizationId())) {
            throw new ApiException(401, "unknown registration key");
        }
        byte[] publicKey = Validation.publicKey(request.publicKey());
        Validation.hostname(request.hostname(), "hostname");
        String organizationId = key.organizationId();
        String deviceId = Tokens.newDeviceId(organizationId);
        String secret = Tokens.randomHex(24);
        if (request.metadata() != null && request.metadata().size() > 64) {
            throw new ApiException(400, "at most 64 metadata entries");
        }
        List<Endpoint> endpoints = new ArrayList<>(ReportedInput.endpoints(request.endpoints()));
        observed(remote).ifPresent(address -> endpoints.add(new Endpoint(address, "control")));
        // The credential first: nothing is signed and no device entity started until the organization has checked
        // the key. The certificate's serial is drawn here (random, as the CA would draw it) and admitted with the
        // device, so the organization's one write of the registration already carries it and the certificate is
        // signed only once admitted, with that serial; a bad key costs no signature and no entity. The
        // organization still decides registrations in batches (OrganizationWriter), so signing after its answer
        // keeps the throughput: the signatures happen in parallel on the requests' threads, as before, only later.
        // The relay list is one shared lookup, cached for a second, not per-request work: read meanwhile.
        String serial = CertificateAuthority.newSerialHex();
        CompletionStage<RelaysForDevices> relays = entities.relaysForDevices(organizationId);
        CompletionStage<Organization.Reply> admitted = entities.batched(organizationId, replyTo ->
                new Organization.Register(key.id(), Tokens.hash(key.secret()), deviceId, request.publicKey(),
                        request.hostname(), request.metadata(), endpoints, Tokens.hash(secret), serial,
                        System.currentTimeMillis(), replyTo));
        return onSuccess(admitted, reply -> {
            if (reply.status() == Organization.Reply.REPEAT) {
                return repeatRegistration(key, request.publicKey(), publicKey, reply.device(), remote, relays);
            }
            if (!reply.isOk()) {
                return json.error(reply.status(), reply.error());
            }
            CertificateAuthority.Issued certificate = ca.issueDeviceCertificate(organizationId, deviceId, publicKey, serial);
            // The device's own entity takes the record on in memory (it writes nothing until the device changes
            // something); should that message be lost, say while its shard moves, the entity takes the record on
            // from the organization at the device's first request.
            entities.tellDevice(deviceId, new Device.Register(reply.device(), entities.system().ignoreRef()));
            return onSuccess(relays, forDevices -> {
                registrations.increment();
                return json.created(registered(organizationId, deviceId, reply, secret, certificate, forDevices,
                        remote));
            });
        });
    }

    /**
     * The registration of {@code existing} again, with a new token and certificate, when its first answer was lost
     * (the organization found the rules of docs/api.md met). Its entity is asked first whether the device has been
     * seen, which a pending device's reports or an unchanged one's tell only it; then the organization re-checks
     * and writes the new credentials, the entity takes them on (so the old token stops working), and relays learn
     * that the old certificate is revoked. Answered like a first registration, with 201.
     */
    private Route repeatRegistration(TokenKind.Parsed key, String publicKeyText, byte[] publicKey,
            Organization.DeviceRecord existing, ClientAddress.Source remote,
            CompletionStage<RelaysForDevices> relays) {
        String organizationId = key.organizationId();
        String deviceId = existing.id();
        String alreadyRegistered = "a device with this public key is already registered (" + deviceId + ")";
        return onSuccess(entities.deviceAdopting(deviceId, () -> CompletableFuture.completedFuture(existing)),
                current -> {
            if (!current.isOk()) {
                return json.error(current.status() == 404 ? 409 : current.status(),
                        current.status() == 404 ? alreadyRegistered : current.error());
            }
            if (current.device().lastSeenMillis() != current.device().registeredMillis()
                    || current.device().status().equals(Organization.DeviceRecord.REVOKED)) {
                return json.error(409, alreadyRegistered);
            }
            String secret = Tokens.randomHex(24);
            // Signed, like a first registration, only once the organization has taken the new serial.
            String serial = CertificateAuthority.newSerialHex();
            CompletionStage<Organization.Reply> repeated = entities.organization(organizationId, replyTo ->
                    new Organization.RepeatRegistration(key.id(), Tokens.hash(key.secret()), deviceId, publicKeyText,
                            Tokens.hash(secret), serial, System.currentTimeMillis(), replyTo));
            return onSuccess(repeated, reply -> {
                if (!reply.isOk()) {
                    return json.error(reply.status(), reply.error());
                }
                CertificateAuthority.Issued certificate = ca.issueDeviceCertificate(organizationId, deviceId, publicKey, serial);
                // Asked, not told: the answer must not carry a token the device's entity does not take yet.
                CompletionStage<Device.Reply> taken = entities.device(deviceId,
                        replyTo -> new Device.TakeCredentials(reply.device(), replyTo));
                return onSuccess(taken, device -> !device.isOk() ? json.error(device.status(), device.error())
                        : onSuccess(entities.revokeCertificate(existing).thenCompose(revoked -> relays),
                                forDevices -> {
                                    repeatedRegistrations.increment();
                                    return json.created(registered(organizationId, deviceId, reply, secret,
                                            certificate, forDevices, remote));
                                }));
            });
        });
    }

    /** The answer to a registration, first or repeated. */
    private RegisterResponse registered(String organizationId, String deviceId, Organization.Reply reply,
            String secret, CertificateAuthority.Issued certificate, RelaysForDevices forDevices,
            ClientAddress.Source remote) {
        return new RegisterResponse(deviceId, organizationId, TokenKind.DEVICE.format(deviceId, secret),
                reply.device().overlayIps(), certificate.pem(), ca.certificatePem(), forDevices.relays(),
                forDevices.stunServers(), observed(remote).orElse(null), reply.device().status(),
                reply.overlayPrefixes(), reply.device().hostname(), reply.device().tags());
    }

    private Route reportEndpoints(String token, EndpointReport report, ClientAddress.Source remote) {
        List<Endpoint> endpoints = new ArrayList<>(ReportedInput.endpoints(report.endpoints()));
        Map<String, Object> nat = ReportedInput.nat(report.nat(), json);
        String homeRelay = ReportedInput.homeRelay(report.homeRelay());
        observed(remote).ifPresent(address -> endpoints.add(new Endpoint(address, "control")));
        return auth.withSelf(token, (organizationId, device) -> limits.report(device.id(), () ->
                entities.askDevice(device.id(), replyTo ->
                new Device.Report(endpoints, nat, System.currentTimeMillis(), replyTo, homeRelay), reported ->
                onSuccess(entities.updateOrganization(organizationId, reported), revision -> {
                    if (revision == Entities.FAILED) {
                        return json.error(reported.isOk() ? 503 : reported.status(),
                                reported.isOk() ? "the organization did not take the report; retry" : reported.error());
                    }
                    boolean changed = revision != Entities.UNCHANGED;
                    return json.ok(new EndpointsReported(observed(remote).orElse(""), changed,
                            changed ? revision : null));
                }))));
    }

    /**
     * The address and port of the connection the request came on (the member has remote-address-attribute on), as
     * the node's endpoint seen by the control plane. None when a trusted proxy connected: that address is the
     * proxy's, and X-Forwarded-For carries no port. Never X-Forwarded-For or X-Real-IP otherwise, which anyone may
     * send: the address becomes an endpoint peers are sent to.
     */
    private static Optional<String> observed(ClientAddress.Source source) {
        if (source.viaProxy()) {
            return Optional.empty();
        }
        RemoteAddress remote = source.connection();
        return remote.getAddress().map(address -> {
            int port = remote.getPort();
            return port <= 0 ? null : IpLiteral.format(new java.net.InetSocketAddress(address, port));
        });
    }
}
