package io.meshwork.control.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshwork.control.organization.Organization;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.PeerMapEvent;
import io.meshwork.protocol.api.SecurityPolicy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * An organization's whole peer map at one revision, as a member's shared feed keeps it: every active device and
 * what every device's security policy is resolved from. The feed starts it from one full map of the organization
 * and moves it on with the deltas it fetches anyway, so a stream that opens starts from it instead of asking the
 * organization to build the whole map for it alone.
 *
 * <p>Immutable: streams read it while the feed moves on to the next one. The peers in snapshot order are sorted,
 * and rendered as JSON, once per revision, on the first snapshot that needs them; every stream's snapshot line
 * then shares those bytes and costs no more than a reference per peer.
 */
final class FullPeerMap {

    private static final Comparator<PeerInfo> SNAPSHOT_ORDER =
            Comparator.comparing(PeerInfo::hostname).thenComparing(PeerInfo::id);

    private final long revision;
    private final Map<String, PeerInfo> peers;
    private final Organization.PolicyInputs policyInputs;
    /** The organization's overlay prefixes, from the last full map (deltas do not carry them). */
    private final List<String> overlayPrefixes;
    private volatile List<PeerInfo> sorted;
    private volatile List<RenderedPeer> rendered;

    private record RenderedPeer(String id, ByteString json) {}

    private FullPeerMap(long revision, Map<String, PeerInfo> peers, Organization.PolicyInputs policyInputs,
            List<String> overlayPrefixes) {
        this.revision = revision;
        this.peers = peers;
        this.policyInputs = policyInputs;
        this.overlayPrefixes = overlayPrefixes;
    }

    /** From a full map fetched for no device in particular, which always carries the policy inputs. */
    static FullPeerMap of(Organization.PeerMap full) {
        if (!full.full() || full.policyInputs() == null) {
            throw new IllegalArgumentException("not a full map with policy inputs");
        }
        Map<String, PeerInfo> peers = new HashMap<>();
        for (PeerInfo peer : full.peers()) {
            peers.put(peer.id(), peer);
        }
        return new FullPeerMap(full.revision(), Map.copyOf(peers), full.policyInputs(), full.overlayPrefixes());
    }

    long revision() {
        return revision;
    }

    /**
     * This map moved on by {@code map}: a full map replaces it; a delta from this revision upserts and removes its
     * devices, and replaces the policy inputs when it carries new ones (it does whenever some policy may have
     * changed, so inputs it does not carry are still current).
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
        return new FullPeerMap(map.revision(), Map.copyOf(next),
                map.policyInputs() == null ? policyInputs : map.policyInputs(), overlayPrefixes);
    }

    /** The full map as {@code deviceId} gets it: every peer (itself included, as from the organization) and its policy. */
    Organization.PeerMap forWatcher(String deviceId) {
        return new Organization.PeerMap(revision, true, sortedPeers(), List.of(), policyInputs.policyOf(deviceId),
                null, overlayPrefixes);
    }

    /**
     * The snapshot line of {@code deviceId}'s stream: the {@link PeerMapEvent} of type snapshot, with every peer but
     * the device itself and its {@code policy}, as {@code json} renders it, ending in a newline.
     */
    ByteString snapshotLine(String deviceId, SecurityPolicy policy, ObjectMapper json) throws JsonProcessingException {
        ByteStringBuilder line = ByteString.createBuilder();
        line.append(ByteString.fromString("{\"type\":" + json.writeValueAsString(PeerMapEvent.SNAPSHOT)
                + ",\"revision\":" + revision + ",\"peers\":["));
        ByteString comma = ByteString.fromString(",");
        boolean first = true;
        for (RenderedPeer peer : renderedPeers(json)) {
            if (peer.id().equals(deviceId)) {
                continue;
            }
            if (!first) {
                line.append(comma);
            }
            line.append(peer.json());
            first = false;
        }
        line.append(ByteString.fromString("],\"removed\":[],\"policy\":"));
        line.append(ByteString.fromArray(json.writeValueAsBytes(policy)));
        line.append(ByteString.fromString(",\"overlayPrefixes\":"));
        line.append(ByteString.fromArray(json.writeValueAsBytes(overlayPrefixes)));
        line.append(ByteString.fromString(",\"relays\":null,\"stunServers\":null,\"dns\":null}\n"));
        return line.result();
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
