package io.meshwork.control.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.OrganizationState;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.SecurityPolicy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * An organization's whole peer map at one revision, as a member's shared feed keeps it: every active device, the
 * security groups, and the changes of the last revisions. The feed starts it from one full map of the organization
 * and moves it on with the deltas it fetches anyway, so a stream that opens starts from it instead of asking the
 * organization to build the whole map for it alone. Which of these peers one device may learn is the feed's
 * {@link FeedVisibility}'s to say; this map only filters by the set it is given.
 *
 * <p>Immutable: streams read it while the feed moves on to the next one. The peers in snapshot order are sorted,
 * and rendered as JSON, once per revision, on the first snapshot that needs them; every stream's snapshot line
 * then shares those bytes and costs no more than a reference per peer it may see.
 */
final class FullPeerMap {

    /** Changes remembered for streams resuming from a revision (as many as the organization keeps). */
    static final int LOG_LIMIT = 1000;

    private static final Comparator<PeerInfo> SNAPSHOT_ORDER =
            Comparator.comparing(PeerInfo::hostname).thenComparing(PeerInfo::id);

    private final long revision;
    private final Map<String, PeerInfo> peers;
    private final Map<String, Organization.SecurityGroup> groups;
    /** The organization's overlay prefixes, from the last full map (deltas do not carry them). */
    private final List<String> overlayPrefixes;
    /** The changes after {@code logFrom} up to this revision, oldest first; null entries never. */
    private final List<OrganizationState.Change> log;
    private final long logFrom;
    private volatile List<PeerInfo> sorted;
    private volatile List<RenderedPeer> rendered;

    private record RenderedPeer(String id, ByteString json) {}

    /** Peers per shared snapshot segment: a stream re-joins (and compresses) only the one holding its device. */
    static final int SEGMENT = 128;
    /** Classes of devices whose snapshot segments one revision keeps (the least recently used go first). */
    static final int SHARED_CLASSES = 32;
    private static final ByteString COMMA = ByteString.fromString(",");

    /** Per class of devices that may learn the same peers: the shared segments of their snapshots at this revision. */
    private final Map<ClassKey, SegmentsOnce> classes = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ClassKey, SegmentsOnce> eldest) {
            return size() > SHARED_CLASSES;
        }
    };

    private FullPeerMap(long revision, Map<String, PeerInfo> peers, Map<String, Organization.SecurityGroup> groups,
            List<String> overlayPrefixes, List<OrganizationState.Change> log, long logFrom) {
        this.revision = revision;
        this.peers = peers;
        this.groups = groups;
        this.overlayPrefixes = overlayPrefixes;
        this.log = log;
        this.logFrom = logFrom;
    }

    /** From a full map fetched for no device in particular, which always carries the groups. */
    static FullPeerMap of(Organization.PeerMap full) {
        if (!full.full() || full.policyInputs() == null) {
            throw new IllegalArgumentException("not a full map with policy inputs");
        }
        Map<String, PeerInfo> peers = new HashMap<>();
        for (PeerInfo peer : full.peers()) {
            peers.put(peer.id(), peer);
        }
        List<OrganizationState.Change> log = full.changes() == null ? List.of() : List.copyOf(full.changes());
        // The organization's retained changes cover everything after the revision before their first.
        long logFrom = log.isEmpty() ? full.revision() : log.get(0).revision() - 1;
        return new FullPeerMap(full.revision(), Map.copyOf(peers), Map.copyOf(full.policyInputs().groups()),
                full.overlayPrefixes(), log, logFrom);
    }

    long revision() {
        return revision;
    }

    Map<String, PeerInfo> peers() {
        return peers;
    }

    Map<String, Organization.SecurityGroup> groups() {
        return groups;
    }

    /**
     * This map moved on by {@code map}: a full map replaces it; a delta from this revision upserts and removes its
     * devices, replaces the groups when it carries them (it does whenever some policy may have changed, so groups it
     * does not carry are still current), and extends the log with its changes.
     */
    FullPeerMap next(Organization.PeerMap map) {
        if (map.full()) {
            return of(map);
        }
        Map<String, PeerInfo> next = new HashMap<>(peers);
        for (PeerInfo peer : map.peers()) {
            next.put(peer.id(), peer);
        }
        for (String removed : map.removed()) {
            next.remove(removed);
        }
        List<OrganizationState.Change> nextLog = new ArrayList<>(log);
        long nextFrom = logFrom;
        if (map.changes() == null) {
            // Changes not told (an organization of an earlier release): nothing before this revision can be resumed.
            nextLog.clear();
            nextFrom = map.revision();
        } else {
            nextLog.addAll(map.changes());
        }
        if (nextLog.size() > LOG_LIMIT) {
            nextLog = new ArrayList<>(nextLog.subList(nextLog.size() - LOG_LIMIT, nextLog.size()));
            nextFrom = nextLog.get(0).revision() - 1;
        }
        return new FullPeerMap(map.revision(), Map.copyOf(next),
                map.policyInputs() == null ? groups : Map.copyOf(map.policyInputs().groups()), overlayPrefixes,
                List.copyOf(nextLog), nextFrom);
    }

    /**
     * The devices that changed after {@code since} up to this revision, when those changes are all remembered and
     * none of them may have changed what a device may learn (so a stream at {@code since} needs only those devices
     * again: upserted, or removed when no longer in the map); null when a stream at {@code since} must start over
     * from the whole map. Without security groups every device learns every other, so only a change of the groups
     * matters; with some, any change that may alter a policy does (a device joining, leaving or retagged).
     */
    Set<String> changedSince(long since) {
        if (since > revision) {
            return Set.of();
        }
        if (since < logFrom) {
            return null;
        }
        Set<String> changed = new LinkedHashSet<>();
        for (OrganizationState.Change change : log) {
            if (change.revision() > since) {
                if (change.deviceId() == null || change.policy() && !groups.isEmpty()) {
                    return null;
                }
                changed.add(change.deviceId());
            }
        }
        return changed;
    }

    /**
     * The full map as {@code deviceId} gets it: the peers in {@code visible} (every one when null) and itself, as
     * from the organization, and its policy.
     */
    Organization.PeerMap forWatcher(String deviceId, Set<String> visible, SecurityPolicy policy) {
        List<PeerInfo> mine = sortedPeers().stream()
                .filter(peer -> visible == null || visible.contains(peer.id()) || peer.id().equals(deviceId))
                .toList();
        return new Organization.PeerMap(revision, true, mine, List.of(), policy, null, overlayPrefixes);
    }

    /** A full map at this revision with {@code policy} and no peers listed: a stream's shared start says which. */
    Organization.PeerMap header(SecurityPolicy policy) {
        return new Organization.PeerMap(revision, true, List.of(), List.of(), policy, null, overlayPrefixes);
    }

    /**
     * The snapshot line of {@code deviceId}'s stream: the {@link PeerMapEvent} of type snapshot, with the peers in
     * {@code visible} (every one but the device itself when null) and its {@code policy}, as {@code json} renders
     * it, ending in a newline.
     */
    ByteString snapshotLine(String deviceId, Set<String> visible, SecurityPolicy policy, ObjectMapper json)
            throws JsonProcessingException {
        return snapshot(deviceId, visible, policy, json).raw();
    }

    /**
     * {@link #snapshotLine} in parts that the streams of devices which may learn the same peers share: the peers of
     * one such class, in segments of {@value #SEGMENT}, are joined (and, for gzip streams, compressed) once per
     * revision; a stream has only the segment holding its own device, its revision and its policy to itself. The
     * class of a device is the set of peers it may learn and itself, so devices that may learn each other and the
     * same others share one; this map's revision is part of every segment's key by being this map's.
     */
    StreamLine snapshot(String deviceId, Set<String> visible, SecurityPolicy policy, ObjectMapper json)
            throws JsonProcessingException {
        Set<String> members = null;
        if (visible != null) {
            members = new HashSet<>(visible);
            members.add(deviceId);
        }
        Segments segments = segments(members, json);
        List<StreamLine.Part> parts = new ArrayList<>(segments.parts.size() + 2);
        parts.add(new StreamLine.Part(ByteString.fromString("{\"type\":" + json.writeValueAsString(PeerMapEvent.SNAPSHOT)
                + ",\"revision\":" + revision + ",\"peers\":[")));
        Integer own = segments.segmentOf.get(deviceId);
        boolean any = false;
        for (int i = 0; i < segments.parts.size(); i++) {
            if ((own == null || own != i) && (any || i == 0)) {
                parts.add(segments.parts.get(i));
                any = true;
                continue;
            }
            // This stream's own segment: without its device (or the first one sent, without its leading comma).
            ByteStringBuilder mine = ByteString.createBuilder();
            for (RenderedPeer peer : segments.peers.get(i)) {
                if (peer.id().equals(deviceId)) {
                    continue;
                }
                if (any) {
                    mine.append(COMMA);
                }
                mine.append(peer.json());
                any = true;
            }
            if (mine.length() > 0) {
                parts.add(new StreamLine.Part(mine.result()));
            }
        }
        ByteStringBuilder end = ByteString.createBuilder();
        end.append(ByteString.fromString("],\"removed\":[],\"policy\":"));
        end.append(ByteString.fromArray(json.writeValueAsBytes(policy)));
        end.append(ByteString.fromString(",\"overlayPrefixes\":"));
        end.append(ByteString.fromArray(json.writeValueAsBytes(overlayPrefixes)));
        end.append(ByteString.fromString(",\"relays\":null,\"stunServers\":null,\"dns\":null}\n"));
        parts.add(new StreamLine.Part(end.result()));
        return new StreamLine(parts);
    }

    /** The shared segments of the class of devices that may learn {@code members} (everyone when null). */
    private Segments segments(Set<String> members, ObjectMapper json) throws JsonProcessingException {
        ClassKey key = new ClassKey(members);
        SegmentsOnce once;
        synchronized (classes) {
            once = classes.computeIfAbsent(key, any -> new SegmentsOnce());
        }
        synchronized (once) {
            if (once.segments == null) {
                once.segments = Segments.of(renderedPeers(json), members);
            }
            return once.segments;
        }
    }

    private record ClassKey(Set<String> members) {}

    private static final class SegmentsOnce {
        Segments segments;
    }

    /**
     * The peers of one class in snapshot order, in segments: each segment's peers, its bytes (JSON objects separated
     * by commas, led by one but for the first segment) as a part many streams share, and which segment holds whom.
     */
    private record Segments(List<List<RenderedPeer>> peers, List<StreamLine.Part> parts,
            Map<String, Integer> segmentOf) {

        static Segments of(List<RenderedPeer> all, Set<String> members) {
            List<List<RenderedPeer>> peers = new ArrayList<>();
            List<StreamLine.Part> parts = new ArrayList<>();
            Map<String, Integer> segmentOf = new HashMap<>();
            List<RenderedPeer> segment = new ArrayList<>(SEGMENT);
            for (RenderedPeer peer : all) {
                if (members != null && !members.contains(peer.id())) {
                    continue;
                }
                segment.add(peer);
                segmentOf.put(peer.id(), peers.size());
                if (segment.size() == SEGMENT) {
                    add(peers, parts, segment);
                    segment = new ArrayList<>(SEGMENT);
                }
            }
            if (!segment.isEmpty()) {
                add(peers, parts, segment);
            }
            return new Segments(List.copyOf(peers), List.copyOf(parts), Map.copyOf(segmentOf));
        }

        private static void add(List<List<RenderedPeer>> peers, List<StreamLine.Part> parts,
                List<RenderedPeer> segment) {
            ByteStringBuilder bytes = ByteString.createBuilder();
            boolean first = peers.isEmpty();
            for (RenderedPeer peer : segment) {
                if (!first) {
                    bytes.append(COMMA);
                }
                bytes.append(peer.json());
                first = false;
            }
            peers.add(List.copyOf(segment));
            parts.add(StreamLine.Part.shared(bytes.result()));
        }
    }

    private List<PeerInfo> sortedPeers() {
        List<PeerInfo> inOrder = sorted;
        if (inOrder == null) {
            inOrder = peers.values().stream().sorted(SNAPSHOT_ORDER).toList();
            sorted = inOrder;
        }
        return inOrder;
    }

    private List<RenderedPeer> renderedPeers(ObjectMapper json) throws JsonProcessingException {
        List<RenderedPeer> inOrder = rendered;
        if (inOrder == null) {
            List<RenderedPeer> rendering = new ArrayList<>(peers.size());
            for (PeerInfo peer : sortedPeers()) {
                rendering.add(new RenderedPeer(peer.id(), ByteString.fromArray(json.writeValueAsBytes(peer))));
            }
            inOrder = List.copyOf(rendering);
            rendered = inOrder;
        }
        return inOrder;
    }
}
