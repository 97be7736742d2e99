package io.meshwork.control.organization;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.meshwork.control.CborSerializable;
import io.meshwork.control.organization.OrganizationState.Active;
import io.meshwork.control.organization.OrganizationState.Change;
import io.meshwork.control.organization.OrganizationState.Empty;
import io.meshwork.protocol.api.Endpoint;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.api.SecurityPolicy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.function.Function;
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
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
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
 * <p>Lifecycle ({@link OrganizationState}): {@link Empty} (never created) → {@link Active} → {@code Deleted}, which
 * may be created again (the revision carries on). Every command but {@link Create} finds no organization in the
 * first and last: {@link #absent} answers them all. Devices: pending → active → revoked (kept, never in the peer
 * map) or deleted. Invariants: overlay addresses are never handed out twice; a registration key's secret and the
 * API token are kept only hashed and never leave the entity; a single-use key registers at most one device.
 *
 * <p>Over 500 lines: the messages (commands, replies, events and the records they carry) are half of it and stay
 * nested here, since the events' class names are their journal manifests and every caller names them
 * {@code Organization.X}. The states and their event handlers are in {@link OrganizationState}.
 */
public final class Organization extends EventSourcedBehaviorWithEnforcedReplies<Organization.Command,
        Organization.Event, OrganizationState> {

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
        return create(organizationId, snapshotEvery, true);
    }

    /**
     * {@code routeTimer}: whether a timer sends {@link CheckRoutes} every second (tests send it themselves, with
     * the time they want).
     */
    public static Behavior<Command> create(String organizationId, int snapshotEvery, boolean routeTimer) {
        return Behaviors.withTimers(timers -> {
            if (routeTimer) {
                timers.startTimerWithFixedDelay(new CheckRoutes(0), ROUTE_CHECK_EVERY);
            }
            return Behaviors.setup(context -> new Organization(organizationId, snapshotEvery,
                    RevisionTopics.topic(context.getSystem(), organizationId)));
        });
    }

    /** How often primary routers are elected again with who is online. */
    static final Duration ROUTE_CHECK_EVERY = Duration.ofSeconds(1);

    // ---- messages ---------------------------------------------------------------------------------------

    public sealed interface Command extends CborSerializable {}

    /** A command answered with a {@link Reply}: every one but {@link Batch}. */
    public sealed interface Request extends Command {
        ActorRef<Reply> replyTo();
    }

    public record Create(String name, String ipv4Cidr, String apiTokenHash, long nowMillis, ActorRef<Reply> replyTo)
            implements Request {}

    /** The organization's {@link Summary}. */
    public record Get(ActorRef<Reply> replyTo) implements Request {}

    /**
     * The {@link Summary}, when {@code secretHash} is the hash of the organization's API token; else 401
     * {@code unknown token}. The token's hash never leaves the entity.
     */
    public record Authorize(String secretHash, ActorRef<Reply> replyTo) implements Request {}

    /**
     * A page of the devices with that status and a hostname containing {@code hostname} (null: any), by hostname:
     * {@link Reply#devices()}.
     */
    public record ListDevices(String status, String hostname, int offset, int limit, ActorRef<Reply> replyTo)
            implements Request {}

    /** One device's record (404 when the organization has no such device): small, unlike {@link Get}. */
    public record GetDevice(String deviceId, ActorRef<Reply> replyTo) implements Request {}

    /**
     * Deletes the organization. The answer carries the certificate serials of the devices it had, for the relays
     * to refuse; asked again once deleted, it answers 404 with the same serials, so a deletion whose revocations
     * were not written is finished by a retry.
     */
    public record Delete(ActorRef<Reply> replyTo) implements Request {}

    /** A registration key; devices it registers wait for approval when {@code approvalRequired} and get its {@code tags}. */
    public record CreateKey(String keyId, String secretHash, boolean reusable, long expiresAtMillis, long nowMillis,
            boolean approvalRequired, List<String> tags, RouteTable.AutoApprove autoApproveRoutes,
            ActorRef<Reply> replyTo) implements Request {
        public CreateKey(String keyId, String secretHash, boolean reusable, long expiresAtMillis, long nowMillis,
                boolean approvalRequired, List<String> tags, ActorRef<Reply> replyTo) {
            this(keyId, secretHash, reusable, expiresAtMillis, nowMillis, approvalRequired, tags, null, replyTo);
        }

        public CreateKey(String keyId, String secretHash, boolean reusable, long expiresAtMillis, long nowMillis,
                boolean approvalRequired, ActorRef<Reply> replyTo) {
            this(keyId, secretHash, reusable, expiresAtMillis, nowMillis, approvalRequired, List.of(), replyTo);
        }

        public CreateKey(String keyId, String secretHash, boolean reusable, long expiresAtMillis, long nowMillis,
                ActorRef<Reply> replyTo) {
            this(keyId, secretHash, reusable, expiresAtMillis, nowMillis, false, replyTo);
        }
    }

    public record RevokeKey(String keyId, ActorRef<Reply> replyTo) implements Request {}

    /**
     * A command about one device that can share a journal write with others: see {@link Batch}. Each is answered on
     * its own {@code replyTo} exactly as when it comes alone.
     */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Register.class, name = "register"),
            @JsonSubTypes.Type(value = ReportEndpoints.class, name = "report")})
    public sealed interface Batchable extends Request permits Register, ReportEndpoints {
        String deviceId();
    }

    public record Register(String keyId, String secretHash, String deviceId, String publicKey, String hostname,
            Map<String, String> metadata, List<Endpoint> endpoints, String tokenHash, String certificateSerial,
            long nowMillis, ActorRef<Reply> replyTo) implements Batchable {}

    /** {@code homeRelay}: the relay the device reported as its home, null for none. */
    public record ReportEndpoints(String deviceId, List<Endpoint> endpoints, Map<String, Object> nat, long nowMillis,
            ActorRef<Reply> replyTo, String homeRelay) implements Batchable {
        public ReportEndpoints(String deviceId, List<Endpoint> endpoints, Map<String, Object> nat, long nowMillis,
                ActorRef<Reply> replyTo) {
            this(deviceId, endpoints, nat, nowMillis, replyTo, null);
        }
    }

    /**
     * The registration of {@code deviceId} again, after {@link Register} answered {@link Reply#REPEAT}: the same
     * rules are checked again, then the device's token hash and certificate serial are replaced (see
     * docs/api.md). Answers the device with its new credentials; nothing else of it changes.
     */
    public record RepeatRegistration(String keyId, String secretHash, String deviceId, String publicKey,
            String tokenHash, String certificateSerial, long nowMillis, ActorRef<Reply> replyTo) implements Request {}

    /**
     * A new certificate for {@code deviceId}, for the same key ({@code publicKey}, as the device has it), with the
     * serial {@code certificateSerial} (docs/api.md, "Certificate renewal"). Refused for a revoked device or one
     * with another key; its token stays. Answers the device as it is after.
     */
    public record RenewCertificate(String deviceId, String publicKey, String certificateSerial, long nowMillis,
            ActorRef<Reply> replyTo) implements Request {}

    /**
     * Group commit: the commands are decided in order, each against the state the ones before it left, and what they
     * change is written as one atomic journal write; then each is answered, and {@code replyTo} hears how many events
     * were written. The organization is one writer, so under load this is what keeps registrations from queueing
     * behind one database round trip each (see {@link OrganizationWriter}).
     */
    public record Batch(List<Batchable> commands, ActorRef<BatchDone> replyTo) implements Command {}

    public record BatchDone(int written) implements CborSerializable {}

    /**
     * Changes a device's hostname (409 when another device has it), metadata and tags; null leaves one as it is.
     * Only administrators and the organization's API token send this (tags decide policy: a device never sets its
     * own).
     */
    public record PatchDevice(String deviceId, String hostname, Map<String, String> metadata, List<String> tags,
            Boolean relayAllowed, ActorRef<Reply> replyTo) implements Request {
        public PatchDevice(String deviceId, String hostname, Map<String, String> metadata, List<String> tags,
                ActorRef<Reply> replyTo) {
            this(deviceId, hostname, metadata, tags, null, replyTo);
        }

        public PatchDevice(String deviceId, String hostname, Map<String, String> metadata, ActorRef<Reply> replyTo) {
            this(deviceId, hostname, metadata, null, null, replyTo);
        }
    }

    /**
     * The devices {@code deviceId} may learn under the organization's security groups (its peer map, docs/api.md,
     * "Security groups"), by hostname: {@link Reply#devices()}; 404 when there is no such device.
     */
    public record GetVisiblePeers(String deviceId, ActorRef<Reply> replyTo) implements Request {}

    public record RevokeDevice(String deviceId, ActorRef<Reply> replyTo) implements Request {}

    /** A pending device becomes active: it joins the peer map. */
    public record ApproveDevice(String deviceId, ActorRef<Reply> replyTo) implements Request {}

    public record DeleteDevice(String deviceId, ActorRef<Reply> replyTo) implements Request {}

    /**
     * A device's report of the routes it offers ({@code routes}, with {@link io.meshwork.protocol.api.RouteAdvertisement#EXIT_ROUTES}
     * for an exit node), and whether it can forward: written when the routes changed; either way the device counts as
     * an online router (when {@code healthy}) for {@link RouteTable#ONLINE_WINDOW_MILLIS} from {@code nowMillis}.
     * Answers the device with its {@link Reply#routes()}.
     */
    public record ReportRoutes(String deviceId, List<String> routes, boolean healthy, long nowMillis,
            ActorRef<Reply> replyTo) implements Request {}

    /**
     * An administrator's decision on a device's routes: {@code approve} and {@code reject} (prefixes it advertises;
     * a prefix in neither keeps its decision). Answers the device with its {@link Reply#routes()}; 400 when one is
     * not advertised.
     */
    public record ReviewRoutes(String deviceId, List<String> approve, List<String> reject, List<String> primary,
            long nowMillis, ActorRef<Reply> replyTo) implements Request {

        /** {@code primary}: approved prefixes the device is to be the primary router of now (asked, not elected). */
        public ReviewRoutes(String deviceId, List<String> approve, List<String> reject, long nowMillis,
                ActorRef<Reply> replyTo) {
            this(deviceId, approve, reject, List.of(), nowMillis, replyTo);
        }
    }

    /** Replaces the tags whose devices' routes are approved without an administrator. */
    public record SaveRouteApprovers(Map<String, RouteTable.AutoApprove> approvers, ActorRef<Reply> replyTo)
            implements Request {}

    /**
     * Elects primary routers again with who is online at {@code nowMillis} (a timer sends it every second with
     * {@code nowMillis} 0, the clock's time): a primary that went offline hands its prefixes over.
     */
    public record CheckRoutes(long nowMillis) implements Command {}

    /**
     * The peer stream of {@code deviceId} ended at {@code nowMillis} (0: the clock's time) without the device
     * leaving: a router that reports nothing within {@link #STREAM_GRACE_MILLIS} after it counts as offline then,
     * not only when its last report is {@link #ONLINE_WINDOW_MILLIS} old. A killed agent's connections are closed by
     * its kernel at once, so its prefixes move in seconds; a router whose stream merely broke reports again in time.
     */
    public record StreamEnded(String deviceId, long nowMillis) implements Command {}

    /**
     * The peer map for a watcher at {@code sinceRevision}; with a {@code deviceId}, also that device's security
     * policy whenever it may have changed since then; without one, whatever every device's policy is resolved from
     * whenever some policy may have changed (a feed shared by the streams of many devices).
     */
    public record GetPeerMap(long sinceRevision, String deviceId, ActorRef<Reply> replyTo) implements Request {
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
    public record GetPeerMapChanges(long sinceRevision, String deviceId, ActorRef<Reply> replyTo) implements Request {}

    /** Creates or replaces the security group of that name. */
    public record SaveSecurityGroup(SecurityGroup group, ActorRef<Reply> replyTo) implements Request {}

    public record DeleteSecurityGroup(String name, ActorRef<Reply> replyTo) implements Request {}

    /**
     * Every answer: a status (HTTP semantics), an error text when not 2xx, and the organization's revision after the
     * command. Answers about one device carry that device ({@code overlayPrefixes} with it), {@link ListDevices} a
     * page of them, the peer-map queries a {@link PeerMap}, the others the organization's {@link Summary}: never
     * the whole state, so answers stay small when the entity lives on another member and no secret's hash leaves.
     */
    public record Reply(int status, String error, Summary summary, DeviceRecord device, PeerMap peerMap,
            long revision, List<String> overlayPrefixes, DevicePage devices, List<String> certificateSerials,
            io.meshwork.protocol.api.RouteStatus routes)
            implements CborSerializable {

        public Reply(int status, String error, Summary summary, DeviceRecord device, PeerMap peerMap,
                long revision, List<String> overlayPrefixes, DevicePage devices, List<String> certificateSerials) {
            this(status, error, summary, device, peerMap, revision, overlayPrefixes, devices, certificateSerials, null);
        }

        /**
         * {@link Register}'s answer when the device with that public key is the one this key registered and its
         * registration may be repeated (nothing was written; {@code device} is it): see {@link RepeatRegistration}.
         */
        public static final int REPEAT = 208;

        public Reply(int status, String error, Summary summary, DeviceRecord device, PeerMap peerMap,
                long revision, List<String> overlayPrefixes, DevicePage devices) {
            this(status, error, summary, device, peerMap, revision, overlayPrefixes, devices, null);
        }

        public Reply(int status, String error, Summary summary, DeviceRecord device, PeerMap peerMap,
                long revision) {
            this(status, error, summary, device, peerMap, revision, null, null);
        }

        public Reply(int status, String error, Summary summary, DeviceRecord device, PeerMap peerMap) {
            this(status, error, summary, device, peerMap,
                    summary != null ? summary.revision() : peerMap != null ? peerMap.revision() : 0);
        }

        /** Done: the organization's summary after it (none once deleted). */
        static Reply ok(OrganizationState state) {
            return new Reply(200, null, state instanceof OrganizationState.Active active ? active.summary() : null,
                    null, null, state.revision());
        }

        /** About one device: the device, the revision, and the organization's overlay prefixes. */
        static Reply device(OrganizationState.Active state, DeviceRecord device) {
            return new Reply(200, null, null, device, null, state.revision(), state.overlayPrefixes(), null);
        }

        static Reply error(int status, String error) {
            return new Reply(status, error, null, null, null);
        }

        public boolean isOk() {
            return status / 100 == 2;
        }
    }

    /**
     * What the API shows of an organization: no token hash, no key secret's hash, no device but their number.
     * {@code keys} and {@code securityGroups} by id and name.
     */
    public record Summary(String id, String name, String ipv4Cidr, String ipv6Prefix, long createdMillis,
            long revision, int deviceCount, Map<String, KeySummary> keys, Map<String, SecurityGroup> securityGroups,
            Map<String, RouteTable.AutoApprove> routeApprovers)
            implements CborSerializable {

        /** {@code routeApprovers}: by tag (none in summaries from before routes). */
        public Summary {
            routeApprovers = routeApprovers == null ? Map.of() : Map.copyOf(routeApprovers);
        }

        public Summary(String id, String name, String ipv4Cidr, String ipv6Prefix, long createdMillis,
                long revision, int deviceCount, Map<String, KeySummary> keys,
                Map<String, SecurityGroup> securityGroups) {
            this(id, name, ipv4Cidr, ipv6Prefix, createdMillis, revision, deviceCount, keys, securityGroups, null);
        }
    }

    /** A registration key without its secret's hash. */
    public record KeySummary(String id, boolean reusable, long createdMillis, long expiresAtMillis, boolean revoked,
            int uses, boolean approvalRequired, List<String> tags, RouteTable.AutoApprove autoApproveRoutes)
            implements CborSerializable {

        public KeySummary {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }

        public KeySummary(String id, boolean reusable, long createdMillis, long expiresAtMillis, boolean revoked,
                int uses, boolean approvalRequired, List<String> tags) {
            this(id, reusable, createdMillis, expiresAtMillis, revoked, uses, approvalRequired, tags, null);
        }

        public KeySummary(String id, boolean reusable, long createdMillis, long expiresAtMillis, boolean revoked,
                int uses, boolean approvalRequired) {
            this(id, reusable, createdMillis, expiresAtMillis, revoked, uses, approvalRequired, List.of());
        }

        static KeySummary of(RegistrationKey key) {
            return new KeySummary(key.id(), key.reusable(), key.createdMillis(), key.expiresAtMillis(), key.revoked(),
                    key.uses(), key.approvalRequired(), key.tags(), key.autoApproveRoutes());
        }
    }

    /** {@link ListDevices}'s answer: how many devices match, and the page asked for. */
    public record DevicePage(int total, List<DeviceRecord> devices,
            Map<String, io.meshwork.protocol.api.RouteStatus> routes) implements CborSerializable {

        /** {@code routes}: by device id, of the devices on the page that have routes. */
        public DevicePage {
            routes = routes == null ? Map.of() : Map.copyOf(routes);
        }

        public DevicePage(int total, List<DeviceRecord> devices) {
            this(total, devices, null);
        }
    }

    /**
     * Peers to send a watcher: the whole map ({@code full}) or what changed since its revision. When the map is full
     * or something since may have changed a security policy, a watcher device gets its inbound {@code policy} and a
     * watcher of no particular device the {@code policyInputs} to resolve any device's; both are null otherwise.
     * A full map also carries the organization's {@code overlayPrefixes} (its IPv4 CIDR and IPv6 ULA /64, the
     * prefix lengths devices configure their addresses with); null on a delta. A watcher device's map holds only the
     * peers it may learn under the security groups; a map for no particular device holds every active device and,
     * in {@code changes}, the retained changes it covers (a full map: all of them), so the member's shared feed can
     * tell a stream resuming from a revision what it missed.
     */
    public record PeerMap(long revision, boolean full, List<PeerInfo> peers, List<String> removed,
            SecurityPolicy policy, PolicyInputs policyInputs, List<String> overlayPrefixes,
            List<OrganizationState.Change> changes) implements CborSerializable {

        public PeerMap(long revision, boolean full, List<PeerInfo> peers, List<String> removed,
                SecurityPolicy policy, PolicyInputs policyInputs, List<String> overlayPrefixes) {
            this(revision, full, peers, removed, policy, policyInputs, overlayPrefixes, null);
        }

        public PeerMap(long revision, boolean full, List<PeerInfo> peers, List<String> removed,
                SecurityPolicy policy, PolicyInputs policyInputs) {
            this(revision, full, peers, removed, policy, policyInputs, null);
        }
    }

    /**
     * What every device's security policy and peer map are resolved from, besides the active devices themselves
     * (which a map for no particular device carries as its peers): the security groups. {@code members} is left
     * empty (earlier releases sent the devices the groups applied to).
     */
    public record PolicyInputs(Map<String, SecurityGroup> groups, Map<String, DeviceRecord> members)
            implements CborSerializable {}

    public sealed interface Event extends CborSerializable {}

    public record Created(String organizationId, String name, String ipv4Cidr, String apiTokenHash, long atMillis)
            implements Event {}

    /**
     * {@code certificateSerials}: of the devices it had when deleted; null in events written before deletion
     * revoked certificates.
     */
    public record Deleted(String organizationId, List<String> certificateSerials) implements Event {
        public Deleted(String organizationId) {
            this(organizationId, null);
        }
    }

    public record KeyCreated(String organizationId, RegistrationKey key) implements Event {}

    public record KeyRevoked(String organizationId, String keyId) implements Event {}

    public record DeviceRegistered(String organizationId, String keyId, DeviceRecord device) implements Event {}

    /** {@code homeRelay}: null for none (and in events written before devices reported one). */
    public record EndpointsReported(String organizationId, String deviceId, List<Endpoint> endpoints,
            Map<String, Object> nat, long atMillis, String homeRelay) implements Event {
        public EndpointsReported(String organizationId, String deviceId, List<Endpoint> endpoints,
                Map<String, Object> nat, long atMillis) {
            this(organizationId, deviceId, endpoints, nat, atMillis, null);
        }
    }

    /** A repeated registration gave the device a new token (its hash) and certificate. */
    public record RegistrationRepeated(String organizationId, String deviceId, String tokenHash,
            String certificateSerial, long atMillis) implements Event {}

    /** The device has a renewed certificate, with this serial; its token is unchanged. */
    public record CertificateRenewed(String organizationId, String deviceId, String certificateSerial,
            long atMillis) implements Event {}

    /**
     * {@code tags}: the device's tags after the patch; null (as in events written before tags) leaves them.
     * {@code relayAllowed}: whether the device may run a relay for its organization; null (as in events written
     * before it) leaves it.
     */
    public record DevicePatched(String organizationId, String deviceId, String hostname, Map<String, String> metadata,
            List<String> tags, Boolean relayAllowed) implements Event {
        public DevicePatched(String organizationId, String deviceId, String hostname, Map<String, String> metadata,
                List<String> tags) {
            this(organizationId, deviceId, hostname, metadata, tags, null);
        }

        public DevicePatched(String organizationId, String deviceId, String hostname, Map<String, String> metadata) {
            this(organizationId, deviceId, hostname, metadata, null, null);
        }
    }

    public record DeviceRevoked(String organizationId, String deviceId) implements Event {}

    public record DeviceApproved(String organizationId, String deviceId) implements Event {}

    public record DeviceDeleted(String organizationId, String deviceId) implements Event {}

    public record SecurityGroupSaved(String organizationId, SecurityGroup group) implements Event {}

    public record SecurityGroupDeleted(String organizationId, String name) implements Event {}

    /** What the device advertises now ({@code routes}, with the exit routes for an exit node). */
    public record RoutesAdvertised(String organizationId, String deviceId, List<String> routes) implements Event {}

    /** The device's routes administrators approved and rejected, whole. */
    public record RoutesReviewed(String organizationId, String deviceId, List<String> approved,
            List<String> rejected) implements Event {}

    /** The tags whose devices' routes are auto-approved, whole. */
    public record RouteApproversSaved(String organizationId, Map<String, RouteTable.AutoApprove> approvers)
            implements Event {}

    /** The primary router of every approved prefix, whole. */
    public record RoutePrimariesChanged(String organizationId, Map<String, String> primaries) implements Event {}

    /**
     * Inbound allow rules for the devices a group applies to ({@code appliesTo}: device ids, {@code tag:NAME},
     * {@code group:NAME}, CIDRs, or {@code "*"} for all; never hostnames): traffic the rules match is let in,
     * replies to flows those devices start are let back, and everything else to them is dropped. Devices no group
     * applies to accept everything. Groups written before hostnames were refused are migrated as they are read
     * ({@link LegacyGroups}). See {@link SecurityPolicies} for how a device's policy and peer map are resolved.
     */
    public record SecurityGroup(String name, List<String> appliesTo, List<Rule> rules) implements CborSerializable {}

    /**
     * @param protocol "tcp", "udp", "icmp" or "any"
     * @param ports    destination ports: "443", "8000-8100", or null or "*" for every port (tcp/udp only)
     * @param peers    the sources let in: device ids, "tag:NAME", "group:NAME" (the devices that group applies to),
     *                 CIDRs, or "*" (every device); references resolve to the overlay addresses of what they name
     */
    public record Rule(String protocol, String ports, List<String> peers) implements CborSerializable {}

    // ---- data the messages carry ------------------------------------------------------------------------

    /** A registration key; {@code approvalRequired} (false in keys written before it existed) holds its devices pending. */
    public record RegistrationKey(String id, String secretHash, boolean reusable, long createdMillis,
            long expiresAtMillis, boolean revoked, int uses, boolean approvalRequired, List<String> tags,
            RouteTable.AutoApprove autoApproveRoutes)
            implements CborSerializable {

        /** {@code autoApproveRoutes}: the routes of its devices approved without an administrator; null: none. */
        public RegistrationKey(String id, String secretHash, boolean reusable, long createdMillis,
                long expiresAtMillis, boolean revoked, int uses, boolean approvalRequired, List<String> tags) {
            this(id, secretHash, reusable, createdMillis, expiresAtMillis, revoked, uses, approvalRequired, tags, null);
        }

        /** {@code tags}: stamped on the devices the key registers; none in keys written before tags existed. */
        public RegistrationKey {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }

        public RegistrationKey(String id, String secretHash, boolean reusable, long createdMillis,
                long expiresAtMillis, boolean revoked, int uses, boolean approvalRequired) {
            this(id, secretHash, reusable, createdMillis, expiresAtMillis, revoked, uses, approvalRequired, List.of());
        }

        RegistrationKey withUse() {
            return new RegistrationKey(id, secretHash, reusable, createdMillis, expiresAtMillis, revoked, uses + 1,
                    approvalRequired, tags, autoApproveRoutes);
        }

        RegistrationKey asRevoked() {
            return new RegistrationKey(id, secretHash, reusable, createdMillis, expiresAtMillis, true, uses,
                    approvalRequired, tags, autoApproveRoutes);
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
            String registrationKeyId, List<String> tags, boolean relayAllowed,
            String homeRelay)
            implements CborSerializable {

        /** Tags sorted and without duplicates; none in devices written before tags existed. */
        public DeviceRecord {
            tags = tags == null ? List.of() : List.copyOf(new java.util.TreeSet<>(tags));
        }

        /**
         * A device that may not run a relay (every device until an administrator allows it) and reported no home
         * relay.
         */
        public DeviceRecord(String id, String publicKey, String hostname, List<String> overlayIps, String tokenHash,
                List<Endpoint> endpoints, Map<String, Object> nat, Map<String, String> metadata, String status,
                long registeredMillis, long lastSeenMillis, String certificateSerial, String registrationKeyId,
                List<String> tags) {
            this(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata, status, registeredMillis,
                    lastSeenMillis, certificateSerial, registrationKeyId, tags, false, null);
        }

        /** A device without tags. */
        public DeviceRecord(String id, String publicKey, String hostname, List<String> overlayIps, String tokenHash,
                List<Endpoint> endpoints, Map<String, Object> nat, Map<String, String> metadata, String status,
                long registeredMillis, long lastSeenMillis, String certificateSerial, String registrationKeyId) {
            this(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata, status, registeredMillis,
                    lastSeenMillis, certificateSerial, registrationKeyId, List.of(), false, null);
        }

        /** A device that reported no home relay. */
        public DeviceRecord(String id, String publicKey, String hostname, List<String> overlayIps, String tokenHash,
                List<Endpoint> endpoints, Map<String, Object> nat, Map<String, String> metadata, String status,
                long registeredMillis, long lastSeenMillis, String certificateSerial, String registrationKeyId,
                List<String> tags, boolean relayAllowed) {
            this(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata, status, registeredMillis,
                    lastSeenMillis, certificateSerial, registrationKeyId, tags, relayAllowed, null);
        }

        /** A device that may not run a relay. */
        public DeviceRecord(String id, String publicKey, String hostname, List<String> overlayIps, String tokenHash,
                List<Endpoint> endpoints, Map<String, Object> nat, Map<String, String> metadata, String status,
                long registeredMillis, long lastSeenMillis, String certificateSerial, String registrationKeyId,
                List<String> tags, String homeRelay) {
            this(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata, status, registeredMillis,
                    lastSeenMillis, certificateSerial, registrationKeyId, tags, false, homeRelay);
        }
        /** Registered with a key that requires approval, and not approved yet: not in the peer map. */
        public static final String PENDING = "pending";
        public static final String ACTIVE = "active";
        public static final String REVOKED = "revoked";

        public DeviceRecord withEndpoints(List<Endpoint> newEndpoints, Map<String, Object> newNat, long seenMillis) {
            return withEndpoints(newEndpoints, newNat, seenMillis, homeRelay);
        }

        /** New endpoints, NAT report and home relay (null: the device reported none). */
        public DeviceRecord withEndpoints(List<Endpoint> newEndpoints, Map<String, Object> newNat, long seenMillis,
                String newHomeRelay) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, newEndpoints, newNat, metadata,
                    status, registeredMillis, seenMillis, certificateSerial, registrationKeyId, tags, relayAllowed,
                    newHomeRelay);
        }

        public DeviceRecord withNames(String newHostname, Map<String, String> newMetadata) {
            return new DeviceRecord(id, publicKey, newHostname, overlayIps, tokenHash, endpoints, nat, newMetadata,
                    status, registeredMillis, lastSeenMillis, certificateSerial, registrationKeyId, tags, relayAllowed,
                    homeRelay);
        }

        public DeviceRecord withTags(List<String> newTags) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata,
                    status, registeredMillis, lastSeenMillis, certificateSerial, registrationKeyId, newTags, relayAllowed,
                    homeRelay);
        }

        public DeviceRecord withRelayAllowed(boolean allowed) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata,
                    status, registeredMillis, lastSeenMillis, certificateSerial, registrationKeyId, tags, allowed,
                    homeRelay);
        }

        public DeviceRecord withStatus(String newStatus) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata,
                    newStatus, registeredMillis, lastSeenMillis, certificateSerial, registrationKeyId, tags, relayAllowed,
                    homeRelay);
        }

        public DeviceRecord withLastSeen(long seenMillis) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, tokenHash, endpoints, nat, metadata, status,
                    registeredMillis, seenMillis, certificateSerial, registrationKeyId, tags, relayAllowed,
                    homeRelay);
        }

        /** The token and certificate of a repeated registration. */
        public DeviceRecord withCredentials(String newTokenHash, String newCertificateSerial) {
            return new DeviceRecord(id, publicKey, hostname, overlayIps, newTokenHash, endpoints, nat, metadata,
                    status, registeredMillis, lastSeenMillis, newCertificateSerial, registrationKeyId, tags, relayAllowed,
                    homeRelay);
        }

        PeerInfo toPeer() {
            return new PeerInfo(id, hostname, publicKey, overlayIps, endpoints, nat, lastSeenMillis, tags, homeRelay);
        }
    }

    // ---- constructor ----------------------------------------------------------------------------------------

    private final String organizationId;
    private final int snapshotEvery;
    private final ActorRef<Topic.Command<Long>> revisions;

    /**
     * A router's last route report, in this entity's memory only; {@code streamEndedMillis}: when its peer stream
     * ended after that report (-1: it did not).
     */
    private record RouterReport(long atMillis, boolean healthy, long streamEndedMillis) {
        RouterReport(long atMillis, boolean healthy) {
            this(atMillis, healthy, -1);
        }
    }

    /** By device id: the last report of each device that offers routes (bounded by the organization's devices). */
    private final Map<String, RouterReport> routerReports = new java.util.HashMap<>();
    /**
     * The time of the first route command this incarnation of the entity handled; until {@link #ONLINE_WINDOW_MILLIS}
     * after it, a router not heard yet counts as online, so a restart or a move to another member fails no route over.
     */
    private long firstRouteMillis = -1;

    private Organization(String organizationId, int snapshotEvery, ActorRef<Topic.Command<Long>> revisions) {
        super(PersistenceId.of(ENTITY_KEY.name(), organizationId),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
        this.organizationId = organizationId;
        this.snapshotEvery = snapshotEvery;
        this.revisions = revisions;
    }

    @Override
    public OrganizationState emptyState() {
        return new Empty(organizationId);
    }

    // ---- command handlers -----------------------------------------------------------------------------------

    @Override
    public CommandHandlerWithReply<Command, Event, OrganizationState> commandHandler() {
        CommandHandlerWithReplyBuilder<Command, Event, OrganizationState> builder =
                newCommandHandlerWithReplyBuilder();
        builder.forStateType(Active.class)
                .onCommand(Create.class, (state, command) ->
                        Effect().reply(command.replyTo(), Reply.error(409, "organization exists")))
                .onCommand(Get.class, (state, command) -> Effect().reply(command.replyTo(), Reply.ok(state)))
                .onCommand(Authorize.class, this::onAuthorize)
                .onCommand(Delete.class, this::onDelete)
                .onCommand(CreateKey.class, this::onCreateKey)
                .onCommand(RevokeKey.class, this::onRevokeKey)
                .onCommand(Register.class, this::decideAndReply)
                .onCommand(ReportEndpoints.class, this::decideAndReply)
                .onCommand(Batch.class, this::onBatch)
                .onCommand(RepeatRegistration.class, this::onRepeatRegistration)
                .onCommand(RenewCertificate.class, this::onRenewCertificate)
                .onCommand(GetDevice.class, this::onGetDevice)
                .onCommand(ListDevices.class, this::onListDevices)
                .onCommand(PatchDevice.class, this::onPatchDevice)
                .onCommand(GetVisiblePeers.class, this::onGetVisiblePeers)
                .onCommand(RevokeDevice.class, this::onRevokeDevice)
                .onCommand(ApproveDevice.class, this::onApproveDevice)
                .onCommand(DeleteDevice.class, this::onDeleteDevice)
                .onCommand(SaveSecurityGroup.class, this::onSaveSecurityGroup)
                .onCommand(DeleteSecurityGroup.class, this::onDeleteSecurityGroup)
                .onCommand(GetPeerMap.class, this::onGetPeerMap)
                .onCommand(GetPeerMapChanges.class, this::onGetPeerMapChanges)
                .onCommand(ReportRoutes.class, this::onReportRoutes)
                .onCommand(ReviewRoutes.class, this::onReviewRoutes)
                .onCommand(SaveRouteApprovers.class, this::onSaveRouteApprovers)
                .onCommand(CheckRoutes.class, this::onCheckRoutes)
                .onCommand(StreamEnded.class, this::onStreamEnded);
        withoutOrganization(builder.forStateType(Empty.class));
        withoutOrganization(builder.forStateType(OrganizationState.Deleted.class)
                .onCommand(Delete.class, this::onDeleteAgain));
        return builder.build();
    }

    /** Never created, or deleted: it can be created, and every other command finds no organization. */
    private <S extends OrganizationState> void withoutOrganization(
            CommandHandlerWithReplyBuilderByState<Command, Event, S, OrganizationState> builder) {
        builder.onCommand(Create.class, this::onCreate)
                .onCommand(Batch.class, this::onBatch)
                .onCommand(CheckRoutes.class, (state, command) -> Effect().noReply())
                .onCommand(StreamEnded.class, (state, command) -> Effect().noReply())
                .onCommand(Request.class, (state, command) -> Effect().reply(command.replyTo(), absent(command)));
    }

    /**
     * The answer to {@code command} where there is no organization: 404, but 401 to a registration, whose key is
     * as unknown as its organization.
     */
    private static Reply absent(Request command) {
        return command instanceof Register || command instanceof RepeatRegistration
                ? Reply.error(401, "unknown registration key") : Reply.error(404, "no such organization");
    }

    private static Reply noSuchDevice() {
        return Reply.error(404, "no such device");
    }

    /** Runs {@code then} with the device {@code deviceId}, or answers that there is no such device. */
    private ReplyEffect<Event, OrganizationState> withDevice(Active state, String deviceId, ActorRef<Reply> replyTo,
            Function<DeviceRecord, ReplyEffect<Event, OrganizationState>> then) {
        DeviceRecord device = state.devices().get(deviceId);
        return device == null ? Effect().reply(replyTo, noSuchDevice()) : then.apply(device);
    }

    /** Persists a change to the peer map and tells watchers on every member the new revision. */
    private EffectBuilder<Event, OrganizationState> persistAndPublish(Event event) {
        return Effect().persist(event).thenRun(state -> revisions.tell(Topic.publish(state.revision())));
    }

    /** The answer about {@code deviceId} after a change to it. */
    private static Reply deviceAfter(OrganizationState next, String deviceId) {
        Active active = (Active) next;
        return Reply.device(active, active.devices().get(deviceId));
    }

    private ReplyEffect<Event, OrganizationState> onCreate(OrganizationState state, Create command) {
        return Effect().persist(new Created(organizationId, command.name(), command.ipv4Cidr(),
                        command.apiTokenHash(), command.nowMillis()))
                .thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, OrganizationState> onAuthorize(Active state, Authorize command) {
        boolean same = command.secretHash() != null && MessageDigest.isEqual(
                state.apiTokenHash().getBytes(StandardCharsets.US_ASCII),
                command.secretHash().getBytes(StandardCharsets.US_ASCII));
        return Effect().reply(command.replyTo(), same ? Reply.ok(state) : Reply.error(401, "unknown token"));
    }

    private ReplyEffect<Event, OrganizationState> onDelete(Active state, Delete command) {
        List<String> serials = state.devices().values().stream().map(DeviceRecord::certificateSerial)
                .filter(Objects::nonNull).distinct().toList();
        // Published, so that every watcher asks again, finds no organization and ends its stream.
        return persistAndPublish(new Deleted(organizationId, serials)).thenReply(command.replyTo(),
                next -> new Reply(200, null, null, null, null, next.revision(), null, null, serials));
    }

    /** Deleted already: no organization, but the serials it revoked, for a retry to send to the relays again. */
    private ReplyEffect<Event, OrganizationState> onDeleteAgain(OrganizationState.Deleted state, Delete command) {
        return Effect().reply(command.replyTo(), new Reply(404, "no such organization", null, null, null,
                state.revision(), null, null, state.certificateSerials()));
    }

    private ReplyEffect<Event, OrganizationState> onCreateKey(Active state, CreateKey command) {
        RegistrationKey key = new RegistrationKey(command.keyId(), command.secretHash(), command.reusable(),
                command.nowMillis(), command.expiresAtMillis(), false, 0, command.approvalRequired(),
                command.tags() == null ? List.of() : command.tags(), command.autoApproveRoutes());
        return Effect().persist(new KeyCreated(organizationId, key)).thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, OrganizationState> onRevokeKey(Active state, RevokeKey command) {
        if (!state.keys().containsKey(command.keyId())) {
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

    private Decision decide(OrganizationState state, Batchable command) {
        if (!(state instanceof Active active)) {
            return Decision.answer(absent(command));
        }
        if (command instanceof Register register) {
            return decideRegister(active, register);
        }
        return decideReport(active, (ReportEndpoints) command);
    }

    /** One batchable command alone: written and answered as a batch of one would be. */
    private ReplyEffect<Event, OrganizationState> decideAndReply(Active state, Batchable command) {
        Decision decision = decide(state, command);
        if (decision.event() == null) {
            return Effect().reply(command.replyTo(), decision.answer());
        }
        return persistAndPublish(decision.event()).thenReply(command.replyTo(),
                next -> deviceAfter(next, command.deviceId()));
    }

    private ReplyEffect<Event, OrganizationState> onBatch(OrganizationState state, Batch batch) {
        EventHandler<OrganizationState, Event> apply = eventHandler();
        List<Event> events = new ArrayList<>();
        List<Decision> decisions = new ArrayList<>(batch.commands().size());
        OrganizationState running = state;
        for (Batchable command : batch.commands()) {
            Decision decision = decide(running, command);
            decisions.add(decision);
            if (decision.event() != null) {
                events.add(decision.event());
                running = apply.apply(running, decision.event());
            }
        }
        EffectBuilder<Event, OrganizationState> effect = events.isEmpty() ? Effect().none()
                : Effect().persist(events).thenRun(next -> revisions.tell(Topic.publish(next.revision())));
        return effect.thenRun(next -> {
            for (int i = 0; i < decisions.size(); i++) {
                Batchable command = batch.commands().get(i);
                Decision decision = decisions.get(i);
                command.replyTo().tell(decision.event() == null ? decision.answer()
                        : deviceAfter(next, command.deviceId()));
            }
            batch.replyTo().tell(new BatchDone(events.size()));
        }).thenNoReply();
    }

    private Decision decideRegister(Active state, Register command) {
        RegistrationKey key = state.keys().get(command.keyId());
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
        // Hostnames are unique in the organization: a second "web" is "web-2", and the answer says so. The tags are
        // the key's: a device never chooses its own.
        DeviceRecord device = new DeviceRecord(command.deviceId(), command.publicKey(),
                state.uniqueHostname(command.hostname()), overlay,
                command.tokenHash(), command.endpoints() == null ? List.of() : command.endpoints(), Map.of(),
                command.metadata() == null ? Map.of() : command.metadata(),
                key.approvalRequired() ? DeviceRecord.PENDING : DeviceRecord.ACTIVE,
                command.nowMillis(), command.nowMillis(), command.certificateSerial(), key.id(), key.tags());
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

    private ReplyEffect<Event, OrganizationState> onRepeatRegistration(Active state, RepeatRegistration command) {
        RegistrationKey key = state.keys().get(command.keyId());
        if (key == null || !key.secretHash().equals(command.secretHash())) {
            return Effect().reply(command.replyTo(), Reply.error(401, "unknown registration key"));
        }
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null || !device.publicKey().equals(command.publicKey())) {
            return Effect().reply(command.replyTo(), noSuchDevice());
        }
        String refusal = repeatRefusal(key, device, command.nowMillis());
        if (refusal != null) {
            return Effect().reply(command.replyTo(), Reply.error(409,
                    "a device with this public key is already registered (" + device.id() + "): " + refusal));
        }
        // Not a peer-map change (the token and certificate are not in it): nothing is published.
        return Effect().persist(new RegistrationRepeated(organizationId, device.id(), command.tokenHash(),
                        command.certificateSerial(), command.nowMillis()))
                .thenReply(command.replyTo(), next -> deviceAfter(next, device.id()));
    }

    private ReplyEffect<Event, OrganizationState> onRenewCertificate(Active state, RenewCertificate command) {
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null || !device.publicKey().equals(command.publicKey())) {
            return Effect().reply(command.replyTo(), noSuchDevice());
        }
        if (device.status().equals(DeviceRecord.REVOKED)) {
            return Effect().reply(command.replyTo(), Reply.error(403, "device revoked"));
        }
        // Not a peer-map change (the certificate is not in it): nothing is published.
        return Effect().persist(new CertificateRenewed(organizationId, device.id(), command.certificateSerial(),
                        command.nowMillis()))
                .thenReply(command.replyTo(), next -> deviceAfter(next, device.id()));
    }

    private Decision decideReport(Active state, ReportEndpoints command) {
        DeviceRecord device = state.devices().get(command.deviceId());
        if (device == null || !device.status().equals(DeviceRecord.ACTIVE)) {
            return Decision.answer(noSuchDevice());
        }
        return Decision.write(new EndpointsReported(organizationId, device.id(), command.endpoints(),
                command.nat() == null ? device.nat() : command.nat(), command.nowMillis(), command.homeRelay()));
    }

    private ReplyEffect<Event, OrganizationState> onGetDevice(Active state, GetDevice command) {
        return withDevice(state, command.deviceId(), command.replyTo(),
                device -> Effect().reply(command.replyTo(), Reply.device(state, device)));
    }

    private ReplyEffect<Event, OrganizationState> onListDevices(Active state, ListDevices command) {
        List<DeviceRecord> matching = state.devicesMatching(command.status(), command.hostname());
        List<DeviceRecord> page = matching.stream().skip(command.offset()).limit(command.limit()).toList();
        long now = System.currentTimeMillis();
        Map<String, io.meshwork.protocol.api.RouteStatus> routes = new java.util.HashMap<>();
        for (DeviceRecord device : page) {
            if (state.routing().devices().containsKey(device.id())) {
                routes.put(device.id(), state.routeStatus(device, online(device.id(), now)));
            }
        }
        return Effect().reply(command.replyTo(), new Reply(200, null, null, null, null, state.revision(), null,
                new DevicePage(matching.size(), page, routes)));
    }

    // ---- routes -----------------------------------------------------------------------------------------------

    /** How long a router's healthy report keeps it online: 10 s. */
    public static final long ONLINE_WINDOW_MILLIS = 10_000;

    /**
     * How long after its peer stream ended a router that reported nothing since counts as online: 4 s, more than the
     * interval between its reports (3 s).
     */
    public static final long STREAM_GRACE_MILLIS = 4_000;

    private long clock(long nowMillis) {
        long now = nowMillis == 0 ? System.currentTimeMillis() : nowMillis;
        if (firstRouteMillis < 0) {
            firstRouteMillis = now;
        }
        return now;
    }

    /** Whether {@code deviceId} counts as an online router at {@code nowMillis}. */
    private boolean online(String deviceId, long nowMillis) {
        RouterReport report = routerReports.get(deviceId);
        if (report == null) {
            return firstRouteMillis >= 0 && nowMillis - firstRouteMillis < ONLINE_WINDOW_MILLIS;
        }
        if (report.streamEndedMillis() >= 0 && nowMillis - report.streamEndedMillis() >= STREAM_GRACE_MILLIS) {
            return false;
        }
        return report.healthy() && nowMillis - report.atMillis() < ONLINE_WINDOW_MILLIS;
    }

    /** The answer about {@code deviceId}'s routes. */
    private Reply routesReply(Active state, String deviceId, long nowMillis) {
        DeviceRecord device = state.devices().get(deviceId);
        return new Reply(200, null, null, device, null, state.revision(), state.overlayPrefixes(), null, null,
                state.routeStatus(device, online(deviceId, nowMillis)));
    }

    /**
     * {@code event} (null: none) and, when the primaries elected after it differ from the current ones, a
     * {@link RoutePrimariesChanged}: what to write.
     */
    private List<Event> withElection(Active state, Event event, long nowMillis) {
        return withElection(state, event, nowMillis, null, List.of());
    }

    /** As {@link #withElection(Active, Event, long)}, with {@code deviceId} made primary of {@code asked}. */
    private List<Event> withElection(Active state, Event event, long nowMillis, String deviceId, List<String> asked) {
        List<Event> events = new ArrayList<>();
        Active after = state;
        if (event != null) {
            events.add(event);
            after = (Active) eventHandler().apply(state, event);
        }
        Map<String, String> elected = new java.util.TreeMap<>(after.electPrimaries(id -> online(id, nowMillis)));
        for (String route : asked) {
            elected.put(route, deviceId);
        }
        if (!elected.equals(after.routing().primaries())) {
            events.add(new RoutePrimariesChanged(organizationId, elected));
        }
        return events;
    }

    private ReplyEffect<Event, OrganizationState> writeRoutes(Active state, Event event, long nowMillis,
            String deviceId, ActorRef<Reply> replyTo) {
        return writeRoutes(state, event, nowMillis, deviceId, List.of(), replyTo);
    }

    private ReplyEffect<Event, OrganizationState> writeRoutes(Active state, Event event, long nowMillis,
            String deviceId, List<String> asked, ActorRef<Reply> replyTo) {
        List<Event> events = withElection(state, event, nowMillis, deviceId, asked);
        if (events.isEmpty()) {
            return Effect().reply(replyTo, routesReply(state, deviceId, nowMillis));
        }
        return Effect().persist(events).thenRun(next -> revisions.tell(Topic.publish(next.revision())))
                .thenReply(replyTo, next -> routesReply((Active) next, deviceId, nowMillis));
    }

    private ReplyEffect<Event, OrganizationState> onReportRoutes(Active state, ReportRoutes command) {
        return withDevice(state, command.deviceId(), command.replyTo(), device -> {
            if (device.status().equals(DeviceRecord.REVOKED)) {
                return Effect().reply(command.replyTo(), Reply.error(403, "device revoked"));
            }
            long now = clock(command.nowMillis());
            List<String> routes = command.routes() == null ? List.of() : command.routes();
            if (routes.isEmpty()) {
                routerReports.remove(device.id());
            } else {
                routerReports.put(device.id(), new RouterReport(now, command.healthy()));
            }
            Event event = routes.equals(state.routing().of(device.id()).advertised()) ? null
                    : new RoutesAdvertised(organizationId, device.id(), routes);
            return writeRoutes(state, event, now, device.id(), command.replyTo());
        });
    }

    /** Decisions on at most this many prefixes are kept per device. */
    static final int MAX_REVIEWED_ROUTES = 256;

    private ReplyEffect<Event, OrganizationState> onReviewRoutes(Active state, ReviewRoutes command) {
        return withDevice(state, command.deviceId(), command.replyTo(), device -> {
            RouteTable.DeviceRoutes routes = state.routing().of(device.id());
            List<String> approve = command.approve() == null ? List.of() : command.approve();
            List<String> reject = command.reject() == null ? List.of() : command.reject();
            for (String route : approve) {
                if (reject.contains(route)) {
                    return Effect().reply(command.replyTo(), Reply.error(400, route + " is both approved and rejected"));
                }
            }
            for (String route : concat(approve, reject)) {
                if (!routes.advertised().contains(route)) {
                    return Effect().reply(command.replyTo(), Reply.error(400, "the device does not advertise "
                            + route + " (it advertises " + (routes.advertised().isEmpty() ? "nothing"
                            : String.join(", ", routes.advertised())) + ")"));
                }
            }
            java.util.LinkedHashSet<String> approved = new java.util.LinkedHashSet<>(routes.approved());
            java.util.LinkedHashSet<String> rejected = new java.util.LinkedHashSet<>(routes.rejected());
            approved.addAll(approve);
            approved.removeAll(reject);
            rejected.addAll(reject);
            rejected.removeAll(approve);
            if (approved.size() > MAX_REVIEWED_ROUTES || rejected.size() > MAX_REVIEWED_ROUTES) {
                return Effect().reply(command.replyTo(), Reply.error(400,
                        "at most " + MAX_REVIEWED_ROUTES + " approved and rejected routes per device"));
            }
            long now = clock(command.nowMillis());
            Event event = approved.equals(new java.util.LinkedHashSet<>(routes.approved()))
                    && rejected.equals(new java.util.LinkedHashSet<>(routes.rejected())) ? null
                    : new RoutesReviewed(organizationId, device.id(), List.copyOf(approved), List.copyOf(rejected));
            List<String> asked = command.primary() == null ? List.of() : command.primary();
            if (!asked.isEmpty()) {
                Active after = event == null ? state : (Active) eventHandler().apply(state, event);
                List<String> nowApproved = after.approvedRoutes(device);
                for (String route : asked) {
                    if (RouteTable.isExit(route) || !nowApproved.contains(route)) {
                        return Effect().reply(command.replyTo(), Reply.error(400, "the device cannot be primary for "
                                + route + ": not an approved subnet route of it"));
                    }
                }
                if (!device.status().equals(DeviceRecord.ACTIVE) || !online(device.id(), now)) {
                    return Effect().reply(command.replyTo(), Reply.error(409,
                            "the device is not an online router: it cannot take prefixes over"));
                }
            }
            return writeRoutes(state, event, now, device.id(), asked, command.replyTo());
        });
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private ReplyEffect<Event, OrganizationState> onSaveRouteApprovers(Active state, SaveRouteApprovers command) {
        long now = clock(0);
        List<Event> events = withElection(state, new RouteApproversSaved(organizationId,
                command.approvers() == null ? Map.of() : command.approvers()), now);
        return Effect().persist(events).thenRun(next -> revisions.tell(Topic.publish(next.revision())))
                .thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, OrganizationState> onCheckRoutes(Active state, CheckRoutes command) {
        if (state.routing().devices().isEmpty() && state.routing().primaries().isEmpty()) {
            return Effect().noReply();
        }
        long now = clock(command.nowMillis());
        routerReports.keySet().retainAll(state.routing().devices().keySet());
        List<Event> events = withElection(state, null, now);
        if (events.isEmpty()) {
            return Effect().noReply();
        }
        return Effect().persist(events).thenRun(next -> revisions.tell(Topic.publish(next.revision())))
                .thenNoReply();
    }

    private ReplyEffect<Event, OrganizationState> onStreamEnded(Active state, StreamEnded command) {
        RouterReport report = routerReports.get(command.deviceId());
        if (report != null) {
            long now = clock(command.nowMillis());
            routerReports.put(command.deviceId(), new RouterReport(report.atMillis(), report.healthy(),
                    Math.max(now, report.atMillis())));
        }
        return Effect().noReply();
    }

    private ReplyEffect<Event, OrganizationState> onPatchDevice(Active state, PatchDevice command) {
        return withDevice(state, command.deviceId(), command.replyTo(), device -> {
            DeviceRecord holder = command.hostname() == null ? null : state.deviceByHostname(command.hostname());
            if (holder != null && !holder.id().equals(device.id())) {
                return Effect().reply(command.replyTo(), Reply.error(409,
                        "another device (" + holder.id() + ") has the hostname " + command.hostname()));
            }
            return persistAndPublish(new DevicePatched(organizationId, device.id(),
                    command.hostname() == null ? device.hostname() : command.hostname(),
                    command.metadata() == null ? device.metadata() : command.metadata(), command.tags(),
                    command.relayAllowed()))
                    .thenReply(command.replyTo(), next -> deviceAfter(next, device.id()));
        });
    }

    private ReplyEffect<Event, OrganizationState> onGetVisiblePeers(Active state, GetVisiblePeers command) {
        return withDevice(state, command.deviceId(), command.replyTo(), device -> {
            List<DeviceRecord> visible = state.visiblePeers(device.id());
            return Effect().reply(command.replyTo(), new Reply(200, null, null, device, null, state.revision(), null,
                    new DevicePage(visible.size(), visible)));
        });
    }

    private ReplyEffect<Event, OrganizationState> onRevokeDevice(Active state, RevokeDevice command) {
        return withDevice(state, command.deviceId(), command.replyTo(), device ->
                persistAndPublish(new DeviceRevoked(organizationId, device.id()))
                        .thenReply(command.replyTo(), next -> deviceAfter(next, device.id())));
    }

    private ReplyEffect<Event, OrganizationState> onApproveDevice(Active state, ApproveDevice command) {
        return withDevice(state, command.deviceId(), command.replyTo(), device -> {
            if (device.status().equals(DeviceRecord.ACTIVE)) {
                return Effect().reply(command.replyTo(), Reply.device(state, device));
            }
            if (!device.status().equals(DeviceRecord.PENDING)) {
                return Effect().reply(command.replyTo(), Reply.error(409, "a " + device.status()
                        + " device cannot be approved"));
            }
            return persistAndPublish(new DeviceApproved(organizationId, device.id()))
                    .thenReply(command.replyTo(), next -> deviceAfter(next, device.id()));
        });
    }

    private ReplyEffect<Event, OrganizationState> onDeleteDevice(Active state, DeleteDevice command) {
        return withDevice(state, command.deviceId(), command.replyTo(), device ->
                persistAndPublish(new DeviceDeleted(organizationId, device.id()))
                        .thenReply(command.replyTo(), Reply::ok));
    }

    private ReplyEffect<Event, OrganizationState> onSaveSecurityGroup(Active state, SaveSecurityGroup command) {
        return persistAndPublish(new SecurityGroupSaved(organizationId, command.group()))
                .thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, OrganizationState> onDeleteSecurityGroup(Active state, DeleteSecurityGroup command) {
        if (!state.securityGroups().containsKey(command.name())) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such security group"));
        }
        return persistAndPublish(new SecurityGroupDeleted(organizationId, command.name()))
                .thenReply(command.replyTo(), Reply::ok);
    }

    private ReplyEffect<Event, OrganizationState> onGetPeerMap(Active state, GetPeerMap command) {
        return Effect().reply(command.replyTo(), new Reply(200, null, null, null,
                state.peerMapSince(command.sinceRevision(), command.deviceId())));
    }

    private ReplyEffect<Event, OrganizationState> onGetPeerMapChanges(Active state, GetPeerMapChanges command) {
        PeerMap changed = state.changesSince(command.sinceRevision(), command.deviceId());
        return Effect().reply(command.replyTo(), changed == null
                ? Reply.error(410, "the changes since revision " + command.sinceRevision() + " are no longer kept")
                : new Reply(200, null, null, null, changed));
    }

    // ---- event handler --------------------------------------------------------------------------------------

    @Override
    public EventHandler<OrganizationState, Event> eventHandler() {
        var builder = newEventHandlerBuilder();
        builder.forStateType(Empty.class)
                .onEvent(Created.class, Empty::created);
        builder.forStateType(OrganizationState.Deleted.class)
                .onEvent(Created.class, OrganizationState.Deleted::created);
        builder.forStateType(Active.class)
                .onEvent(Deleted.class, Active::deleted)
                .onEvent(KeyCreated.class, Active::keyCreated)
                .onEvent(KeyRevoked.class, Active::keyRevoked)
                .onEvent(DeviceRegistered.class, Active::deviceRegistered)
                .onEvent(EndpointsReported.class, Active::endpointsReported)
                .onEvent(RegistrationRepeated.class, Active::registrationRepeated)
                .onEvent(CertificateRenewed.class, Active::certificateRenewed)
                .onEvent(DevicePatched.class, Active::devicePatched)
                .onEvent(DeviceRevoked.class, Active::deviceRevoked)
                .onEvent(DeviceApproved.class, Active::deviceApproved)
                .onEvent(DeviceDeleted.class, Active::deviceDeleted)
                .onEvent(SecurityGroupSaved.class, Active::securityGroupSaved)
                .onEvent(SecurityGroupDeleted.class, Active::securityGroupDeleted)
                .onEvent(RoutesAdvertised.class, Active::routesAdvertised)
                .onEvent(RoutesReviewed.class, Active::routesReviewed)
                .onEvent(RouteApproversSaved.class, Active::routeApproversSaved)
                .onEvent(RoutePrimariesChanged.class, Active::routePrimariesChanged);
        return builder.build();
    }

    // ---- retention ------------------------------------------------------------------------------------------

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
    }

    /**
     * Snapshots are the state itself; one written before the states were split is read as {@link State}, and
     * security groups that named hostnames are migrated ({@link LegacyGroups}).
     */
    @Override
    public SnapshotAdapter<OrganizationState> snapshotAdapter() {
        return new SnapshotAdapter<>() {
            @Override
            public Object toJournal(OrganizationState state) {
                return state;
            }

            @Override
            public OrganizationState fromJournal(Object from) {
                OrganizationState state = from instanceof State legacy ? legacy.current() : (OrganizationState) from;
                return state instanceof Active active ? active.migrated() : state;
            }
        };
    }

    /**
     * The one state type of earlier releases ({@code exists} told created from not), kept so that their snapshots
     * (written under this class name) still load: never written any more, only turned into the current state.
     */
    record State(String id, String name, String ipv4Cidr, String apiTokenHash, long createdMillis, boolean exists,
            long nextHost, Map<String, RegistrationKey> keys, Map<String, DeviceRecord> devices, long revision,
            List<Change> changes, Map<String, SecurityGroup> securityGroups, Map<String, String> deviceIdsByKey)
            implements CborSerializable {

        OrganizationState current() {
            if (exists) {
                return new Active(id, name, ipv4Cidr, apiTokenHash, createdMillis, nextHost, keys, devices, revision,
                        changes, securityGroups, deviceIdsByKey);
            }
            return revision == 0 ? new Empty(id) : new OrganizationState.Deleted(id, revision);
        }
    }
}
