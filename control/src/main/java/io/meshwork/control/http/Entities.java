package io.meshwork.control.http;

import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;

import io.meshwork.control.Answers;
import io.meshwork.control.organization.Device;
import io.meshwork.control.organization.Organization;
import io.meshwork.control.organization.OrganizationDirectory;
import io.meshwork.control.organization.OrganizationWriter;
import io.meshwork.control.relay.RelayDirectory;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * How the routes ask the sharded entities (organizations, devices, the organization and relay directories) and the
 * member's {@link OrganizationWriter}, each ask bounded by {@code meshwork.control.ask-timeout}; plus the steps
 * several routes share: taking a device on from its organization, telling the organization a device's endpoints,
 * revoking a certificate with the relays, and the relay list handed to registering devices.
 */
final class Entities {

    /** {@link #updateOrganization}: the device entity or the organization refused or failed. */
    static final long FAILED = -1;
    /** {@link #updateOrganization}: nothing changed, so the organization was not asked. */
    static final long UNCHANGED = -2;

    /**
     * How long the relay list handed to registering devices is reused: a burst of registrations asks the relay
     * directory once, not once each. Relays enrolled or reporting through this member show at once; through
     * another, within this long.
     */
    private static final Duration RELAY_LIST_TTL = Duration.ofSeconds(1);

    private record RelayList(long readNanos, CompletionStage<RelaysForDevices.Catalog> relays) {}

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final ControlRoutes.Settings settings;
    private final ActorRef<OrganizationWriter.Message> writer;
    private final JsonSupport json;
    private final AtomicReference<RelayList> relayList = new AtomicReference<>();

    Entities(ActorSystem<?> system, ControlRoutes.Settings settings, ActorRef<OrganizationWriter.Message> writer,
            JsonSupport json) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
        this.writer = writer;
        this.json = json;
    }

    ActorSystem<?> system() {
        return system;
    }

    // ---- organizations ----------------------------------------------------------------------------------

    /** Asks the organization; an answer other than OK is the error answer, OK goes to {@code onOk}. */
    Route askOrganization(String organizationId,
            org.apache.pekko.japi.function.Function<ActorRef<Organization.Reply>, Organization.Command> command,
            Function<Organization.Reply, Route> onOk) {
        if (!Validation.isOrganizationId(organizationId)) {
            throw new ApiException(404, "no such organization");
        }
        return onSuccess(organization(organizationId, command),
                answer -> answer.isOk() ? onOk.apply(answer) : json.error(answer.status(), answer.error()));
    }

    /** Asks the organization; an id that is not one is answered 404 here, without asking the cluster. */
    CompletionStage<Organization.Reply> organization(String organizationId,
            org.apache.pekko.japi.function.Function<ActorRef<Organization.Reply>, Organization.Command> command) {
        if (!Validation.isOrganizationId(organizationId)) {
            return CompletableFuture.completedFuture(noSuchOrganization());
        }
        return Answers.onDispatcher(sharding.entityRefFor(Organization.ENTITY_KEY, organizationId)
                .ask(command, settings.askTimeout()), system.executionContext());
    }

    /** Tells the organization {@code command}, which wants no answer. */
    void tellOrganization(String organizationId, Organization.Command command) {
        if (Validation.isOrganizationId(organizationId)) {
            sharding.entityRefFor(Organization.ENTITY_KEY, organizationId).tell(command);
        }
    }

    /** A registration or endpoint change for the organization, written together with others (group commit). */
    CompletionStage<Organization.Reply> batched(String organizationId,
            Function<ActorRef<Organization.Reply>, Organization.Batchable> command) {
        if (!Validation.isOrganizationId(organizationId)) {
            return CompletableFuture.completedFuture(noSuchOrganization());
        }
        return Answers.onDispatcher(AskPattern.ask(writer, replyTo -> new OrganizationWriter.Submit(organizationId,
                command.apply(replyTo)), settings.askTimeout(), system.scheduler()), system.executionContext());
    }

    private static Organization.Reply noSuchOrganization() {
        return new Organization.Reply(404, "no such organization", null, null, null);
    }

    <T> CompletionStage<T> organizationDirectory(
            org.apache.pekko.japi.function.Function<ActorRef<T>, OrganizationDirectory.Command> command) {
        return Answers.onDispatcher(sharding.entityRefFor(OrganizationDirectory.ENTITY_KEY, OrganizationDirectory.ID)
                .ask(command, settings.askTimeout()), system.executionContext());
    }

    // ---- devices ----------------------------------------------------------------------------------------

    /** Asks the device's entity; an id that is not one is answered 404 here, without asking the cluster. */
    CompletionStage<Device.Reply> device(String deviceId,
            org.apache.pekko.japi.function.Function<ActorRef<Device.Reply>, Device.Command> command) {
        if (!Validation.isDeviceId(deviceId)) {
            return CompletableFuture.completedFuture(new Device.Reply(404, "no such device", null, false));
        }
        return Answers.onDispatcher(sharding.entityRefFor(Device.ENTITY_KEY, deviceId)
                .ask(command, settings.askTimeout()), system.executionContext());
    }

    void tellDevice(String deviceId, Device.Command command) {
        if (!Validation.isDeviceId(deviceId)) {
            return;
        }
        sharding.entityRefFor(Device.ENTITY_KEY, deviceId).tell(command);
    }

    /** Asks the device's entity; an answer other than OK is the error answer, OK goes to {@code onOk}. */
    Route askDevice(String deviceId,
            org.apache.pekko.japi.function.Function<ActorRef<Device.Reply>, Device.Command> command,
            Function<Device.Reply, Route> onOk) {
        return onSuccess(device(deviceId, command),
                answer -> answer.isOk() ? onOk.apply(answer) : json.error(answer.status(), answer.error()));
    }

    /**
     * The device's entity's answer to Get. A device its organization has but whose entity has nothing (it changed
     * nothing since it registered and the entity restarted, or it registered before devices had entities) is taken
     * on from the organization's record, which {@code listed} supplies (null: the organization has no such device).
     */
    CompletionStage<Device.Reply> deviceAdopting(String deviceId,
            Supplier<CompletionStage<Organization.DeviceRecord>> listed) {
        return device(deviceId, Device.Get::new).thenCompose(reply -> {
            if (reply.status() != 404) {
                return CompletableFuture.completedFuture(reply);
            }
            return listed.get().thenCompose(record -> record == null
                    ? CompletableFuture.completedFuture(reply)
                    : device(deviceId, replyTo -> new Device.Register(record, replyTo)));
        });
    }

    /**
     * Tells the organization a device's endpoints when its entity says the organization must hear them. Answers the
     * organization revision that carries the change, {@link #UNCHANGED} when it did not need them, or
     * {@link #FAILED}.
     */
    CompletionStage<Long> updateOrganization(String organizationId, Device.Reply reported) {
        if (!reported.isOk()) {
            return CompletableFuture.completedFuture(FAILED);
        }
        if (!reported.tellOrganization()) {
            return CompletableFuture.completedFuture(UNCHANGED);
        }
        Organization.DeviceRecord device = reported.device();
        return batched(organizationId, replyTo -> new Organization.ReportEndpoints(device.id(),
                device.endpoints(), device.nat(), device.lastSeenMillis(), replyTo, device.homeRelay()))
                .thenApply(reply -> {
                    if (reply.isOk()) {
                        tellDevice(device.id(), new Device.OrganizationUpdated(device.endpoints(), device.nat(),
                                device.homeRelay()));
                    }
                    return reply.isOk() ? reply.revision() : FAILED;
                });
    }

    // ---- relays -----------------------------------------------------------------------------------------

    /** Any relay directory command; what this member hands registering devices is read afresh after it. */
    CompletionStage<RelayDirectory.Reply> relayDirectory(
            org.apache.pekko.japi.function.Function<ActorRef<RelayDirectory.Reply>, RelayDirectory.Command> command) {
        return Answers.onDispatcher(sharding.entityRefFor(RelayDirectory.ENTITY_KEY, RelayDirectory.ID)
                        .ask(command, settings.askTimeout()), system.executionContext())
                .whenComplete((reply, failure) -> relayList.set(null));
    }

    /** Relays learn revoked certificate serials from the relay directory. */
    CompletionStage<RelayDirectory.Reply> revokeCertificate(Organization.DeviceRecord device) {
        if (device.certificateSerial() == null) {
            return CompletableFuture.completedFuture(null);
        }
        return relayDirectory(replyTo -> new RelayDirectory.RevokeSerial(device.certificateSerial(), replyTo));
    }

    /**
     * The relay the device runs for its organization, if any, leaves the directory and so every relay list (the
     * device may no longer relay, or is revoked or deleted).
     */
    CompletionStage<RelayDirectory.Reply> withdrawDeviceRelay(String deviceId) {
        return relayDirectory(replyTo -> new RelayDirectory.RemoveDeviceRelay(deviceId, replyTo));
    }

    /** Every relay nodes of the organization run leaves the directory (the organization is deleted). */
    CompletionStage<RelayDirectory.Reply> withdrawOrganizationRelays(String organizationId) {
        return relayDirectory(replyTo -> new RelayDirectory.RemoveOrganizationRelays(organizationId, replyTo));
    }

    /** Revokes every one of {@code serials} with the relays in one write; nothing to revoke asks nothing. */
    CompletionStage<RelayDirectory.Reply> revokeCertificates(Collection<String> serials) {
        if (serials == null || serials.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Set<String> set = Set.copyOf(serials);
        return relayDirectory(replyTo -> new RelayDirectory.RevokeSerials(set, replyTo));
    }

    /**
     * Configured relays, then every enrolled relay that is healthy (it reported itself so within the last
     * {@value RelayDirectory#MISSED_HEARTBEATS} heartbeats) and serves the organization (a node's relay serves only
     * its own); with the STUN servers devices probe: the configured ones, then the healthy relays' (see
     * {@link RelaysForDevices}).
     */
    CompletionStage<RelaysForDevices> relaysForDevices(String organizationId) {
        return relayCatalog().thenApply(catalog -> catalog.forOrganization(organizationId));
    }

    /** What every organization's relay list is made from ({@link RelaysForDevices.Catalog}), cached a second. */
    CompletionStage<RelaysForDevices.Catalog> relayCatalog() {
        long now = System.nanoTime();
        RelayList cached = relayList.get();
        if (cached != null && now - cached.readNanos() < RELAY_LIST_TTL.toNanos()
                && !cached.relays().toCompletableFuture().isCompletedExceptionally()) {
            return cached.relays();
        }
        CompletionStage<RelaysForDevices.Catalog> fresh = Answers.onDispatcher(sharding.entityRefFor(
                        RelayDirectory.ENTITY_KEY, RelayDirectory.ID).ask(RelayDirectory.Get::new, settings.askTimeout()),
                        system.executionContext())
                .thenApply(reply -> RelaysForDevices.Catalog.of(settings.relays(), settings.stunServers(),
                        reply.state().relays().values(), System.currentTimeMillis(), settings.relayHeartbeat()));
        relayList.set(new RelayList(now, fresh));
        return fresh;
    }
}
