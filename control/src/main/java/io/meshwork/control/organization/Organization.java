package io.meshwork.control.organization;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.meshwork.control.CborSerializable;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * An organization: its overlay address space and IPAM, registration keys, API token, and the directory of its
 * devices with their endpoints, NAT reports and lifecycle. It is the source of the peer map: every change bumps
 * the revision and is remembered (the last {@value #RETAINED_CHANGES}) so a watcher can resume from a revision.
 *
 * <p>Lifecycle: not created → created. Devices: active → revoked (kept, never in the peer map) or deleted.
 * Invariants: overlay addresses are never handed out twice; a registration key's secret is kept only hashed;
 * a single-use key registers at most one device.
 */
public final class Organization
        extends EventSourcedBehaviorWithEnforcedReplies<Organization.Command, Organization.Event, Organization.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Organization");
    static final int RETAINED_CHANGES = 1000;
    /**
     * How long after its registration a device may have that registration repeated, should its answer have been
     * lost (see docs/api.md): long enough for a node's retries, short enough that a leaked single-use key is no
     * standing way to take a device's token over.
     */
    public static final Duration REPEAT_WINDOW = Duration.ofMinutes(10);

    public static void init(ActorSystem<?> system, int snapshotEvery) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> create(context.getEntityId(), snapshotEvery)));
    }

    public static Behavior<Command> create(String organizationId, int snapshotEvery) {
        return Behaviors.setup(context -> new Organization(organizationId, snapshotEvery,
                RevisionTopics.topic(context.getSystem(), organizationId)));
    }

    // ---- messages ---------------------------------------------------------------------------------------

    public sealed interface Command extends CborSerializable {}

    public record Create(String name, String ipv4Cidr, String apiTokenHash, long nowMillis, ActorRef<Reply> replyTo)
            implements Command {}

    public record Get(ActorRef<Reply> replyTo) implements Command {}

    /** One device's record (404 when the organization has no such device): small, unlike {@link Get}. */
    public record GetDevice(String deviceId, ActorRef<Reply> replyTo) implements Command {}

    public record Delete(ActorRef<Reply> replyTo) implements Command {}

    /** A registration key; devices it registers wait for approval when {@code approvalRequired}. */
    public record CreateKey(String keyId, String secretHash, boolean reusable, long expiresAtMillis, long nowMillis,
            boolean approvalRequired, ActorRef<Reply> replyTo) implements Command {
        public CreateKey(String keyId, String secretHash, boolean reusable, long expiresAtMillis, long nowMillis,
                ActorRef<Reply> replyTo) {
            this(keyId, secretHash, reusable, expiresAtMillis, nowMillis, false, replyTo);
        }
    }

    public record RevokeKey(String keyId, ActorRef<Reply> replyTo) implements Command {}

    /**
     * A command about one device that can share a journal write with others: see {@link Batch}. Each is answered on
     * its own {@code replyTo} exactly as when it comes alone.
     */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Register.class, name = "register"),
            @JsonSubTypes.Type(value = ReportEndpoints.class, name = "report")})
    public sealed interface Batchable extends Command permits Register, ReportEndpoints {
        String deviceId();

        ActorRef<Reply> replyTo();
    }

    public record Register(String keyId, String secretHash, String deviceId, String publicKey, String hostname,
            Map<String, String> metadata, List<Endpoint> endpoints, String tokenHash, String certificateSerial,
            long nowMillis, ActorRef<Reply> replyTo) implements Batchable {}

    public record ReportEndpoints(String deviceId, List<Endpoint> endpoints, Map<String, Object> nat, long nowMillis,
            ActorRef<Reply> replyTo) implements Batchable {}

    /**
     * The registration of {@code deviceId} again, after {@link Register} answered {@link Reply#REPEAT}: the same
     * rules are checked again, then the device's token hash and certificate serial are replaced (see
     * docs/api.md). Answers the device with its new credentials; nothing else of it changes.
     */
    public record RepeatRegistration(String keyId, String secretHash, String deviceId, String publicKey,
            String tokenHash, String certificateSerial, long nowMillis, ActorRef<Reply> replyTo) implements Command {}

    /**
     * Group commit: the commands are decided in order, each against the state the ones before it left, and what they
     * change is written as one atomic journal write; then each is answered, and {@code replyTo} hears how many events
     * were written. The organization is one writer, so under load this is what keeps registrations from queueing
     * behind one database round trip each (see {@link OrganizationWriter}).
     */
    public record Batch(List<Batchable> commands, ActorRef<BatchDone> replyTo) implements Command {}

    public record BatchDone(int written) implements CborSerializable {}

    public record PatchDevice(String deviceId, String hostname, Map<String, String> metadata,
            ActorRef<Reply> replyTo) implements Command {}

    public record RevokeDevice(String deviceId, ActorRef<Reply> replyTo) implements Command {}

    /** A pending device becomes active: it joins the peer map. */
    public record ApproveDevice(String deviceId, ActorRef<Reply> replyTo) implements Command {}

    public record DeleteDevice(String deviceId, ActorRef<Reply> replyTo) implements Command {}

    /**
     * The peer map for a watcher at {@code sinceRevision}; with a {@code deviceId}, also that device's security
     * policy whenever it may have changed since then; without one, whatever every device's policy is resolved from
     * whenever some policy may have changed (a feed shared by the streams of many devices).
     */
    public record GetPeerMap(long sinceRevision, String deviceId, ActorRef<Reply> replyTo) implements Command {
        /** The peer map for no device in particular. */
        public GetPeerMap(long sinceRevision, ActorRef<Reply> replyTo) {
            this(sinceRevision, null, replyTo);
        }
    }

    /**
     * What changed since {@code sinceRevision}, as {@link GetPeerMap} answers it, but never the whole map: when those
     * changes are no longer retained the answer is 410, and the watcher starts over from a full map it takes from the
     * member's shared feed (see {@code PeerMapFeeds}), so many watchers coming back at once cost no map each.
     */
    public record GetPeerMapChanges(long sinceRevision, String deviceId, ActorRef<Reply> replyTo) implements Command {}

    /** Creates or replaces the security group of that name. */
    public record SaveSecurityGroup(SecurityGroup group, ActorRef<Reply> replyTo) implements Command {}

    public record DeleteSecurityGroup(String name, ActorRef<Reply> replyTo) implements Command {}

    /**
     * Every answer: a status (HTTP semantics), an error text when not 2xx, and the organization's revision after the
     * command. Answers about one device carry that device, not the whole state, so they stay small when the entity
     * lives on another member; the others carry the state they acted on.
     */
    public record Reply(int status, String error, State state, DeviceRecord device, PeerMap peerMap, long revision,
            List<String> overlayPrefixes) implements CborSerializable {

        public Reply(int status, String error, State state, DeviceRecord device, PeerMap peerMap, long revision) {
            this(status, error, state, device, peerMap, revision, null);
        }

        /**
         * {@link Register}'s answer when the device with that public key is the one this key registered and its
         * registration may be repeated (nothing was written; {@code device} is it): see {@link RepeatRegistration}.
         */
        public static final int REPEAT = 208;

        public Reply(int status, String error, State state, DeviceRecord device, PeerMap peerMap) {
            this(status, error, state, device, peerMap,
                    state != null ? state.revision() : peerMap != null ? peerMap.revision() : 0);
        }

        static Reply ok(State state) {
            return new Reply(200, null, state, null, null);
        }

        /** About one device: the device, the revision, and the organization's overlay prefixes. */
        static Reply device(State state, DeviceRecord device) {
            return new Reply(200, null, null, device, null, state.revision(), state.overlayPrefixes());
        }

        static Reply error(int status, String error) {
            return new Reply(status, error, null, null, null);
        }

        public boolean isOk() {
            return status / 100 == 2;
        }
    }

    /**
     * Peers to send a watcher: the whole map ({@code full}) or what changed since its revision. When the map is full
     * or something since may have changed a security policy, a watcher device gets its inbound {@code policy} and a
     * watcher of no particular device the {@code policyInputs} to resolve any device's; both are null otherwise.
     * A full map also carries the organization's {@code overlayPrefixes} (its IPv4 CIDR and IPv6 ULA /64, the
     * prefix lengths devices configure their addresses with); null on a delta.
     */
    public record PeerMap(long revision, boolean full, List<PeerInfo> peers, List<String> removed,
            SecurityPolicy policy, PolicyInputs policyInputs, List<String> overlayPrefixes)
            implements CborSerializable {

        public PeerMap(long revision, boolean full, List<PeerInfo> peers, List<String> removed,
                SecurityPolicy policy, PolicyInputs policyInputs) {
            this(revision, full, peers, removed, policy, policyInputs, null);
        }

        /** This map as {@code deviceId} watches it: its own policy resolved, when the inputs came along. */
        public PeerMap forWatcher(String deviceId) {
            return policyInputs == null ? this
                    : new PeerMap(revision, full, peers, removed, policyInputs.policyOf(deviceId), null,
                            overlayPrefixes);
        }
    }

    /**
     * What every device's security policy is resolved from: the security groups and the active devices they apply
     * to (the only ones a policy depends on; see {@link SecurityPolicies}).
     */
    public record PolicyInputs(Map<String, SecurityGroup> groups, Map<String, DeviceRecord> members)
            implements CborSerializable {

        public SecurityPolicy policyOf(String deviceId) {
            return SecurityPolicies.effectiveFor(groups, members, deviceId);
        }
    }

    public sealed interface Event extends CborSerializable {}

    public record Created(String organizationId, String name, String ipv4Cidr, String apiTokenHash, long atMillis)
            implements Event {}

    public record Deleted(String organizationId) implements Event {}

    public record KeyCreated(String organizationId, RegistrationKey key) implements Event {}

    public record KeyRevoked(String organizationId, String keyId) implements Event {}

    public record DeviceRegistered(String organizationId, String keyId, DeviceRecord device) implements Event {}

    public record EndpointsReported(String organizationId, String deviceId, List<Endpoint> endpoints,
            Map<String, Object> nat, long atMillis) implements Event {}

    /** A repeated registration gave the device a new token (its hash) and certificate. */
    public record RegistrationRepeated(String organizationId, String deviceId, String tokenHash,
            String certificateSerial, long atMillis) implements Event {}

    public record DevicePatched(String organizationId, String deviceId, String hostname, Map<String, String> metadata)
            implements Event {}

    public record DeviceRevoked(String organizationId, String deviceId) implements Event {}

    public record DeviceApproved(String organizationId, String deviceId) implements Event {}

    public record DeviceDeleted(String organizationId, String deviceId) implements Event {}

    public record SecurityGroupSaved(String organizationId, SecurityGroup group) implements Event {}

    public record SecurityGroupDeleted(String organizationId, String name) implements Event {}

    /**
     * Inbound allow rules for the devices a group applies to ({@code appliesTo}: device ids, hostnames, or
     * {@code "*"} for all): traffic the rules match is let in, replies to flows those devices start are let back,
     * and everything else to them is dropped. Devices no group applies to accept everything. See
     * {@link SecurityPolicies} for how a device's policy is resolved.
     */
    public record SecurityGroup(String name, List<String> appliesTo, List<Rule> rules) implements CborSerializable {}

    /**
     * @param protocol "tcp", "udp", "icmp" or "any"
     * @param ports    destination ports: "443", "8000-8100", or null or "*" for every port (tcp/udp only)
     * @param peers    source CIDRs, or "group:NAME" (or just NAME) for the overlay addresses of the devices that
     *                 group applies to
     */
    public record Rule(String protocol, String ports, List<String> peers) implements CborSerializable {}

    // ---- state ------------------------------------------------------------------------------------------

    /** A registration key; {@code approvalRequired} (false in keys written before it existed) holds its devices pending. */
    public record RegistrationKey(String id, String secretHash, boolean reusable, long createdMillis,
            long expiresAtMillis, boolean revoked, int uses, boolean approvalRequired) implements CborSerializable {
        RegistrationKey withUse() {
            return new RegistrationKey(id, secretHash, reusable, createdMillis, expiresAtMillis, revoked, uses + 1,
                    approvalRequired);
        }

        RegistrationKey asRevoked() {
            return new RegistrationKey(id, secretHash, reusable, createdMillis, expiresAtMillis, true, uses,
                    approvalRequired);
        }

        boolean usableAt(long nowMillis) {
            return !revoked && (expiresAtMillis == 0 || nowMillis < expiresAtMillis) && (reusable || uses == 0);
        }
    }

    /**
     * {@code registrationKeyId}: the key that registered the device, which alone may repeat that registration when
     * its answer was lost (see docs/api.md); null in devices registered before it was recorded.
     */
    public record DeviceRecord(String id, String publicKey, String hostname, List<String> overlayIps,
            String tokenHash, List<Endpoint> endpoints, Map<String, Object> nat, Map<String, String> metadata,
            String status, long registeredMillis, long lastSeenMillis, String certificateSerial,
            String registrationKeyId)
            implements CborSerializable {
        /** Registered with a key that requires approval, and not approved yet: not in the peer map. */
        public static final String PENDING = "pending";
        public static final String ACTIVE = "active";
        public static final String REVOKED = "revoked";

        public DeviceRecord withEndpoints(List<Endpoint> newEndpoints, Map<String, Object> newNat, long seenMillis) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, newEndpoints, newNat, metadata,
                    status, registeredMillis, seenMillis, certificateSerial, registrationKeyId);
        }

        public DeviceRecord withNames(String newHostname, Map<String, String> newMetadata) {
            return new DeviceRecord(id, publicKey, newHostname, overlayIps, tokenHash, endpoints, nat, newMetadata,
                    status, registeredMillis, lastSeenMillis, certificateSerial, registrationKeyId);
        }

        public DeviceRecord withStatus(String newStatus) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata,
                    newStatus, registeredMillis, lastSeenMillis, certificateSerial, registrationKeyId);
        }

        public DeviceRecord withLastSeen(long seenMillis) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata, status,
                    registeredMillis, seenMillis, certificateSerial, registrationKeyId);
        }

        /** The token and certificate of a repeated registration. */
        public DeviceRecord withCredentials(String newTokenHash, String newCertificateSerial) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, newTokenHash, endpoints, nat, metadata,
                    status, registeredMillis, lastSeenMillis, newCertificateSerial, registrationKeyId);
        }

        PeerInfo toPeer() {
            return new PeerInfo(id, hostname, publicKey, overlayIps, endpoints, nat, lastSeenMillis);
        }
    }

    /**
     * A change to the peer map: a device added, changed or removed ({@code deviceId}), or the security groups
     * changed (no device). {@code policy}: whether it may change some device's security policy (groups, or which
     * devices they apply to and with what addresses).
     */
    public record Change(long revision, String deviceId, boolean policy) implements CborSerializable {}

    /**
     * {@code devices} and {@code deviceIdsByKey} (public key to device id, for the one-device-per-key rule) are
     * {@link PersistentMap}s, so an event changes them in O(log n) rather than copying thousands of devices.
     * {@code deviceIdsByKey} is derived: a state read back from a snapshot without it rebuilds it.
     */
    public record State(String id, String name, String ipv4Cidr, String apiTokenHash, long createdMillis,
            boolean exists, long nextHost, Map<String, RegistrationKey> keys, Map<String, DeviceRecord> devices,
            long revision, List<Change> changes, Map<String, SecurityGroup> securityGroups,
            Map<String, String> deviceIdsByKey)
            implements CborSerializable {

        public State {
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
        }

        State(String id, String name, String ipv4Cidr, String apiTokenHash, long createdMillis, boolean exists,
                long nextHost, Map<String, RegistrationKey> keys, Map<String, DeviceRecord> devices, long revision,
                List<Change> changes, Map<String, SecurityGroup> securityGroups) {
            this(id, name, ipv4Cidr, apiTokenHash, createdMillis, exists, nextHost, keys, devices, revision, changes,
                    securityGroups, null);
        }

        State withSecurityGroups(Map<String, SecurityGroup> groups) {
            long newRevision = revision + 1;
            return new State(id, name, ipv4Cidr, apiTokenHash, createdMillis, exists, nextHost, keys, devices,
                    newRevision, retained(new Change(newRevision, null, true)), Map.copyOf(groups), deviceIdsByKey);
        }

        /** The retained changes with {@code change} appended, the oldest forgotten beyond the limit. */
        private List<Change> retained(Change change) {
            List<Change> next = new ArrayList<>(changes);
            next.add(change);
            if (next.size() > RETAINED_CHANGES) {
                next = next.subList(next.size() - RETAINED_CHANGES, next.size());
            }
            return List.copyOf(next);
        }

        static State empty(String id) {
            return new State(id, null, null, null, 0, false, 1, Map.of(), Map.of(), 0, List.of(), Map.of());
        }

        State created(Created event) {
            return new State(id, event.name(), event.ipv4Cidr(), event.apiTokenHash(), event.atMillis(), true, 1,
                    Map.of(), Map.of(), revision, changes, Map.of());
        }

        State deleted() {
            return new State(id, null, null, null, 0, false, nextHost, Map.of(), Map.of(), revision + 1, List.of(),
                    Map.of());
        }

        State withKey(RegistrationKey key) {
            Map<String, RegistrationKey> next = new LinkedHashMap<>(keys);
            next.put(key.id(), key);
            return new State(id, name, ipv4Cidr, apiTokenHash, createdMillis, exists, nextHost, Map.copyOf(next),
                    devices, revision, changes, securityGroups, deviceIdsByKey);
        }

        /** {@code affectsPolicy}: the device joined, left, or changed what identifies it to security groups. */
        State withDevice(DeviceRecord device, long hostsUsed, boolean affectsPolicy) {
            long newRevision = revision + 1;
            return new State(id, name, ipv4Cidr, apiTokenHash, createdMillis, exists, nextHost + hostsUsed, keys,
                    ((PersistentMap<String, DeviceRecord>) devices).with(device.id(), device), newRevision,
                    retained(new Change(newRevision, device.id(), affectsPolicy)), securityGroups,
                    ((PersistentMap<String, String>) deviceIdsByKey).with(device.publicKey(), device.id()));
        }

        /** {@code device} replaced where nothing of the peer map changed (its credentials): no new revision. */
        State withDeviceUnlisted(DeviceRecord device) {
            return new State(id, name, ipv4Cidr, apiTokenHash, createdMillis, exists, nextHost, keys,
                    ((PersistentMap<String, DeviceRecord>) devices).with(device.id(), device), revision, changes,
                    securityGroups, deviceIdsByKey);
        }

        State withoutDevice(String deviceId) {
            DeviceRecord gone = devices.get(deviceId);
            long newRevision = revision + 1;
            return new State(id, name, ipv4Cidr, apiTokenHash, createdMillis, exists, nextHost, keys,
                    ((PersistentMap<String, DeviceRecord>) devices).without(deviceId), newRevision,
                    retained(new Change(newRevision, deviceId, true)), securityGroups,
                    gone == null ? deviceIdsByKey
                            : ((PersistentMap<String, String>) deviceIdsByKey).without(gone.publicKey()));
        }

        DeviceRecord deviceByKey(String publicKey) {
            String deviceId = deviceIdsByKey.get(publicKey);
            return deviceId == null ? null : devices.get(deviceId);
        }

        /**
         * The peer map for a watcher at {@code since}: deltas when they are all retained, else everything. When the
         * map is full or a change since may have altered a policy, the policy of the watcher comes along, or, with
         * no {@code watcherId}, the inputs to resolve any device's.
         */
        PeerMap peerMapSince(long since, String watcherId) {
            PeerMap changed = changesSince(since, watcherId);
            if (changed != null) {
                return changed;
            }
            List<PeerInfo> peers = devices.values().stream()
                    .filter(d -> d.status().equals(DeviceRecord.ACTIVE))
                    .sorted(Comparator.comparing(DeviceRecord::hostname))
                    .map(DeviceRecord::toPeer)
                    .toList();
            return withPolicy(new PeerMap(revision, true, peers, List.of(), null, null, overlayPrefixes()),
                    watcherId);
        }

        /** The organization's IPv4 CIDR and IPv6 ULA /64, which its devices' addresses are configured with. */
        public List<String> overlayPrefixes() {
            return List.of(ipv4Cidr, Ipam.ulaPrefix(id));
        }

        /** The changes since {@code since} as {@link #peerMapSince} gives them, or null when not all are retained. */
        PeerMap changesSince(long since, String watcherId) {
            boolean retained = since > 0 && since <= revision
                    && (changes.isEmpty() ? since == revision : changes.get(0).revision() <= since + 1);
            if (!retained) {
                return null;
            }
            Set<String> touched = new LinkedHashSet<>();
            boolean policyMayHaveChanged = false;
            for (Change change : changes) {
                if (change.revision() > since) {
                    if (change.deviceId() != null) {
                        touched.add(change.deviceId());
                    }
                    policyMayHaveChanged |= change.policy();
                }
            }
            List<PeerInfo> upserts = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            for (String deviceId : touched) {
                DeviceRecord device = devices.get(deviceId);
                if (device != null && device.status().equals(DeviceRecord.ACTIVE)) {
                    upserts.add(device.toPeer());
                } else {
                    removed.add(deviceId);
                }
            }
            PeerMap delta = new PeerMap(revision, false, upserts, removed, null, null);
            return policyMayHaveChanged ? withPolicy(delta, watcherId) : delta;
        }

        private PeerMap withPolicy(PeerMap map, String watcherId) {
            return watcherId != null
                    ? new PeerMap(map.revision(), map.full(), map.peers(), map.removed(),
                            SecurityPolicies.effectiveFor(securityGroups, devices, watcherId), null,
                            map.overlayPrefixes())
                    : new PeerMap(map.revision(), map.full(), map.peers(), map.removed(), null,
                            new PolicyInputs(securityGroups, SecurityPolicies.members(securityGroups, devices)),
                            map.overlayPrefixes());
        }
    }

    // ---- behaviour ----------------------------------------------------------------------------------------

    private final String organizationId;
    private final int snapshotEvery;
    private final ActorRef<Topic.Command<Long>> revisions;

    private Organization(String organizationId, int snapshotEvery, ActorRef<Topic.Command<Long>> revisions) {
        super(PersistenceId.of(ENTITY_KEY.name(), organizationId),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
        this.organizationId = organizationId;
        this.snapshotEvery = snapshotEvery;
        this.revisions = revisions;
    }

    /** Persists a change to the peer map and tells watchers on every member the new revision. */
    private EffectBuilder<Event, State> persistAndPublish(Event event) {
        return Effect().persist(event).thenRun(state -> revisions.tell(Topic.publish(state.revision())));
    }

    @Override
    public State emptyState() {
        return State.empty(organizationId);
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Create.class, this::onCreate)
                .onCommand(Get.class, (state, command) -> Effect().reply(command.replyTo(),
                        ifExists(state, () -> Reply.ok(state))))
                .onCommand(GetDevice.class, (state, command) -> {
                    DeviceRecord device = state.devices().get(command.deviceId());
                    return Effect().reply(command.replyTo(), device == null
                            ? Reply.error(404, "no such device") : Reply.device(state, device));
                })
                .onCommand(Delete.class, this::onDelete)
                .onCommand(CreateKey.class, this::onCreateKey)
                .onCommand(RevokeKey.class, this::onRevokeKey)
                .onCommand(Register.class, this::decideAndReply)
                .onCommand(Batch.class, this::onBatch)
                .onCommand(ReportEndpoints.class, this::decideAndReply)
                .onCommand(RepeatRegistration.class, this::onRepeatRegistration)
                .onCommand(PatchDevice.class, this::onPatchDevice)
                .onCommand(RevokeDevice.class, this::onRevokeDevice)
                .onCommand(ApproveDevice.class, this::onApproveDevice)
                .onCommand(DeleteDevice.class, this::onDeleteDevice)
                .onCommand(SaveSecurityGroup.class, (state, command) -> !state.exists()
                        ? Effect().reply(command.replyTo(), Reply.error(404, "no such organization"))
                        : persistAndPublish(new SecurityGroupSaved(organizationId, command.group()))
                                .thenReply(command.replyTo(), Reply::ok))
                .onCommand(DeleteSecurityGroup.class, (state, command) ->
                        !state.exists() || !state.securityGroups().containsKey(command.name())
                                ? Effect().reply(command.replyTo(), Reply.error(404, "no such security group"))
                                : persistAndPublish(new SecurityGroupDeleted(organizationId, command.name()))
                                        .thenReply(command.replyTo(), Reply::ok))
                .onCommand(GetPeerMap.class, (state, command) -> Effect().reply(command.replyTo(),
                        ifExists(state, () -> new Reply(200, null, null, null,
                                state.peerMapSince(command.sinceRevision(), command.deviceId())))))
                .onCommand(GetPeerMapChanges.class, this::onGetPeerMapChanges)
                .build();
    }

    private ReplyEffect<Event, State> onGetPeerMapChanges(State state, GetPeerMapChanges command) {
        if (!state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such organization"));
        }
        PeerMap changed = state.changesSince(command.sinceRevision(), command.deviceId());
        return Effect().reply(command.replyTo(), changed == null
                ? Reply.error(410, "the changes since revision " + command.sinceRevision() + " are no longer kept")
                : new Reply(200, null, null, null, changed));
    }

    /** {@code answer}'s reply when the organization exists, else a 404. */
    private static Reply ifExists(State state, Supplier<Reply> answer) {
        return state.exists() ? answer.get() : Reply.error(404, "no such organization");
    }

    private ReplyEffect<Event, State> onCreate(State state, Create command) {
        if (state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(409, "organization exists"));
        }
        return Effect().persist(new Created(organizationId, command.name(), command.ipv4Cidr(),
                        command.apiTokenHash(), command.nowMillis()))
                .thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, State> onDelete(State state, Delete command) {
        if (!state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such organization"));
        }
        return Effect().persist(new Deleted(organizationId)).thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, State> onCreateKey(State state, CreateKey command) {
        if (!state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such organization"));
        }
        RegistrationKey key = new RegistrationKey(command.keyId(), command.secretHash(), command.reusable(),
                command.nowMillis(), command.expiresAtMillis(), false, 0, command.approvalRequired());
        return Effect().persist(new KeyCreated(organizationId, key)).thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, State> onRevokeKey(State state, RevokeKey command) {
        if (!state.exists() || !state.keys().containsKey(command.keyId())) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such key"));
        }
        return Effect().persist(new KeyRevoked(organizationId, command.keyId())).thenReply(command.replyTo(), Reply::ok);
    }

    /** What a {@link Batchable} command does: the event it writes, or the answer it gets without writing. */
    private record Decision(Event event, Reply answer) {
        static Decision write(Event event) {
            return new Decision(event, null);
        }

        static Decision answer(Reply answer) {
            return new Decision(null, answer);
        }
    }

    private Decision decide(State state, Batchable command) {
        if (command instanceof Register register) {
            return decideRegister(state, register);
        }
        return decideReport(state, (ReportEndpoints) command);
    }

    /** One batchable command alone: written and answered as a batch of one would be. */
    private ReplyEffect<Event, State> decideAndReply(State state, Batchable command) {
        Decision decision = decide(state, command);
        if (decision.event() == null) {
            return Effect().reply(command.replyTo(), decision.answer());
        }
        return persistAndPublish(decision.event()).thenReply(command.replyTo(),
                next -> Reply.device(next, next.devices().get(command.deviceId())));
    }

    private ReplyEffect<Event, State> onBatch(State state, Batch batch) {
        EventHandler<State, Event> apply = eventHandler();
        List<Event> events = new ArrayList<>();
        List<Decision> decisions = new ArrayList<>(batch.commands().size());
        State running = state;
        for (Batchable command : batch.commands()) {
            Decision decision = decide(running, command);
            decisions.add(decision);
            if (decision.event() != null) {
                events.add(decision.event());
                running = apply.apply(running, decision.event());
            }
        }
        EffectBuilder<Event, State> effect = events.isEmpty() ? Effect().none()
                : Effect().persist(events).thenRun(next -> revisions.tell(Topic.publish(next.revision())));
        return effect.thenRun(next -> {
            for (int i = 0; i < decisions.size(); i++) {
                Batchable command = batch.commands().get(i);
                Decision decision = decisions.get(i);
                command.replyTo().tell(decision.event() == null ? decision.answer()
                        : Reply.device(next, next.devices().get(command.deviceId())));
            }
            batch.replyTo().tell(new BatchDone(events.size()));
        }).thenNoReply();
    }

    private Decision decideRegister(State state, Register command) {
        RegistrationKey key = state.exists() ? state.keys().get(command.keyId()) : null;
        if (key == null || !key.secretHash().equals(command.secretHash())) {
            return Decision.answer(Reply.error(401, "unknown registration key"));
        }
        DeviceRecord existing = state.deviceByKey(command.publicKey());
        if (existing != null && repeatRefusal(key, existing, command.nowMillis()) == null) {
            // Checked before the key's uses: a single-use key whose one use was this device may repeat it.
            return Decision.answer(new Reply(Reply.REPEAT, null, null, existing, null, state.revision()));
        }
        if (!key.usableAt(command.nowMillis())) {
            String why = key.revoked() ? "registration key revoked"
                    : (!key.reusable() && key.uses() > 0) ? "registration key already used"
                    : "registration key expired";
            return Decision.answer(Reply.error(401, why));
        }
        if (existing != null) {
            return Decision.answer(Reply.error(409,
                    "a device with this public key is already registered (" + existing.id() + ")"));
        }
        if (state.devices().containsKey(command.deviceId())) {
            return Decision.answer(Reply.error(409, "device id " + command.deviceId() + " is taken"));
        }
        Ipam.Cidr cidr = Ipam.Cidr.parse(state.ipv4Cidr());
        if (state.nextHost() > cidr.capacity()) {
            return Decision.answer(Reply.error(409, "the organization's address space is full"));
        }
        List<String> overlay = List.of(cidr.host(state.nextHost()), Ipam.ulaHost(organizationId, state.nextHost()));
        DeviceRecord device = new DeviceRecord(command.deviceId(), command.publicKey(), command.hostname(), overlay,
                command.tokenHash(), command.endpoints() == null ? List.of() : command.endpoints(), Map.of(),
                command.metadata() == null ? Map.of() : command.metadata(),
                key.approvalRequired() ? DeviceRecord.PENDING : DeviceRecord.ACTIVE,
                command.nowMillis(), command.nowMillis(), command.certificateSerial(), key.id());
        return Decision.write(new DeviceRegistered(organizationId, key.id(), device));
    }

    /**
     * Null when {@code key} may repeat the registration of {@code device} at {@code nowMillis}, else why not: the
     * key is neither revoked nor expired and registered this device, which is not revoked and has not been seen
     * since (so its node never had the first answer, as far as control knows), within {@link #REPEAT_WINDOW} of
     * its registration. The key's uses do not count: its use was this device. See docs/api.md.
     */
    static String repeatRefusal(RegistrationKey key, DeviceRecord device, long nowMillis) {
        if (key.revoked() || key.expiresAtMillis() != 0 && nowMillis >= key.expiresAtMillis()) {
            return "the registration key is revoked or expired";
        }
        if (!key.id().equals(device.registrationKeyId())) {
            return "another key registered the device";
        }
        if (device.status().equals(DeviceRecord.REVOKED)) {
            return "the device is revoked";
        }
        if (device.lastSeenMillis() != device.registeredMillis()) {
            return "the device has been seen since it registered";
        }
        if (nowMillis - device.registeredMillis() >= REPEAT_WINDOW.toMillis()) {
            return "the device registered too long ago";
        }
        return null;
    }

    private ReplyEffect<Event, State> onRepeatRegistration(State state, RepeatRegistration command) {
        RegistrationKey key = state.exists() ? state.keys().get(command.keyId()) : null;
        if (key == null || !key.secretHash().equals(command.secretHash())) {
            return Effect().reply(command.replyTo(), Reply.error(401, "unknown registration key"));
        }
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null || !device.publicKey().equals(command.publicKey())) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        String refusal = repeatRefusal(key, device, command.nowMillis());
        if (refusal != null) {
            return Effect().reply(command.replyTo(), Reply.error(409,
                    "a device with this public key is already registered (" + device.id() + "): " + refusal));
        }
        // Not a peer-map change (the token and certificate are not in it): nothing is published.
        return Effect().persist(new RegistrationRepeated(organizationId, device.id(), command.tokenHash(),
                        command.certificateSerial(), command.nowMillis()))
                .thenReply(command.replyTo(), next -> Reply.device(next, next.devices().get(device.id())));
    }

    private Decision decideReport(State state, ReportEndpoints command) {
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null || !device.status().equals(DeviceRecord.ACTIVE)) {
            return Decision.answer(Reply.error(404, "no such device"));
        }
        return Decision.write(new EndpointsReported(organizationId, device.id(), command.endpoints(),
                command.nat() == null ? device.nat() : command.nat(), command.nowMillis()));
    }

    private ReplyEffect<Event, State> onPatchDevice(State state, PatchDevice command) {
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        return persistAndPublish(new DevicePatched(organizationId, device.id(),
                        command.hostname() == null ? device.hostname() : command.hostname(),
                        command.metadata() == null ? device.metadata() : command.metadata()))
                .thenReply(command.replyTo(), next -> Reply.device(next, next.devices().get(device.id())));
    }

    private ReplyEffect<Event, State> onRevokeDevice(State state, RevokeDevice command) {
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        return persistAndPublish(new DeviceRevoked(organizationId, device.id()))
                .thenReply(command.replyTo(), next -> Reply.device(next, next.devices().get(device.id())));
    }

    private ReplyEffect<Event, State> onApproveDevice(State state, ApproveDevice command) {
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        if (device.status().equals(DeviceRecord.ACTIVE)) {
            return Effect().reply(command.replyTo(), Reply.device(state, device));
        }
        if (!device.status().equals(DeviceRecord.PENDING)) {
            return Effect().reply(command.replyTo(), Reply.error(409, "a " + device.status()
                    + " device cannot be approved"));
        }
        return persistAndPublish(new DeviceApproved(organizationId, device.id()))
                .thenReply(command.replyTo(), next -> Reply.device(next, next.devices().get(device.id())));
    }

    private ReplyEffect<Event, State> onDeleteDevice(State state, DeleteDevice command) {
        if (!state.devices().containsKey(command.deviceId())) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        return persistAndPublish(new DeviceDeleted(organizationId, command.deviceId()))
                .thenReply(command.replyTo(), Reply::ok);
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Created.class, State::created)
                .onEvent(Deleted.class, (state, event) -> state.deleted())
                .onEvent(KeyCreated.class, (state, event) -> state.withKey(event.key()))
                .onEvent(KeyRevoked.class, (state, event) ->
                        state.withKey(state.keys().get(event.keyId()).asRevoked()))
                .onEvent(DeviceRegistered.class, (state, event) ->
                        state.withKey(state.keys().get(event.keyId()).withUse()).withDevice(event.device(), 1, true))
                .onEvent(EndpointsReported.class, (state, event) -> state.withDevice(state.devices()
                        .get(event.deviceId()).withEndpoints(event.endpoints(), event.nat(), event.atMillis()), 0, false))
                .onEvent(RegistrationRepeated.class, (state, event) -> state.withDeviceUnlisted(state.devices()
                        .get(event.deviceId()).withCredentials(event.tokenHash(), event.certificateSerial())))
                .onEvent(DevicePatched.class, (state, event) -> {
                    DeviceRecord d = state.devices().get(event.deviceId());
                    return state.withDevice(d.withNames(event.hostname(), event.metadata()), 0,
                            !d.hostname().equals(event.hostname()));
                })
                .onEvent(DeviceRevoked.class, (state, event) -> state.withDevice(
                        state.devices().get(event.deviceId()).withStatus(DeviceRecord.REVOKED), 0, true))
                .onEvent(DeviceApproved.class, (state, event) -> state.withDevice(
                        state.devices().get(event.deviceId()).withStatus(DeviceRecord.ACTIVE), 0, true))
                .onEvent(DeviceDeleted.class, (state, event) -> state.withoutDevice(event.deviceId()))
                .onEvent(SecurityGroupSaved.class, (state, event) -> {
                    Map<String, SecurityGroup> groups = new LinkedHashMap<>(state.securityGroups());
                    groups.put(event.group().name(), event.group());
                    return state.withSecurityGroups(groups);
                })
                .onEvent(SecurityGroupDeleted.class, (state, event) -> {
                    Map<String, SecurityGroup> groups = new LinkedHashMap<>(state.securityGroups());
                    groups.remove(event.name());
                    return state.withSecurityGroups(groups);
                })
                .build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
    }
}
