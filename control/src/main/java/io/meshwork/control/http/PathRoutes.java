package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;

import com.typesafe.config.Config;
import io.meshwork.control.http.views.DevicePathsView;
import io.meshwork.control.http.views.OrganizationPaths;
import io.meshwork.control.http.views.PathsRecorded;
import io.meshwork.control.organization.PathBoard;
import io.meshwork.protocol.api.PathReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.CacheControl;
import org.apache.pekko.http.javadsl.model.headers.CacheDirectives;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The mesh's paths (docs/api.md, "Paths"): a device reports how it reaches each peer
 * ({@code POST /api/v1/devices/self/paths}, its device token, peers of its own organization only); administrators
 * read the organization's latest reports ({@code GET /api/v1/organizations/{id}/paths}) or follow them as
 * server-sent events ({@code .../paths/stream}), for the admin token or the organization's API token. The reports
 * live in a {@link PathBoard} in this member's memory.
 */
final class PathRoutes {

    /** The most peers one report may carry. */
    static final int MAX_PEERS = 4096;
    /** Longer reasons are cut to this many characters; longer relay names are refused. */
    static final int MAX_REASON = 512;
    private static final int MAX_RELAY_NAME = 64;
    /** The most devices {@code ?devices=} may name. */
    private static final int MAX_DEVICE_FILTER = 1000;
    private static final Set<String> PATHS = Set.of("direct", "relay", "none");

    /** The board's bounds and the streams' pace ({@code meshwork.control.paths}). */
    record Settings(int maxDevicesPerOrganization, int maxDevices, Duration maxAge, Duration minInterval,
            Duration streamPoll, Duration streamLifetime, int maxStreams) {

        static Settings from(Config config) {
            Config paths = config.getConfig("meshwork.control.paths");
            return new Settings(paths.getInt("max-devices-per-organization"), paths.getInt("max-devices"),
                    paths.getDuration("max-age"), paths.getDuration("min-interval"),
                    paths.getDuration("stream-poll"), paths.getDuration("stream-lifetime"),
                    paths.getInt("max-streams"));
        }
    }

    private static final Duration KEEPALIVE = Duration.ofSeconds(15);

    private final Authorization auth;
    private final JsonSupport json;
    private final PathBoard board;
    private final Settings settings;
    private final AtomicInteger streams = new AtomicInteger();

    PathRoutes(Authorization auth, JsonSupport json, Settings settings) {
        this.auth = auth;
        this.json = json;
        this.board = new PathBoard(settings.maxDevicesPerOrganization(), settings.maxDevices(), settings.maxAge(),
                settings.minInterval());
        this.settings = settings;
    }

    Route routes() {
        return concat(
                path(PathMatchers.segment("devices").slash("self").slash("paths"), () -> post(() ->
                        auth.bearer(token -> json.body(PathReport.class, report -> auth.withSelf(token,
                                (organizationId, device) -> record(organizationId, device.id(), report)))))),
                path(PathMatchers.segment("organizations").slash(PathMatchers.segment()).slash("paths"),
                        organizationId -> get(() -> auth.bearer(token -> auth.withOrganization(token,
                                organizationId, summary -> parameterOptional("devices", devices ->
                                        parameterOptional("peers", peers -> listing(organizationId, devices,
                                                peers))))))),
                path(PathMatchers.segment("organizations").slash(PathMatchers.segment()).slash("paths")
                        .slash("stream"), organizationId -> get(() -> auth.bearer(token ->
                        auth.withOrganization(token, organizationId, summary -> stream(organizationId))))));
    }

    private Route record(String organizationId, String deviceId, PathReport report) {
        List<PathBoard.PeerPath> peers = parse(organizationId, deviceId, report);
        try {
            board.report(organizationId, deviceId, peers, System.currentTimeMillis());
        } catch (PathBoard.TooSoon e) {
            long seconds = Math.max(1, (e.retryAfter().toMillis() + 999) / 1000);
            return respondWithHeader(RetryAfter.create(seconds), () -> json.error(429,
                    "too soon after this device's last path report; retry later"));
        }
        return json.ok(new PathsRecorded(peers.size()));
    }

    /** The report as the board keeps it; anything a peer of another organization, or malformed, is a 400. */
    static List<PathBoard.PeerPath> parse(String organizationId, String deviceId, PathReport report) {
        if (report.peers() == null) {
            throw new ApiException(400, "peers is required (a list, empty for none)");
        }
        if (report.peers().size() > MAX_PEERS) {
            throw new ApiException(400, "peers: at most " + MAX_PEERS + " entries");
        }
        List<PathBoard.PeerPath> peers = new ArrayList<>(report.peers().size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < report.peers().size(); i++) {
            PathReport.Peer peer = report.peers().get(i);
            String field = "peers[" + i + "]";
            if (peer == null) {
                throw new ApiException(400, field + ": null is not a peer");
            }
            if (!Validation.isDeviceId(peer.peerId()) || peer.peerId().equals(deviceId)
                    || !Tokens.organizationOfDevice(peer.peerId()).equals(organizationId)) {
                throw new ApiException(400, field + ".peerId: not a device of this organization");
            }
            if (!seen.add(peer.peerId())) {
                throw new ApiException(400, field + ".peerId: reported twice");
            }
            // Set.of answers contains(null) with an exception: null is checked first.
            if (peer.path() == null || !PATHS.contains(peer.path())) {
                throw new ApiException(400, field + ".path must be direct, relay or none");
            }
            Double latency = peer.latencyMillis();
            if (latency != null && (latency.isNaN() || latency < 0 || latency > 600_000)) {
                throw new ApiException(400, field + ".latencyMillis must be 0 to 600000");
            }
            if (peer.relay() != null && (peer.relay().length() > MAX_RELAY_NAME || peer.relay().isBlank())) {
                throw new ApiException(400, field + ".relay: 1 to " + MAX_RELAY_NAME + " characters");
            }
            String reason = peer.reason() == null || peer.reason().length() <= MAX_REASON ? peer.reason()
                    : peer.reason().substring(0, MAX_REASON);
            peers.add(new PathBoard.PeerPath(peer.peerId(), peer.path(), latency, peer.relay(), reason));
        }
        return peers;
    }

    private Route listing(String organizationId, Optional<String> devicesText, Optional<String> peersText) {
        Set<String> devices = devicesText.map(PathRoutes::deviceFilter).orElse(null);
        boolean withPeers = peersText.map(text -> switch (text) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ApiException(400, "peers must be true or false");
        }).orElse(true);
        PathBoard.Changes all = board.changedSince(organizationId, 0, System.currentTimeMillis());
        List<DevicePathsView> views = all.devices().stream()
                .filter(report -> devices == null || devices.contains(report.deviceId()))
                .map(report -> DevicePathsView.of(report, withPeers))
                .toList();
        return json.ok(new OrganizationPaths(organizationId, all.sequence(), views, List.of()));
    }

    private static Set<String> deviceFilter(String text) {
        String[] ids = text.split(",", -1);
        if (ids.length > MAX_DEVICE_FILTER) {
            throw new ApiException(400, "devices: at most " + MAX_DEVICE_FILTER + " ids");
        }
        Set<String> devices = new HashSet<>();
        for (String id : ids) {
            if (!Validation.isDeviceId(id)) {
                throw new ApiException(400, "devices: not a device id: " + id);
            }
            devices.add(id);
        }
        return devices;
    }

    /**
     * Server-sent events: an event {@code paths} with every current report, then one with what changed whenever
     * something did (looked at every {@code stream-poll}), a comment line every 15 s otherwise. The stream ends after
     * {@code stream-lifetime}, and the browser's EventSource reconnects with its credentials checked anew.
     */
    private Route stream(String organizationId) {
        if (streams.incrementAndGet() > settings.maxStreams()) {
            streams.decrementAndGet();
            return respondWithHeader(RetryAfter.create(5L), () -> json.error(503,
                    "too many path streams on this control member; retry later"));
        }
        long keepaliveEvery = Math.max(1, KEEPALIVE.toMillis() / Math.max(1, settings.streamPoll().toMillis()));
        Source<ByteString, NotUsed> events = Source.tick(Duration.ZERO, settings.streamPoll(), "tick")
                .statefulMapConcat(() -> {
                    long[] since = {0};
                    long[] quiet = {0};
                    return tick -> {
                        PathBoard.Changes changes = board.changedSince(organizationId, since[0],
                                System.currentTimeMillis());
                        boolean first = since[0] == 0;
                        since[0] = changes.sequence();
                        if (first || !changes.devices().isEmpty() || !changes.removed().isEmpty()) {
                            quiet[0] = 0;
                            return List.of(event(new OrganizationPaths(organizationId, changes.sequence(),
                                    changes.devices().stream().map(report -> DevicePathsView.of(report, true))
                                            .toList(), changes.removed())));
                        }
                        return ++quiet[0] % keepaliveEvery == 0 ? List.of(ByteString.fromString(": keepalive\n\n"))
                                : List.<ByteString>of();
                    };
                })
                .takeWithin(settings.streamLifetime())
                .via(new OnStop<ByteString>(streams::decrementAndGet))
                .mapMaterializedValue(tick -> NotUsed.getInstance());
        return respondWithHeader(CacheControl.create(CacheDirectives.NO_CACHE), () -> complete(HttpResponse.create()
                .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(), events))));
    }

    private ByteString event(OrganizationPaths paths) {
        // One "data:" line: JSON never holds a raw line break.
        return ByteString.fromString("event: paths\ndata: ").concat(json.line(paths)).concat(ByteString.fromString(
                "\n"));
    }
}
