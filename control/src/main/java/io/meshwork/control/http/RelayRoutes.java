package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;

import io.meshwork.control.ca.CertificateAuthority;
import io.meshwork.control.http.views.Acknowledged;
import io.meshwork.control.http.views.Deleted;
import io.meshwork.control.http.views.ObservationsRecorded;
import io.meshwork.control.http.views.RelayEnrolled;
import io.meshwork.control.http.views.RelayTokenCreated;
import io.meshwork.control.http.views.RelayTokenView;
import io.meshwork.control.http.views.RelayView;
import io.meshwork.control.http.views.Revocations;
import io.meshwork.control.organization.Device;
import io.meshwork.control.relay.RelayDirectory;
import io.meshwork.control.relay.TlsPin;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.net.HostPort;
import io.meshwork.protocol.net.InvalidAddressException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Relays: {@code /api/v1/relays} (the list), {@code /api/v1/relays/tokens} (enrollment tokens: issue, list,
 * {@code DELETE /api/v1/relays/tokens/{id}} revokes one) and {@code DELETE /api/v1/relays/{id}} (removes a relay)
 * for the admin token; {@code /api/v1/relays/register} (enrollment) for a relay token; a relay's own
 * {@code health}, {@code revocations} and {@code observations} for the token it enrolled with.
 */
final class RelayRoutes {

    /** Token ids as {@link #createToken} makes them: "t" and 8 hex digits. */
    private static final Pattern TOKEN_ID = Pattern.compile("t[0-9a-f]{8}");
    /** Relay observations per report at most. */
    private static final int MAX_OBSERVATIONS = 10_000;
    /** STUN servers a relay may advertise at most (it runs one, on one or two addresses). */
    private static final int MAX_STUN_SERVERS = 4;

    private final Authorization auth;
    private final Entities entities;
    private final JsonSupport json;
    private final CertificateAuthority ca;
    /** How often an enrolled relay is told to report its health. */
    private final Duration heartbeat;

    RelayRoutes(Authorization auth, Entities entities, JsonSupport json, CertificateAuthority ca, Duration heartbeat) {
        this.auth = auth;
        this.entities = entities;
        this.json = json;
        this.ca = ca;
        this.heartbeat = heartbeat;
    }

    Route routes() {
        return pathPrefix("relays", () -> concat(
                pathEnd(() -> get(() -> auth.bearer(token -> auth.adminOnly(token, () -> onSuccess(
                        entities.relayDirectory(RelayDirectory.Get::new),
                        reply -> json.ok(reply.state().relays().values().stream()
                                .map(relay -> RelayView.of(relay, System.currentTimeMillis(), heartbeat))
                                .toList())))))),
                pathPrefix("tokens", () -> concat(
                        pathEnd(() -> concat(
                                post(() -> auth.bearer(token -> auth.adminOnly(token, () ->
                                        json.body(Requests.CreateRelayToken.class, this::createToken)))),
                                get(() -> auth.bearer(token -> auth.adminOnly(token, this::listTokens))))),
                        path(PathMatchers.segment(), tokenId -> delete(() -> auth.bearer(token ->
                                auth.adminOnly(token, () -> revokeToken(tokenId))))))),
                path("register", () -> post(() -> auth.bearer(token -> json.body(Requests.RelayAdvertisement.class,
                        advertisement -> enroll(token, advertisement))))),
                pathPrefix(PathMatchers.segment(), this::relay)));
    }

    /** The routes of one enrolled relay, each for the token it enrolled with. */
    private Route relay(String relayId) {
        return concat(
                pathEnd(() -> delete(() -> auth.bearer(token -> auth.adminOnly(token, () -> remove(relayId))))),
                path("health", () -> put(() -> auth.bearer(token -> json.body(Requests.RelayHealth.class, health ->
                        auth.withRelay(token, relayId, state -> onSuccess(entities.relayDirectory(replyTo ->
                                new RelayDirectory.ReportHealth(relayId, health.udpClients(), health.tcpClients(),
                                        health.healthy(), System.currentTimeMillis(), replyTo)),
                                reply -> json.ok(new Acknowledged(true)))))))),
                path("revocations", () -> get(() -> auth.bearer(token -> auth.withRelay(token, relayId,
                        state -> json.ok(new Revocations(state.revokedSerials())))))),
                path("observations", () -> post(() -> auth.bearer(token ->
                        json.body(Requests.RelayObservations.class, report -> auth.withRelay(token, relayId,
                                state -> recordObservations(report)))))));
    }

    /** Every enrollment token, without its secret, and the relay it enrolled. */
    private Route listTokens() {
        return onSuccess(entities.relayDirectory(RelayDirectory.Get::new), reply -> json.ok(
                reply.state().tokens().values().stream()
                        .sorted(Comparator.comparingLong(RelayDirectory.Token::issuedMillis)
                                .thenComparing(RelayDirectory.Token::id))
                        .map(RelayTokenView::of).toList()));
    }

    /** The token stops working, and the relay it enrolled (if any) leaves the relay list. */
    private Route revokeToken(String tokenId) {
        if (!TOKEN_ID.matcher(tokenId).matches()) {
            throw new ApiException(404, "no such relay token");
        }
        return onSuccess(entities.relayDirectory(replyTo -> new RelayDirectory.RevokeToken(tokenId, replyTo)),
                reply -> reply.isOk() ? json.ok(new Deleted(tokenId)) : json.error(reply.status(), reply.error()));
    }

    /** The relay leaves the relay list, and the token it enrolled with stops working. */
    private Route remove(String relayId) {
        if (!Validation.isRelayId(relayId)) {
            throw new ApiException(404, "no such relay");
        }
        return onSuccess(entities.relayDirectory(replyTo -> new RelayDirectory.RemoveRelay(relayId, replyTo)),
                reply -> reply.isOk() ? json.ok(new Deleted(relayId)) : json.error(reply.status(), reply.error()));
    }

    private Route createToken(Requests.CreateRelayToken request) {
        String name = request.name() == null || request.name().isBlank() ? "relay" : request.name().strip();
        Validation.hostname(name, "name");
        String region = request.region() == null || request.region().isBlank() ? null
                : Validation.region(request.region().strip());
        String tokenId = "t" + Tokens.randomHex(4);
        String secret = Tokens.randomHex(24);
        RelayTokenCreated created = new RelayTokenCreated(TokenKind.RELAY.format(tokenId, secret), name, region);
        return onSuccess(entities.relayDirectory(replyTo -> new RelayDirectory.IssueToken(tokenId,
                Tokens.hash(secret), name, region, System.currentTimeMillis(), replyTo)),
                reply -> json.created(created));
    }

    private Route enroll(String token, Requests.RelayAdvertisement advertisement) {
        TokenKind.Parsed parsed = TokenKind.RELAY.parse(token)
                .orElseThrow(() -> auth.refused(token, "a relay token (mwr....)"));
        if (advertisement.udp() == null && advertisement.tcp() == null) {
            throw new ApiException(400, "a relay advertises a udp or a tcp address");
        }
        advertised("udp", advertisement.udp(), -1);
        advertised("tcp", advertisement.tcp(), -1);
        List<String> stun = advertisement.stun() == null ? List.of() : advertisement.stun();
        if (stun.size() > MAX_STUN_SERVERS) {
            throw new ApiException(400, "stun: at most " + MAX_STUN_SERVERS + " servers");
        }
        for (int i = 0; i < stun.size(); i++) {
            advertised("stun[" + i + "]", stun.get(i), HostPort.DEFAULT_STUN_PORT);
        }
        String tlsSha256;
        try {
            tlsSha256 = TlsPin.normalize(advertisement.tlsSha256());
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "tlsSha256: " + e.getMessage());
        }
        if (tlsSha256 != null && advertisement.tcp() == null) {
            throw new ApiException(400, "tlsSha256 pins the tcp listener; advertise a tcp address with it");
        }
        String relayId = "r" + Tokens.randomHex(6);
        return onSuccess(entities.relayDirectory(replyTo -> new RelayDirectory.Enroll(parsed.id(),
                Tokens.hash(parsed.secret()), relayId, advertisement.udp(), advertisement.tcp(), advertisement.stun(),
                tlsSha256, System.currentTimeMillis(), replyTo)), reply -> reply.isOk()
                ? json.ok(new RelayEnrolled(reply.relay().id(), ca.certificatePem(),
                        (int) heartbeat.toSeconds()))
                : json.error(reply.status(), reply.error()));
    }

    /**
     * Checks an address a relay advertises (null: none), as devices will read it: {@code HOST:PORT}, the port
     * {@code defaultPort} when it has none and {@code defaultPort} is not -1. Else a 400 naming it: every device of
     * every organization is handed it.
     */
    static void advertised(String name, String address, int defaultPort) {
        if (address == null) {
            return;
        }
        try {
            if (HostPort.parse(address, defaultPort).port() < 1) {
                throw new InvalidAddressException("a port from 1 to 65535 is needed");
            }
        } catch (InvalidAddressException e) {
            throw new ApiException(400, name + ": " + e.getMessage());
        }
    }

    /** Endpoints relays saw devices at, taken like the devices' own reports. */
    private Route recordObservations(Requests.RelayObservations report) {
        List<Requests.Observation> observations = report.observations() == null ? List.of() : report.observations();
        if (observations.size() > MAX_OBSERVATIONS) {
            throw new ApiException(400, "at most 10000 observations per report");
        }
        List<CompletableFuture<Boolean>> sent = new ArrayList<>();
        for (Requests.Observation observation : observations) {
            if (observation == null) {
                continue;
            }
            String organizationId = observation.deviceId() == null ? ""
                    : Tokens.organizationOfDevice(observation.deviceId());
            if (organizationId.isEmpty() || observation.address() == null) {
                continue;
            }
            Endpoint seen = new Endpoint(observation.address(), "relay");
            // Only endpoints a peer may be sent to: a public address that parses (ReportedInput's rules).
            if (!Validation.isDeviceId(observation.deviceId()) || ReportedInput.usable(seen) != null) {
                continue;
            }
            sent.add(entities.device(observation.deviceId(), replyTo -> new Device.Observe(seen,
                            System.currentTimeMillis(), replyTo))
                    .thenCompose(reply -> entities.updateOrganization(organizationId, reply))
                    .thenApply(revision -> revision != Entities.FAILED)
                    .exceptionally(failure -> false)
                    .toCompletableFuture());
        }
        return onSuccess(CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)),
                done -> json.ok(new ObservationsRecorded(sent.stream().filter(CompletableFuture::join).count())));
    }
}
