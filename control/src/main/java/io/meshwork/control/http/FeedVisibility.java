package io.meshwork.control.http;

import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.SecurityPolicies;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import io.meshwork.protocol.policy.PolicyIndex;
import io.meshwork.protocol.policy.PolicyMember;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who may learn whom in one organization, as a member's shared feed moves its {@link FullPeerMap} on: a
 * {@link PolicyIndex} of the active devices and groups, moved by each delta the feed fetches (docs/api.md,
 * "Security groups"). Each delta gives a {@link View}: for each device whose map changed, the peers that entered
 * and left it; the new policy of each device whose inbound rules may have changed; and, for each device whose
 * record changed, which devices may see it. A stream then picks its own lines from the view with a few lookups.
 *
 * <p>Not thread-safe: the feed moves it, under the lock of its latest map, and streams ask it for their start
 * under the same lock.
 */
final class FeedVisibility {

    /**
     * What one delta changed for the streams. {@code audience}: per upserted device, the devices that may see it
     * (null: everyone, as with no security groups). {@code entered} and {@code left}: per device, the peers that
     * entered and left its map. {@code policies}: the policy of each device whose inbound rules may have changed.
     */
    record View(Map<String, Set<String>> audience, Map<String, Set<String>> entered, Map<String, Set<String>> left,
            Map<String, SecurityPolicy> policies) {

        static final View NONE = new View(Map.of(), Map.of(), Map.of(), Map.of());

        boolean sees(String watcher, String peer) {
            Set<String> who = audience.get(peer);
            return who == null || who.contains(watcher);
        }
    }

    private PolicyIndex index;

    /** Starts from {@code map}'s devices and groups. */
    FeedVisibility(FullPeerMap map) {
        reset(map);
    }

    private void reset(FullPeerMap map) {
        List<PolicyMember> members = new ArrayList<>();
        for (PeerInfo peer : map.peers().values()) {
            members.add(SecurityPolicies.member(peer));
        }
        index = PolicyIndex.of(SecurityPolicies.groups(map.groups()), members);
    }

    /** With no group every device sees every other, and the feed need not work out audiences. */
    private boolean everyoneSeesEveryone() {
        return index.groups().isEmpty();
    }

    /** The peers {@code deviceId} may learn now; null when that is every one. */
    Set<String> visibleTo(String deviceId) {
        return everyoneSeesEveryone() ? null : index.visibleTo(deviceId);
    }

    SecurityPolicy policyOf(String deviceId) {
        return index.policyOf(deviceId);
    }

    /**
     * Moves on by {@code delta}, which took {@code before} to {@code after}: the groups when it carries them, then
     * the devices it removed and those whose tags or addresses it changed. A full map starts over and answers no view
     * (streams that need one start from the map).
     */
    View moveOn(FullPeerMap before, Organization.PeerMap delta, FullPeerMap after) {
        if (delta.full()) {
            reset(after);
            return View.NONE;
        }
        Net net = new Net();
        if (delta.policyInputs() != null && !delta.policyInputs().groups().equals(before.groups())) {
            net.add(index.setGroups(SecurityPolicies.groups(after.groups())));
        }
        for (String removed : delta.removed()) {
            net.add(index.remove(removed));
        }
        for (PeerInfo peer : delta.peers()) {
            net.add(index.upsert(SecurityPolicies.member(peer)));
        }
        Map<String, SecurityPolicy> policies = new HashMap<>();
        for (String deviceId : net.policyTouched) {
            if (index.contains(deviceId)) {
                policies.put(deviceId, index.policyOf(deviceId));
            }
        }
        Map<String, Set<String>> audience = new HashMap<>();
        if (!everyoneSeesEveryone()) {
            for (PeerInfo peer : delta.peers()) {
                audience.put(peer.id(), Set.copyOf(index.visibleTo(peer.id())));
            }
        }
        return new View(audience, net.entered, net.left, policies);
    }

    /**
     * The changes of one delta added up: a peer that entered a map and left it again (or the other way round) within
     * the delta is no change to that map.
     */
    private static final class Net {
        final Map<String, Set<String>> entered = new HashMap<>();
        final Map<String, Set<String>> left = new HashMap<>();
        final Set<String> policyTouched = new HashSet<>();

        void add(PolicyIndex.Change change) {
            change.entered().forEach((device, peers) -> {
                for (String peer : peers) {
                    if (!remove(left, device, peer)) {
                        entered.computeIfAbsent(device, d -> new HashSet<>()).add(peer);
                    }
                }
            });
            change.left().forEach((device, peers) -> {
                for (String peer : peers) {
                    if (!remove(entered, device, peer)) {
                        left.computeIfAbsent(device, d -> new HashSet<>()).add(peer);
                    }
                }
            });
            policyTouched.addAll(change.policyTouched());
        }

        private static boolean remove(Map<String, Set<String>> sets, String device, String peer) {
            Set<String> set = sets.get(device);
            if (set == null || !set.remove(peer)) {
                return false;
            }
            if (set.isEmpty()) {
                sets.remove(device);
            }
            return true;
        }
    }
}
