package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.meshwork.control.http.views.PendingApproval;
import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.SecurityPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import io.meshwork.protocol.api.PeerInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The peer-map stream, {@code GET /api/v1/peers/stream[?since=REV]}, for a device token: NDJSON lines of
 * {@link PeerMapEvent} built from this member's shared feed of the organization ({@link PeerMapFeeds},
 * {@link FullPeerMap}); docs/architecture.md, "Peer-map stream". A pending device gets 403
 * {@value #PENDING_APPROVAL}, a revoked one 403.
 */
final class PeerStreamRoutes {

    /** The {@code code} of the peer stream's 403 to a device that is registered but not approved yet. */
    static final String PENDING_APPROVAL = "pending_approval";
    /** A line this often keeps an idle stream (and the proxies on its way) open. */
    static final Duration KEEPALIVE = Duration.ofSeconds(15);

    private final Authorization auth;
    private final JsonSupport json;
    private final PeerStreamStage.Services services;

    /**
     * {@code ended}: told the organization and device of every stream that ends (a router whose stream ended and
     * that stops reporting loses its prefixes sooner; see {@link Organization.StreamEnded}).
     */
    PeerStreamRoutes(Authorization auth, JsonSupport json, PeerMapFeeds feeds, RelayListFeed relayLists,
            MeterRegistry metrics, DnsFeed dnsSettings, java.util.function.BiConsumer<String, String> ended) {
        this(auth, json, feeds, relayLists, metrics, dnsSettings, ended, KEEPALIVE);
    }

    /** With keepalive lines after {@code keepalive} of silence instead of {@link #KEEPALIVE}. */
    PeerStreamRoutes(Authorization auth, JsonSupport json, PeerMapFeeds feeds, RelayListFeed relayLists,
            MeterRegistry metrics, DnsFeed dnsSettings, java.util.function.BiConsumer<String, String> ended,
            Duration keepalive) {
        this.auth = auth;
        this.json = json;
        AtomicInteger watchers = new AtomicInteger();
        this.services = new PeerStreamStage.Services(feeds, relayLists, dnsSettings, json, watchers, ended, keepalive);
        metrics.gauge("meshwork_peer_stream_watchers", watchers);
    }

    Route routes() {
        return path(PathMatchers.segment("peers").slash("stream"), () -> get(() -> auth.bearer(token ->
                parameterOptional("since", since -> optionalHeaderValueByName("Accept-Encoding", accept ->
                        stream(token, since, GzipStream.accepted(accept.orElse(null))))))));
    }

    private Route stream(String token, Optional<String> sinceText, boolean gzip) {
        long since = sinceText.map(text -> {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new ApiException(400, "since must be a revision number");
            }
        }).orElse(0L);
        return auth.withSelf(token, (organizationId, device) -> {
            if (device.status().equals(Organization.DeviceRecord.PENDING)) {
                // Not permanent: the node asks again until an administrator approves it.
                return json.respond(StatusCodes.FORBIDDEN, new PendingApproval(
                        "device " + device.id() + " is waiting for an administrator to approve it", PENDING_APPROVAL));
            }
            Source<ByteString, NotUsed> bytes = events(organizationId, device.id(), since, sinceText.isEmpty(), gzip);
            if (!gzip) {
                return complete(HttpResponse.create().withEntity(HttpEntities.createChunked(JsonSupport.NDJSON,
                        bytes)));
            }
            // Asked for by name only (Accept-Encoding: gzip): nodes of earlier releases get the lines as they were.
            return complete(HttpResponse.create().addHeader(HttpHeader.parse("Content-Encoding", "gzip"))
                    .withEntity(HttpEntities.createChunked(JsonSupport.NDJSON, bytes)));
        });
    }

    /**
     * The bytes of one stream ({@link PeerStreamStage}). The member's shared feed brings every delta of the
     * organization and keeps its whole map and who may learn whom in it. A stream starts from that map, or, resuming
     * from a revision, from what it missed according to the feed's map (the whole map when that may have changed
     * what it may learn); it does so again only after a gap (see PeerMapFeeds). A client that reads too slowly loses
     * buffered deltas, which is such a gap. From a shared delta the stream sends only what concerns the peers its
     * device may learn ({@link #deltaLines}).
     *
     * <p>Once the first answer is in (the snapshot, or what the stream missed), the stream also follows the member's
     * relay list ({@link RelayListFeed}): a "relays" event with the whole list first, then whenever it differs from
     * the one this stream last sent. It carries the stream's revision and does not move it. The organization's
     * DNS settings follow the same way ({@link DnsFeed}, "dns" events). The stream ends when the device is removed,
     * when the organization's feed ends or fails (the node resumes from its last revision on another connection),
     * never because of the relay list or DNS settings.
     */
    Source<ByteString, NotUsed> events(String organizationId, String deviceId, long since, boolean fromStart,
            boolean gzip) {
        return Source.fromGraph(new PeerStreamStage(services, organizationId, deviceId, since, fromStart, gzip));
    }

    /** The lines of a map that is not the feed's shared snapshot: a snapshot, or upserts, removals and policy. */
    static List<ByteString> lines(Organization.PeerMap map, String deviceId, boolean newPolicy,
            AtomicReference<SecurityPolicy> policySent, JsonSupport json) {
        List<ByteString> out = new ArrayList<>();
        var others = map.peers().stream().filter(p -> !p.id().equals(deviceId)).toList();
        if (map.full()) {
            out.add(json.line(new PeerMapEvent(PeerMapEvent.SNAPSHOT, map.revision(), others, List.of(),
                    map.policy(), map.overlayPrefixes())));
            return out;
        }
        if (!others.isEmpty()) {
            out.add(json.line(new PeerMapEvent(PeerMapEvent.UPSERT, map.revision(), others, List.of())));
        }
        if (!map.removed().isEmpty()) {
            out.add(json.line(new PeerMapEvent(PeerMapEvent.REMOVE, map.revision(), List.of(), map.removed())));
        }
        if (newPolicy) {
            out.add(json.line(new PeerMapEvent(PeerMapEvent.POLICY, map.revision(), List.of(), List.of(),
                    map.policy())));
            policySent.set(map.policy());
        }
        return out;
    }

    /**
     * The lines of a shared delta for {@code deviceId}: upserts of the changed peers it may learn and of the peers
     * that entered its map, removals of those that left it, and its policy when that changed. Nothing about any
     * other device.
     */
    static List<ByteString> deltaLines(PeerMapFeeds.Delta delta, String deviceId,
            AtomicReference<SecurityPolicy> policySent, JsonSupport json) {
        return deltaStreamLines(delta, deviceId, policySent, json).stream().map(StreamLine::raw).toList();
    }

    /**
     * {@link #deltaLines} as stream lines: the upsert line that every stream seeing all of the delta's peers sends is
     * the delta's one shared line ({@link PeerMapFeeds.Delta#allUpserted}).
     */
    static List<StreamLine> deltaStreamLines(PeerMapFeeds.Delta delta, String deviceId,
            AtomicReference<SecurityPolicy> policySent, JsonSupport json) {
        FeedVisibility.View view = delta.view();
        long at = delta.peerMap().revision();
        Set<String> entered = view.entered().getOrDefault(deviceId, Set.of());
        List<PeerInfo> changed = delta.peerMap().peers();
        List<StreamLine> out = new ArrayList<>(2);
        if (entered.isEmpty() && seesAllOthers(view, deviceId, changed)) {
            // The common case (every stream of an organization without groups, but the changed device's own): the
            // delta's one shared line, without building this stream's own list of the same peers.
            if (!changed.isEmpty()) {
                out.add(new StreamLine(List.of(delta.allUpserted(() -> upsertLine(delta, at, changed, json)))));
            }
        } else {
            Map<String, PeerInfo> upserts = new LinkedHashMap<>();
            for (PeerInfo peer : changed) {
                if (!peer.id().equals(deviceId) && view.sees(deviceId, peer.id())) {
                    upserts.put(peer.id(), peer);
                }
            }
            boolean all = upserts.size() == changed.size();
            for (String id : new TreeSet<>(entered)) {
                PeerInfo peer = delta.map().peers().get(id);
                if (peer != null && upserts.putIfAbsent(id, peer) == null) {
                    all = false;
                }
            }
            if (!upserts.isEmpty()) {
                Collection<PeerInfo> peers = upserts.values();
                out.add(all ? new StreamLine(List.of(delta.allUpserted(() -> upsertLine(delta, at, peers, json))))
                        : StreamLine.of(upsertLine(delta, at, peers, json)));
            }
        }
        Set<String> left = view.left().getOrDefault(deviceId, Set.of());
        if (!left.isEmpty()) {
            out.add(StreamLine.of(json.line(new PeerMapEvent(PeerMapEvent.REMOVE, at, List.of(),
                    List.copyOf(new TreeSet<>(left))))));
        }
        SecurityPolicy policy = view.policies().get(deviceId);
        if (policy != null && !policy.equals(policySent.get())) {
            out.add(StreamLine.of(ByteString.fromString("{\"type\":\"" + PeerMapEvent.POLICY + "\",\"revision\":" + at
                            + ",\"peers\":[],\"removed\":[],\"policy\":")
                    .concat(delta.render(policy, json.mapper()))
                    .concat(ByteString.fromString(",\"overlayPrefixes\":null,\"relays\":null,\"stunServers\":null}\n"))));
            policySent.set(policy);
        }
        return out;
    }

    /** Whether {@code deviceId} may see every one of {@code peers} and is not among them. */
    private static boolean seesAllOthers(FeedVisibility.View view, String deviceId, List<PeerInfo> peers) {
        for (PeerInfo peer : peers) {
            if (peer.id().equals(deviceId) || !view.sees(deviceId, peer.id())) {
                return false;
            }
        }
        return true;
    }

    /** The line of PeerMapEvent.UPSERT as JSON renders it, from the peers the delta rendered once. */
    private static ByteString upsertLine(PeerMapFeeds.Delta delta, long at, Collection<PeerInfo> peers,
            JsonSupport json) {
        var line = ByteString.createBuilder().append(ByteString.fromString(
                "{\"type\":\"" + PeerMapEvent.UPSERT + "\",\"revision\":" + at + ",\"peers\":["));
        boolean first = true;
        for (PeerInfo peer : peers) {
            if (!first) {
                line.append(ByteString.fromString(","));
            }
            line.append(delta.render(peer, json.mapper()));
            first = false;
        }
        line.append(ByteString.fromString("],\"removed\":[],\"policy\":null,\"overlayPrefixes\":null,"
                + "\"relays\":null,\"stunServers\":null}\n"));
        return line.result();
    }
}
