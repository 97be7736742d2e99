package io.meshwork.control.organization;

import io.meshwork.control.CborSerializable;
import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.control.organization.Organization.KeySummary;
import io.meshwork.control.organization.Organization.PeerMap;
import io.meshwork.control.organization.Organization.PolicyInputs;
import io.meshwork.control.organization.Organization.RegistrationKey;
import io.meshwork.control.organization.Organization.SecurityGroup;
import io.meshwork.control.organization.Organization.Summary;
import io.meshwork.protocol.api.PeerInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The states of an {@link Organization}, one type per stage of its lifecycle: {@link Empty} (never created),
 * {@link Active} (created: address space, keys, devices, groups, retained changes) and {@link Deleted}. A deleted
 * organization may be created again, as before this split; its revision carries on so no watcher sees one twice.
 * Each event is applied by one method of the state it arrives in, which returns the next state.
 *
 * <p>Snapshots are written as these types; {@link Organization.State} reads the one type snapshots had before.
 */
public sealed interface OrganizationState extends CborSerializable
        permits OrganizationState.Empty, OrganizationState.Active, OrganizationState.Deleted {

    String id();

    long revision();

    /** {@code Created} in a state with no organization: an active one, nothing allocated, the revision kept. */
    default Active created(Organization.Created event) {
        return new Active(id(), event.name(), event.ipv4Cidr(), event.apiTokenHash(), event.atMillis(), 1, Map.of(),
                Map.of(), revision(), List.of(), Map.of(), null, null, RouteTable.EMPTY);
    }

    /** Never created. */
    record Empty(String id) implements OrganizationState {
        @Override
        public long revision() {
            return 0;
        }
    }

    /**
     * Deleted: the revision is left, so that one created again goes on from it, and the certificate serials of the
     * devices it had (null when deleted before deletion revoked them), so that a retried deletion can revoke them.
     */
    record Deleted(String id, long revision, List<String> certificateSerials) implements OrganizationState {
        Deleted(String id, long revision) {
            this(id, revision, null);
        }
    }

    /**
     * {@code devices} and {@code deviceIdsByKey} (public key to device id, for the one-device-per-key rule) are
     * {@link PersistentMap}s, so an event changes them in O(log n) rather than copying thousands of devices.
     * {@code deviceIdsByKey} is derived: a state read back from a snapshot without it rebuilds it. {@code changes}:
     * the last {@value Organization#RETAINED_CHANGES} peer-map changes, for watchers that resume.
     */
    record Active(String id, String name, String ipv4Cidr, String apiTokenHash, long createdMillis, long nextHost,
            Map<String, RegistrationKey> keys, Map<String, DeviceRecord> devices, long revision, List<Change> changes,
            Map<String, SecurityGroup> securityGroups, Map<String, String> deviceIdsByKey,
            Map<String, String> deviceIdsByHostname, RouteTable routing)
            implements OrganizationState {

        public Active {
            routing = routing == null ? RouteTable.EMPTY : routing;
            devices = PersistentMap.copyOf(devices);
            if (deviceIdsByKey == null || deviceIdsByKey.size() != devices.size()) {
                PersistentMap<String, String> index = PersistentMap.empty();
                for (DeviceRecord device : devices.values()) {
                    index = index.with(device.publicKey(), device.id());
                }
                deviceIdsByKey = index;
            } else {
                deviceIdsByKey = PersistentMap.copyOf(deviceIdsByKey);
            }
            if (deviceIdsByHostname == null) {
                PersistentMap<String, String> index = PersistentMap.empty();
                for (DeviceRecord device : devices.values()) {
                    index = index.with(hostnameKey(device.hostname()), device.id());
                }
                deviceIdsByHostname = index;
            } else {
                deviceIdsByHostname = PersistentMap.copyOf(deviceIdsByHostname);
            }
        }

        /** As before routes: none. */
        Active(String id, String name, String ipv4Cidr, String apiTokenHash, long createdMillis, long nextHost,
                Map<String, RegistrationKey> keys, Map<String, DeviceRecord> devices, long revision,
                List<Change> changes, Map<String, SecurityGroup> securityGroups, Map<String, String> deviceIdsByKey,
                Map<String, String> deviceIdsByHostname) {
            this(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys, devices, revision, changes,
                    securityGroups, deviceIdsByKey, deviceIdsByHostname, null);
        }

        /** As before the hostname index: rebuilt from the devices. */
        Active(String id, String name, String ipv4Cidr, String apiTokenHash, long createdMillis, long nextHost,
                Map<String, RegistrationKey> keys, Map<String, DeviceRecord> devices, long revision,
                List<Change> changes, Map<String, SecurityGroup> securityGroups, Map<String, String> deviceIdsByKey) {
            this(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys, devices, revision, changes,
                    securityGroups, deviceIdsByKey, null, null);
        }

        /** Hostnames are unique within an organization regardless of case. */
        static String hostnameKey(String hostname) {
            return hostname.toLowerCase(java.util.Locale.ROOT);
        }

        // ---- events ---------------------------------------------------------------------------------------

        Deleted deleted(Organization.Deleted event) {
            return new Deleted(id, revision + 1, event.certificateSerials());
        }

        Active keyCreated(Organization.KeyCreated event) {
            return withKey(event.key());
        }

        Active keyRevoked(Organization.KeyRevoked event) {
            return withKey(keys.get(event.keyId()).asRevoked());
        }

        Active deviceRegistered(Organization.DeviceRegistered event) {
            return withKey(keys.get(event.keyId()).withUse()).withDevice(event.device(), 1, true);
        }

        Active endpointsReported(Organization.EndpointsReported event) {
            return withDevice(devices.get(event.deviceId()).withEndpoints(event.endpoints(), event.nat(),
                    event.atMillis(), event.homeRelay()), 0, false);
        }

        /** Not a peer-map change (the token and certificate are not in it): no new revision. */
        Active registrationRepeated(Organization.RegistrationRepeated event) {
            DeviceRecord device = devices.get(event.deviceId())
                    .withCredentials(event.tokenHash(), event.certificateSerial());
            return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys,
                    ((PersistentMap<String, DeviceRecord>) devices).with(device.id(), device), revision, changes,
                    securityGroups, deviceIdsByKey, deviceIdsByHostname, routing);
        }

        /** Not a peer-map change (the certificate is not in it): no new revision. */
        Active certificateRenewed(Organization.CertificateRenewed event) {
            DeviceRecord current = devices.get(event.deviceId());
            DeviceRecord device = current.withCredentials(current.tokenHash(), event.certificateSerial());
            return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys,
                    ((PersistentMap<String, DeviceRecord>) devices).with(device.id(), device), revision, changes,
                    securityGroups, deviceIdsByKey, deviceIdsByHostname, routing);
        }

        /** Tags are part of the policy's inputs; a hostname no longer is (groups never name hostnames). */
        Active devicePatched(Organization.DevicePatched event) {
            DeviceRecord device = devices.get(event.deviceId());
            DeviceRecord patched = device.withNames(event.hostname(), event.metadata());
            if (event.tags() != null) {
                patched = patched.withTags(event.tags());
            }
            if (event.relayAllowed() != null) {
                patched = patched.withRelayAllowed(event.relayAllowed());
            }
            return withDevice(patched, 0, !device.tags().equals(patched.tags()));
        }

        Active deviceRevoked(Organization.DeviceRevoked event) {
            return withDevice(devices.get(event.deviceId()).withStatus(DeviceRecord.REVOKED), 0, true);
        }

        Active deviceApproved(Organization.DeviceApproved event) {
            return withDevice(devices.get(event.deviceId()).withStatus(DeviceRecord.ACTIVE), 0, true);
        }

        Active deviceDeleted(Organization.DeviceDeleted event) {
            DeviceRecord gone = devices.get(event.deviceId());
            long newRevision = revision + 1;
            PersistentMap<String, DeviceRecord> remaining =
                    ((PersistentMap<String, DeviceRecord>) devices).without(event.deviceId());
            return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys, remaining, newRevision,
                    retained(new Change(newRevision, event.deviceId(), true)), securityGroups,
                    gone == null ? deviceIdsByKey
                            : ((PersistentMap<String, String>) deviceIdsByKey).without(gone.publicKey()),
                    gone == null ? deviceIdsByHostname : hostnameLeft(gone, remaining),
                    routing.withoutDevice(event.deviceId()));
        }

        /**
         * The hostname index once {@code gone} no longer has its hostname: another device that has it (registered
         * before hostnames were unique) takes the entry over, else it is free again.
         */
        private Map<String, String> hostnameLeft(DeviceRecord gone, Map<String, DeviceRecord> remaining) {
            PersistentMap<String, String> index = (PersistentMap<String, String>) deviceIdsByHostname;
            String key = hostnameKey(gone.hostname());
            if (!gone.id().equals(index.get(key))) {
                return index;
            }
            for (DeviceRecord other : remaining.values()) {
                if (hostnameKey(other.hostname()).equals(key) && !other.id().equals(gone.id())) {
                    return index.with(key, other.id());
                }
            }
            return index.without(key);
        }

        // ---- routes (RouteTable) -------------------------------------------------------------------------

        /** What the device advertises changed: its peer-map entry may have (exit node, primary routes). */
        Active routesAdvertised(Organization.RoutesAdvertised event) {
            RouteTable.DeviceRoutes before = routing.of(event.deviceId());
            return withRouting(routing.withDevice(event.deviceId(),
                    new RouteTable.DeviceRoutes(event.routes(), before.approved(), before.rejected())),
                    List.of(event.deviceId()));
        }

        Active routesReviewed(Organization.RoutesReviewed event) {
            RouteTable.DeviceRoutes before = routing.of(event.deviceId());
            return withRouting(routing.withDevice(event.deviceId(),
                    new RouteTable.DeviceRoutes(before.advertised(), event.approved(), event.rejected())),
                    List.of(event.deviceId()));
        }

        Active routeApproversSaved(Organization.RouteApproversSaved event) {
            return withRouting(routing.withTagApprovers(event.approvers()),
                    List.copyOf(new java.util.TreeSet<>(routing.devices().keySet())));
        }

        Active routePrimariesChanged(Organization.RoutePrimariesChanged event) {
            return withRouting(routing.withPrimaries(event.primaries()),
                    List.copyOf(RouteTable.primaryChanges(routing.primaries(), event.primaries())));
        }

        /** The routes changed: a peer-map change for each of {@code touched} that is still a device. */
        private Active withRouting(RouteTable next, List<String> touched) {
            long newRevision = revision;
            List<Change> retained = changes;
            for (String deviceId : touched) {
                if (devices.containsKey(deviceId)) {
                    newRevision++;
                    retained = retained(retained, new Change(newRevision, deviceId, false));
                }
            }
            return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys, devices, newRevision,
                    retained, securityGroups, deviceIdsByKey, deviceIdsByHostname, next);
        }

        /** The approved routes of {@code device}. */
        List<String> approvedRoutes(DeviceRecord device) {
            return routing.approved(device, device.registrationKeyId() == null ? null
                    : keys.get(device.registrationKeyId()));
        }

        /** {@code device}'s routes as the API shows them. */
        io.meshwork.protocol.api.RouteStatus routeStatus(DeviceRecord device, boolean online) {
            return routing.status(device, device.registrationKeyId() == null ? null
                    : keys.get(device.registrationKeyId()), online);
        }

        /** The primaries {@link RouteTable#elect} picks now, given which routers are {@code online}. */
        Map<String, String> electPrimaries(java.util.function.Predicate<String> online) {
            List<DeviceRecord> routers = new ArrayList<>();
            for (String deviceId : routing.devices().keySet()) {
                DeviceRecord device = devices.get(deviceId);
                if (device != null && device.status().equals(DeviceRecord.ACTIVE)) {
                    routers.add(device);
                }
            }
            return RouteTable.elect(routing.primaries(), routers, this::approvedRoutes, online);
        }

        /** The device as its peers see it: with the routes it is the primary router of, and whether it is an exit node. */
        PeerInfo peerOf(DeviceRecord device) {
            if (!routing.devices().containsKey(device.id())) {
                return device.toPeer();
            }
            boolean exit = approvedRoutes(device).stream().anyMatch(RouteTable::isExit);
            return new PeerInfo(device.id(), device.hostname(), device.publicKey(), device.overlayIps(),
                    device.endpoints(), device.nat(), device.lastSeenMillis(), device.tags(),
                    routing.primaryOf(device.id()), exit, device.homeRelay());
        }

        /** A group written before groups named devices by id alone is migrated as it is read (see LegacyGroups). */
        Active securityGroupSaved(Organization.SecurityGroupSaved event) {
            Map<String, SecurityGroup> groups = new LinkedHashMap<>(securityGroups);
            groups.put(event.group().name(), LegacyGroups.migrate(id, event.group(), devices));
            return withSecurityGroups(groups);
        }

        /** This state with every group migrated (see LegacyGroups): a snapshot written before the migration. */
        Active migrated() {
            Map<String, SecurityGroup> groups = new LinkedHashMap<>();
            securityGroups.forEach((groupName, group) -> groups.put(groupName, LegacyGroups.migrate(id, group, devices)));
            return groups.equals(securityGroups) ? this
                    : new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys, devices, revision,
                            changes, Map.copyOf(groups), deviceIdsByKey, deviceIdsByHostname, routing);
        }

        Active securityGroupDeleted(Organization.SecurityGroupDeleted event) {
            Map<String, SecurityGroup> groups = new LinkedHashMap<>(securityGroups);
            groups.remove(event.name());
            return withSecurityGroups(groups);
        }

        private Active withKey(RegistrationKey key) {
            Map<String, RegistrationKey> next = new LinkedHashMap<>(keys);
            next.put(key.id(), key);
            return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, Map.copyOf(next), devices,
                    revision, changes, securityGroups, deviceIdsByKey, deviceIdsByHostname, routing);
        }

        /** {@code affectsPolicy}: the device joined, left, or changed what identifies it to security groups. */
        private Active withDevice(DeviceRecord device, long hostsUsed, boolean affectsPolicy) {
            long newRevision = revision + 1;
            DeviceRecord before = devices.get(device.id());
            PersistentMap<String, String> hostnames = (PersistentMap<String, String>) deviceIdsByHostname;
            if (before == null || !before.hostname().equals(device.hostname())) {
                if (before != null && before.id().equals(hostnames.get(hostnameKey(before.hostname())))) {
                    hostnames = hostnames.without(hostnameKey(before.hostname()));
                }
                hostnames = hostnames.with(hostnameKey(device.hostname()), device.id());
            }
            return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost + hostsUsed, keys,
                    ((PersistentMap<String, DeviceRecord>) devices).with(device.id(), device), newRevision,
                    retained(new Change(newRevision, device.id(), affectsPolicy)), securityGroups,
                    ((PersistentMap<String, String>) deviceIdsByKey).with(device.publicKey(), device.id()),
                    hostnames, routing);
        }

        private Active withSecurityGroups(Map<String, SecurityGroup> groups) {
            long newRevision = revision + 1;
            return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys, devices, newRevision,
                    retained(new Change(newRevision, null, true)), Map.copyOf(groups), deviceIdsByKey,
                    deviceIdsByHostname, routing);
        }

        /** The retained changes with {@code change} appended, the oldest forgotten beyond the limit. */
        private List<Change> retained(Change change) {
            return retained(changes, change);
        }

        private static List<Change> retained(List<Change> changes, Change change) {
            List<Change> next = new ArrayList<>(changes);
            next.add(change);
            if (next.size() > Organization.RETAINED_CHANGES) {
                next = next.subList(next.size() - Organization.RETAINED_CHANGES, next.size());
            }
            return List.copyOf(next);
        }

        // ---- queries --------------------------------------------------------------------------------------

        /** What {@code Get} answers: no secret, no device. */
        Summary summary() {
            Map<String, KeySummary> keyViews = new LinkedHashMap<>();
            keys.forEach((keyId, key) -> keyViews.put(keyId, KeySummary.of(key)));
            return new Summary(id, name, ipv4Cidr, Ipam.ulaPrefix(id), createdMillis, revision, devices.size(),
                    keyViews, securityGroups, routing.tagApprovers());
        }

        /** The device with that hostname (any case), or null. */
        DeviceRecord deviceByHostname(String hostname) {
            String deviceId = deviceIdsByHostname.get(hostnameKey(hostname));
            return deviceId == null ? null : devices.get(deviceId);
        }

        /**
         * {@code wanted} when no device has it, else the first of {@code wanted-2}, {@code wanted-3}, ... that none
         * has (shortened to stay a 63-character hostname).
         */
        String uniqueHostname(String wanted) {
            if (deviceByHostname(wanted) == null) {
                return wanted;
            }
            for (int n = 2; ; n++) {
                String suffix = "-" + n;
                String base = wanted.length() + suffix.length() > 63 ? wanted.substring(0, 63 - suffix.length())
                        : wanted;
                if (deviceByHostname(base + suffix) == null) {
                    return base + suffix;
                }
            }
        }

        DeviceRecord deviceByKey(String publicKey) {
            String deviceId = deviceIdsByKey.get(publicKey);
            return deviceId == null ? null : devices.get(deviceId);
        }

        /** The devices with that status and a hostname containing {@code hostname} (null: any), by hostname. */
        List<DeviceRecord> devicesMatching(String status, String hostname) {
            return devices.values().stream()
                    .filter(d -> status == null || status.equals(d.status()))
                    .filter(d -> hostname == null || d.hostname().contains(hostname))
                    .sorted(Comparator.comparing(DeviceRecord::hostname))
                    .toList();
        }

        /** The organization's IPv4 CIDR and IPv6 ULA /64, which its devices' addresses are configured with. */
        List<String> overlayPrefixes() {
            return List.of(ipv4Cidr, Ipam.ulaPrefix(id));
        }

        /** The active devices {@code deviceId} may learn under the security groups, by hostname. */
        List<DeviceRecord> visiblePeers(String deviceId) {
            var index = SecurityPolicies.index(securityGroups, devices.values());
            return index.visibleTo(deviceId).stream().map(devices::get)
                    .sorted(Comparator.comparing(DeviceRecord::hostname).thenComparing(DeviceRecord::id))
                    .toList();
        }

        /**
         * The peer map for a watcher at {@code since}: deltas when they are all retained (and, for a watcher device,
         * no policy may have changed since), else everything. A watcher device gets only the peers it may learn, and
         * its policy with a full map; a watcher of no particular device gets every active device, with the security
         * groups when the map is full or a change since may have altered a policy, and the changes it covers.
         */
        PeerMap peerMapSince(long since, String watcherId) {
            PeerMap changed = changesSince(since, watcherId);
            if (changed != null) {
                return changed;
            }
            List<PeerInfo> peers = devices.values().stream()
                    .filter(d -> d.status().equals(DeviceRecord.ACTIVE))
                    .sorted(Comparator.comparing(DeviceRecord::hostname))
                    .map(this::peerOf)
                    .toList();
            if (watcherId == null) {
                return new PeerMap(revision, true, peers, List.of(), null, policyInputs(), overlayPrefixes(),
                        changes);
            }
            var index = SecurityPolicies.index(securityGroups, devices.values());
            List<PeerInfo> visible = peers.stream()
                    .filter(peer -> peer.id().equals(watcherId) || index.visible(watcherId, peer.id())).toList();
            return new PeerMap(revision, true, visible, List.of(), index.policyOf(watcherId), null,
                    overlayPrefixes());
        }

        /**
         * The changes since {@code since} as {@link #peerMapSince} gives them, or null when not all are retained or,
         * for a watcher device, when some policy may have changed since (what it may learn is then worked out from
         * the whole map).
         */
        PeerMap changesSince(long since, String watcherId) {
            boolean retained = since > 0 && since <= revision
                    && (changes.isEmpty() ? since == revision : changes.get(0).revision() <= since + 1);
            if (!retained) {
                return null;
            }
            Set<String> touched = new LinkedHashSet<>();
            boolean policyMayHaveChanged = false;
            List<Change> covered = new ArrayList<>();
            for (Change change : changes) {
                if (change.revision() > since) {
                    if (change.deviceId() != null) {
                        touched.add(change.deviceId());
                    }
                    policyMayHaveChanged |= change.policy();
                    covered.add(change);
                }
            }
            if (watcherId != null && policyMayHaveChanged) {
                return null;
            }
            var index = watcherId == null || touched.isEmpty() ? null
                    : SecurityPolicies.index(securityGroups, devices.values());
            List<PeerInfo> upserts = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            for (String deviceId : touched) {
                DeviceRecord device = devices.get(deviceId);
                if (device != null && device.status().equals(DeviceRecord.ACTIVE)) {
                    if (index == null || deviceId.equals(watcherId) || index.visible(watcherId, deviceId)) {
                        upserts.add(peerOf(device));
                    }
                } else {
                    removed.add(deviceId);
                }
            }
            if (watcherId != null) {
                return new PeerMap(revision, false, upserts, removed, null, null);
            }
            return new PeerMap(revision, false, upserts, removed, null, policyMayHaveChanged ? policyInputs() : null,
                    null, List.copyOf(covered));
        }

        private PolicyInputs policyInputs() {
            return new PolicyInputs(securityGroups, Map.of());
        }
    }

    /**
     * A change to the peer map: a device added, changed or removed ({@code deviceId}), or the security groups
     * changed (no device). {@code policy}: whether it may change some device's security policy (groups, or which
     * devices they apply to and with what addresses).
     */
    record Change(long revision, String deviceId, boolean policy) implements CborSerializable {}
}
