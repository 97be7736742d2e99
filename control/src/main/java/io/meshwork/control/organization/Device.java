package io.meshwork.control.organization;

import io.meshwork.control.CborSerializable;
import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.protocol.api.Endpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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
 * One device: its identity (public key, token hash, certificate serial), hostname and metadata, its endpoints with
 * their sources and NAT report, its lifecycle and when it was last seen. It answers a device's own requests (token
 * check, endpoint reports, relay observations) without the organization, whose directory keeps the copy of what the
 * peer map needs and hears from a device only when that changed. So the organization's journal and mailbox carry
 * changes, not the heartbeat of every device.
 *
 * <p>Lifecycle: none → pending or active (the organization admitted it, {@link Register}) → revoked → deleted.
 *
 * <p>Registration writes nothing here: the organization's journal already holds the device as admitted, and
 * {@link Register} takes that record on in memory. The entity's own journal starts with the first change (an
 * endpoint report that differs, last seen a minute later, a patch, revocation), whose write carries the record
 * along with it. A device whose entity has no journal (it changed nothing yet, or it registered before devices had
 * entities) is adopted from the organization's record again after a restart, by the same {@link Register}. So a
 * registration burst costs one organization write per batch and no write per device.
 *
 * <p>Last seen: a report that changes nothing is remembered in memory and written at most once per
 * {@link #SEEN_WRITE_INTERVAL}, so the journal keeps last seen to that precision whatever the report rate.
 */
public final class Device
        extends EventSourcedBehaviorWithEnforcedReplies<Device.Command, Device.Event, Device.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Device");
    static final Duration SEEN_WRITE_INTERVAL = Duration.ofSeconds(60);
    private static final int SNAPSHOT_EVERY = 100;

    public static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> create(context.getEntityId())));
    }

    public static Behavior<Command> create(String deviceId) {
        return Behaviors.setup(context -> new Device(deviceId));
    }

    // ---- messages ---------------------------------------------------------------------------------------

    public sealed interface Command extends CborSerializable {}

    /** The organization admitted {@code device} (or already had it, for an adoption): the entity takes it on. */
    public record Register(DeviceRecord device, ActorRef<Reply> replyTo) implements Command {}

    public record Get(ActorRef<Reply> replyTo) implements Command {}

    /**
     * The organization repeated the device's registration ({@code device} is its record since, see
     * docs/api.md): the entity takes the new token hash and certificate serial on, and the old token stops
     * working here.
     */
    public record TakeCredentials(DeviceRecord device, ActorRef<Reply> replyTo) implements Command {}

    /** The device reports its endpoints and, when not null, its NAT report. */
    public record Report(List<Endpoint> endpoints, Map<String, Object> nat, long nowMillis, ActorRef<Reply> replyTo)
            implements Command {}

    /** A relay saw the device at {@code endpoint}: it replaces earlier endpoints from that source. */
    public record Observe(Endpoint endpoint, long nowMillis, ActorRef<Reply> replyTo) implements Command {}

    /** Null fields stay as they are. */
    public record Patch(String hostname, Map<String, String> metadata, ActorRef<Reply> replyTo) implements Command {}

    public record Revoke(ActorRef<Reply> replyTo) implements Command {}

    /** A pending device becomes active (409 when revoked). */
    public record Approve(ActorRef<Reply> replyTo) implements Command {}

    public record Delete(ActorRef<Reply> replyTo) implements Command {}

    /**
     * The organization now has these endpoints and NAT report of the device (told after it acknowledged them), so
     * reports that change nothing need not go there again.
     */
    public record OrganizationUpdated(List<Endpoint> endpoints, Map<String, Object> nat) implements Command {}

    /**
     * Start now, with no answer: the entity reads its journal while the organization admits the device, so the
     * {@link Register} that follows finds it running.
     */
    public record Prepare() implements Command {}

    /**
     * A status (HTTP semantics), an error text when not 2xx, the device (its last seen as of now), and whether the
     * organization must be told its endpoints: they changed, or it is not known that the organization has them.
     */
    public record Reply(int status, String error, DeviceRecord device, boolean tellOrganization)
            implements CborSerializable {
        static Reply ok(DeviceRecord device) {
            return new Reply(200, null, device, false);
        }

        static Reply error(int status, String error) {
            return new Reply(status, error, null, false);
        }

        public boolean isOk() {
            return status / 100 == 2;
        }
    }

    public sealed interface Event extends CborSerializable {}

    public record Registered(DeviceRecord device) implements Event {}

    public record EndpointsReported(List<Endpoint> endpoints, Map<String, Object> nat, long atMillis)
            implements Event {}

    public record Seen(long atMillis) implements Event {}

    public record CredentialsReplaced(String tokenHash, String certificateSerial) implements Event {}

    public record Patched(String hostname, Map<String, String> metadata) implements Event {}

    public record Revoked(long atMillis) implements Event {}

    public record Approved(long atMillis) implements Event {}

    public record Deleted(long atMillis) implements Event {}

    /** {@code device}: null before registration; {@code deleted}: the device was deleted and stays gone. */
    public record State(DeviceRecord device, boolean deleted) implements CborSerializable {
        static final State NONE = new State(null, false);

        boolean exists() {
            return device != null && !deleted;
        }

        State with(DeviceRecord next) {
            return new State(next, deleted);
        }
    }

    // ---- behaviour ----------------------------------------------------------------------------------------

    /** Last seen by a report that was not written (kept to {@link #SEEN_WRITE_INTERVAL} in the journal). */
    private long lastSeenInMemory;
    /** Whether the organization is known to have the current endpoints; unknown after a restart. */
    private boolean organizationInSync;
    /** The organization's record, taken on by {@link Register} and not written here yet (null otherwise). */
    private DeviceRecord adopted;
    /** Whether the journal has the device, as of the command being handled. */
    private boolean written;

    private Device(String deviceId) {
        super(PersistenceId.of(ENTITY_KEY.name(), deviceId),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    }

    @Override
    public State emptyState() {
        return State.NONE;
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Register.class, (journal, command) -> onRegister(enter(journal), command))
                .onCommand(TakeCredentials.class, (journal, command) -> onTakeCredentials(enter(journal), command))
                .onCommand(Get.class, (journal, command) -> {
                    State state = enter(journal);
                    return Effect().reply(command.replyTo(), state.exists()
                            ? Reply.ok(seen(state.device())) : Reply.error(404, "no such device"));
                })
                .onCommand(Report.class, (journal, command) -> report(enter(journal), command.endpoints(),
                        command.nat(), command.nowMillis(), command.replyTo()))
                .onCommand(Observe.class, (journal, command) -> onObserve(enter(journal), command))
                .onCommand(Patch.class, (journal, command) -> onPatch(enter(journal), command))
                .onCommand(Revoke.class, (journal, command) -> onRevoke(enter(journal), command))
                .onCommand(Approve.class, (journal, command) -> onApprove(enter(journal), command))
                .onCommand(Delete.class, (journal, command) -> {
                    State state = enter(journal);
                    return !state.exists()
                            ? Effect().reply(command.replyTo(), Reply.error(404, "no such device"))
                            : write(new Deleted(System.currentTimeMillis()))
                                    .thenReply(command.replyTo(), next -> Reply.ok(state.device()));
                })
                .onCommand(Prepare.class, (journal, command) -> Effect().noReply())
                .onCommand(OrganizationUpdated.class, (journal, command) -> {
                    State state = enter(journal);
                    organizationInSync = state.exists()
                            && state.device().endpoints().equals(command.endpoints())
                            && Objects.equals(state.device().nat(), command.nat());
                    return Effect().noReply();
                })
                .build();
    }

    /**
     * The state commands see: the journal's, or, while the journal has no device yet, the one taken on from the
     * organization. Notes for {@link #write} whether the journal has it.
     */
    private State enter(State journal) {
        written = journal.device() != null;
        return written || journal.deleted() || adopted == null ? journal : new State(adopted, false);
    }

    /** Writes {@code event}; the first write of a device taken on from the organization carries its record too. */
    private EffectBuilder<Event, State> write(Event event) {
        if (written || adopted == null) {
            return Effect().persist(event);
        }
        return Effect().persist(List.of(new Registered(adopted), event));
    }

    private ReplyEffect<Event, State> onRegister(State state, Register command) {
        if (state.deleted()) {
            return Effect().reply(command.replyTo(), Reply.error(410, "the device was deleted"));
        }
        if (state.device() != null) {
            // A retry, or two adoptions at once: the first one stands.
            return state.device().publicKey().equals(command.device().publicKey())
                    ? Effect().reply(command.replyTo(), Reply.ok(seen(state.device())))
                    : Effect().reply(command.replyTo(), Reply.error(409, "another device has this id"));
        }
        // Nothing to write: the organization's journal has the device (see the class comment).
        adopted = command.device();
        return Effect().reply(command.replyTo(), Reply.ok(adopted));
    }

    private ReplyEffect<Event, State> onTakeCredentials(State state, TakeCredentials command) {
        DeviceRecord given = command.device();
        if (state.deleted()) {
            return Effect().reply(command.replyTo(), Reply.error(410, "the device was deleted"));
        }
        if (state.device() == null) {
            // Nothing here yet: the organization's record, which has the new credentials, is taken on as at
            // registration.
            adopted = given;
            return Effect().reply(command.replyTo(), Reply.ok(adopted));
        }
        DeviceRecord device = state.device();
        if (!device.publicKey().equals(given.publicKey())) {
            return Effect().reply(command.replyTo(), Reply.error(409, "another device has this id"));
        }
        if (device.status().equals(DeviceRecord.REVOKED)) {
            return Effect().reply(command.replyTo(), Reply.error(403, "device revoked"));
        }
        if (Objects.equals(device.tokenHash(), given.tokenHash())
                && Objects.equals(device.certificateSerial(), given.certificateSerial())) {
            return Effect().reply(command.replyTo(), Reply.ok(seen(device)));
        }
        if (!written) {
            // Taken on from the organization and not written here: the organization's journal has the new
            // credentials, and a restart takes them on from there.
            adopted = device.withCredentials(given.tokenHash(), given.certificateSerial());
            return Effect().reply(command.replyTo(), Reply.ok(seen(adopted)));
        }
        return Effect().persist(new CredentialsReplaced(given.tokenHash(), given.certificateSerial()))
                .thenReply(command.replyTo(), next -> Reply.ok(seen(next.device())));
    }

    private ReplyEffect<Event, State> report(State state, List<Endpoint> endpoints, Map<String, Object> nat,
            long nowMillis, ActorRef<Reply> replyTo) {
        if (!state.exists()) {
            return Effect().reply(replyTo, Reply.error(404, "no such device"));
        }
        DeviceRecord device = state.device();
        if (device.status().equals(DeviceRecord.REVOKED)) {
            return Effect().reply(replyTo, Reply.error(403, "device revoked"));
        }
        // A pending device's reports stay here until it is approved: it is not in the peer map.
        boolean active = device.status().equals(DeviceRecord.ACTIVE);
        Map<String, Object> newNat = nat == null ? device.nat() : nat;
        if (!device.endpoints().equals(endpoints) || !Objects.equals(device.nat(), newNat)) {
            organizationInSync = false;
            return write(new EndpointsReported(List.copyOf(endpoints), newNat, nowMillis))
                    .thenReply(replyTo, next -> new Reply(200, null, next.device(), active));
        }
        lastSeenInMemory = Math.max(lastSeenInMemory, nowMillis);
        boolean tell = active && !organizationInSync;
        if (nowMillis - device.lastSeenMillis() >= SEEN_WRITE_INTERVAL.toMillis()) {
            return write(new Seen(nowMillis))
                    .thenReply(replyTo, next -> new Reply(200, null, next.device(), tell));
        }
        return Effect().reply(replyTo, new Reply(200, null, seen(device), tell));
    }

    private ReplyEffect<Event, State> onObserve(State state, Observe command) {
        if (!state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        List<Endpoint> merged = new ArrayList<>();
        for (Endpoint endpoint : state.device().endpoints()) {
            if (!endpoint.source().equals(command.endpoint().source())) {
                merged.add(endpoint);
            }
        }
        merged.add(command.endpoint());
        List<Endpoint> endpoints = state.device().endpoints().contains(command.endpoint())
                ? state.device().endpoints() : merged;
        return report(state, endpoints, null, command.nowMillis(), command.replyTo());
    }

    private ReplyEffect<Event, State> onPatch(State state, Patch command) {
        if (!state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        DeviceRecord device = state.device();
        return write(new Patched(command.hostname() == null ? device.hostname() : command.hostname(),
                        command.metadata() == null ? device.metadata() : command.metadata()))
                .thenReply(command.replyTo(), next -> Reply.ok(seen(next.device())));
    }

    private ReplyEffect<Event, State> onApprove(State state, Approve command) {
        if (!state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        String status = state.device().status();
        if (status.equals(DeviceRecord.ACTIVE)) {
            return Effect().reply(command.replyTo(), Reply.ok(seen(state.device())));
        }
        if (!status.equals(DeviceRecord.PENDING)) {
            return Effect().reply(command.replyTo(), Reply.error(409, "a " + status + " device cannot be approved"));
        }
        // What it reported while pending stayed here: the organization hears it with the next report.
        organizationInSync = false;
        return write(new Approved(System.currentTimeMillis()))
                .thenReply(command.replyTo(), next -> Reply.ok(seen(next.device())));
    }

    private ReplyEffect<Event, State> onRevoke(State state, Revoke command) {
        if (!state.exists()) {
            return Effect().reply(command.replyTo(), Reply.error(404, "no such device"));
        }
        if (state.device().status().equals(DeviceRecord.REVOKED)) {
            return Effect().reply(command.replyTo(), Reply.ok(seen(state.device())));
        }
        return write(new Revoked(System.currentTimeMillis()))
                .thenReply(command.replyTo(), next -> Reply.ok(seen(next.device())));
    }

    /** {@code device} with the last seen remembered in memory, when later than the written one. */
    private DeviceRecord seen(DeviceRecord device) {
        return lastSeenInMemory <= device.lastSeenMillis() ? device : device.withLastSeen(lastSeenInMemory);
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Registered.class, (state, event) -> state.with(event.device()))
                .onEvent(EndpointsReported.class, (state, event) -> state.with(state.device().withEndpoints(
                        event.endpoints(), event.nat(), Math.max(state.device().lastSeenMillis(), event.atMillis()))))
                .onEvent(CredentialsReplaced.class, (state, event) -> state.with(state.device().withCredentials(
                        event.tokenHash(), event.certificateSerial())))
                .onEvent(Seen.class, (state, event) -> state.with(state.device().withLastSeen(
                        Math.max(state.device().lastSeenMillis(), event.atMillis()))))
                .onEvent(Patched.class, (state, event) -> state.with(state.device().withNames(event.hostname(),
                        event.metadata())))
                .onEvent(Revoked.class, (state, event) -> state.with(state.device().withStatus(DeviceRecord.REVOKED)))
                .onEvent(Approved.class, (state, event) -> state.with(state.device().withStatus(DeviceRecord.ACTIVE)))
                .onEvent(Deleted.class, (state, event) -> new State(state.device(), true))
                .build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }
}
