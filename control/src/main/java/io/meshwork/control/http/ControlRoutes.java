package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.organization.OrganizationWriter;
import io.meshwork.protocol.api.ApiError;
import io.meshwork.protocol.api.RelayInfo;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The control plane's HTTP API, composed: admin routes under {@code /api/v1} (bearer admin or organization token),
 * the node routes (registration key, device token), the relay routes, health, readiness, Prometheus metrics (the
 * admin token's here; {@link #metricsRoutes} for the metrics listener) and the OpenAPI document (docs/api.md). Each
 * resource has its routes class; what they share is {@link JsonSupport}, {@link Authorization}, {@link Validation}
 * and {@link Entities}. Every error is JSON ({@link ApiError}); bad input is a 4xx that says what was wrong, never a
 * 500.
 */
public final class ControlRoutes {

    /**
     * What the routes need from the running control plane. {@code askTimeout} bounds every ask of an entity
     * ({@code meshwork.control.ask-timeout}); {@code unready} answers null when the member is ready, else what keeps
     * it from being so. {@code relayHeartbeat} is how often enrolled relays are told to report their health (whole
     * seconds, at least one; {@code meshwork.control.relay-heartbeat}). {@code controlPin}: the pin of the API's TLS
     * certificate ({@code sha256:<hex>}), null over plain HTTP.
     */
    public record Settings(String adminToken, String defaultIpv4Cidr, List<RelayInfo> relays, List<String> stunServers,
            Duration coalesceWindow, Duration safetyPoll, Duration askTimeout, String controlPin,
            Supplier<CompletionStage<String>> unready, Duration relayHeartbeat) {}

    /**
     * How often peer streams look at the relay list while any is open: a relay withdrawn or listed again reaches
     * devices this much after control sees it.
     */
    private static final Duration RELAY_LIST_POLL = Duration.ofSeconds(1);

    /** The {@code code} of the peer stream's 403 to a device that is registered but not approved yet. */
    public static final String PENDING_APPROVAL = PeerStreamRoutes.PENDING_APPROVAL;

    private final JsonSupport json;
    private final ServiceRoutes service;
    private final OrganizationRoutes organizations;
    private final KeyRoutes keys;
    private final SecurityGroupRoutes securityGroups;
    private final NodeRoutes node;
    private final DeviceRoutes devices;
    private final RelayRoutes relays;
    private final PeerStreamRoutes peerStream;
    private final CertificateRoutes certificates;
    private final DnsRoutes dns;
    private final RateLimits limits;
    private final UiRoutes ui;
    private final SessionRoutes sessions;
    private final PathRoutes paths;
    private final NodeRelayRoutes nodeRelays;
    private final long maxBodyBytes;

    /** {@code writer}: this member's {@link OrganizationWriter}, which the caller runs. */
    public ControlRoutes(ActorSystem<?> system, CertificateAuthority ca, Settings settings,
            PrometheusMeterRegistry metrics, ActorRef<OrganizationWriter.Message> writer) {
        this.json = new JsonSupport(system.log());
        this.maxBodyBytes = maxContentLength(system);
        ca = ca.withDeviceLifetime(duration(system, "meshwork.control.device-certificate-lifetime",
                CertificateAuthority.DEFAULT_DEVICE_LIFETIME));
        ClientAddress clients = ClientAddress.from(system.settings().config());
        this.limits = new RateLimits(RateLimits.Settings.from(system.settings().config()), clients, json);
        Entities entities = new Entities(system, settings, writer, json);
        Authorization auth = new Authorization(settings.adminToken(), entities, json);
        PeerMapFeeds feeds = new PeerMapFeeds(system, settings.coalesceWindow(), settings.safetyPoll(),
                settings.askTimeout());
        this.service = new ServiceRoutes(auth, json, system, metrics, settings.unready(), settings.controlPin());
        this.organizations = new OrganizationRoutes(auth, entities, json, settings.defaultIpv4Cidr());
        this.keys = new KeyRoutes(auth, entities, json, settings.controlPin());
        this.securityGroups = new SecurityGroupRoutes(auth, entities, json);
        this.node = new NodeRoutes(auth, entities, json, ca, metrics, limits, clients);
        this.devices = new DeviceRoutes(auth, entities, json);
        this.relays = new RelayRoutes(auth, entities, json, ca, settings.relayHeartbeat());
        this.nodeRelays = new NodeRelayRoutes(auth, entities, json, ca, settings.relayHeartbeat());
        RelayListFeed relayLists = new RelayListFeed(system, entities::relayCatalog, RELAY_LIST_POLL);
        this.dns = new DnsRoutes(auth, json, system, settings.askTimeout());
        this.peerStream = new PeerStreamRoutes(auth, json, feeds, relayLists, metrics,
                new DnsFeed(system, dns::settings), (organizationId, deviceId) -> entities.tellOrganization(
                        organizationId, new io.meshwork.control.organization.Organization.StreamEnded(deviceId, 0)));
        this.certificates = new CertificateRoutes(auth, entities, json, ca, limits,
                duration(system, "meshwork.control.device-certificate-renewal-grace", Duration.ofMinutes(10)),
                metrics);
        // The web console: its files, its sessions, and the mesh's paths it draws (docs/api.md, "Web console").
        this.ui = new UiRoutes();
        this.sessions = new SessionRoutes(auth, json, SessionRoutes.Settings.from(system.settings().config()));
        this.paths = new PathRoutes(auth, json, PathRoutes.Settings.from(system.settings().config()));
    }

    /** Pekko HTTP's limit on request bodies, which may be "infinite". */
    private static long maxContentLength(ActorSystem<?> system) {
        String key = "pekko.http.server.parsing.max-content-length";
        String value = system.settings().config().getString(key);
        return value.equals("infinite") ? Long.MAX_VALUE : system.settings().config().getBytes(key);
    }

    private static Duration duration(ActorSystem<?> system, String key, Duration otherwise) {
        return system.settings().config().hasPath(key) ? system.settings().config().getDuration(key) : otherwise;
    }

    public Route routes() {
        return json.handled(() -> json.bodyWithin(maxBodyBytes, () -> concat(
                service.routes(),
                ui.routes(),
                // The admin token's, and limited like the API: a wrong token here is a failed authentication too.
                path("metrics", () -> limits.failedAuthentication(() -> json.handled(service::adminMetrics))),
                // Failed authentication is limited per source (RateLimits): the API answers every request itself
                // (json.handled) so that the limit sees its status.
                pathPrefix("api", () -> pathPrefix("v1", () -> sessions.authenticated(() ->
                        limits.failedAuthentication(() -> json.handled(() -> concat(
                                service.api(),
                                organizations.routes(),
                                keys.routes(),
                                securityGroups.routes(),
                                dns.routes(),
                                // Before the devices': /devices/self/endpoints is the device's own, not a device
                                // "self".
                                node.routes(),
                                certificates.routes(),
                                nodeRelays.routes(),
                                devices.routes(),
                                relays.routes(),
                                peerStream.routes(),
                                sessions.routes(),
                                paths.routes())))))))));
    }

    /**
     * The routes of the metrics listener ({@code meshwork.control.metrics}): {@code GET /metrics} without
     * credentials, everything else a JSON 404.
     */
    public Route metricsRoutes() {
        return json.handled(service::metricsListener);
    }
}
