package io.meshwork.control.organization;

import io.meshwork.control.CborSerializable;
import io.meshwork.control.organization.Organization.DeviceRecord;
import io.meshwork.protocol.api.Endpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
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
 * <p>Lifecycle ({@link DeviceState}): unknown → pending or active (the organization admitted it, {@link Register})
 * → revoked → deleted. Commands about a device find none while it is unknown (and not taken on) or deleted:
 * {@link #known} answers them. A deleted device is never taken on again.
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
 *
 * <p>What the entity holds beyond its journal (the record taken on, last seen in memory, whether the organization
 * has the endpoints) is {@link InMemory}, handed to every command handler with the state in a {@link Current}.
 */
public final class Device
        extends EventSourcedBehaviorWithEnforcedReplies<Device.Command, Device.Event, DeviceState> {

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
    /** {@code homeRelay}: the relay the device reports as its home, null for none. */
    public record Report(List<Endpoint> endpoints, Map<String, Object> nat, long nowMillis, ActorRef<Reply> replyTo,
            String homeRelay) implements Command {
        public Report(List<Endpoint> endpoints, Map<String, Object> nat, long nowMillis, ActorRef<Reply> replyTo) {
            this(endpoints, nat, nowMillis, replyTo, null);
        }
    }

    /** A relay saw the device at {@code endpoint}: it replaces earlier endpoints from that source. */
    public record Observe(Endpoint endpoint, long nowMillis, ActorRef<Reply> replyTo) implements Command {}

    /**
     * Null leaves a field as it is; {@code tags} and {@code relayAllowed} come from an administrator or the
     * organization's API token only.
     */
    public record Patch(String hostname, Map<String, String> metadata, List<String> tags, Boolean relayAllowed,
            ActorRef<Reply> replyTo) implements Command {
        public Patch(String hostname, Map<String, String> metadata, List<String> tags, ActorRef<Reply> replyTo) {
            this(hostname, metadata, tags, null, replyTo);
        }

        public Patch(String hostname, Map<String, String> metadata, ActorRef<Reply> replyTo) {
            this(hostname, metadata, null, null, replyTo);
        }
    }

    public record Revoke(ActorRef<Reply> replyTo) implements Command {}

    /** A pending device becomes active (409 when revoked). */
    public record Approve(ActorRef<Reply> replyTo) implements Command {}

    public record Delete(ActorRef<Reply> replyTo) implements Command {}

    /**
     * The organization now has these endpoints and NAT report of the device (told after it acknowledged them), so
     * reports that change nothing need not go there again.
     */
    public record OrganizationUpdated(List<Endpoint> endpoints, Map<String, Object> nat, String homeRelay)
            implements Command {
        public OrganizationUpdated(List<Endpoint> endpoints, Map<String, Object> nat) {
            this(endpoints, nat, null);
        }
    }

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

    /** {@code homeRelay}: null for none (and in events written before devices reported one). */
    public record EndpointsReported(List<Endpoint> endpoints, Map<String, Object> nat, long atMillis,
            String homeRelay) implements Event {
        public EndpointsReported(List<Endpoint> endpoints, Map<String, Object> nat, long atMillis) {
            this(endpoints, nat, atMillis, null);
        }
    }

    public record Seen(long atMillis) implements Event {}

    public record CredentialsReplaced(String tokenHash, String certificateSerial) implements Event {}

    /** {@code tags}, {@code relayAllowed}: null (as in events written before them) leaves them. */
    public record Patched(String hostname, Map<String, String> metadata, List<String> tags, Boolean relayAllowed)
            implements Event {
        public Patched(String hostname, Map<String, String> metadata, List<String> tags) {
            this(hostname, metadata, tags, null);
        }

        public Patched(String hostname, Map<String, String> metadata) {
            this(hostname, metadata, null, null);
        }
    }

    public record Revoked(long atMillis) implements Event {}

    public record Approved(long atMillis) implements Event {}

    public record Deleted(long atMillis) implements Event {}

    // ---- in-memory part of the state --------------------------------------------------------------------------

    /**
     * What the entity holds beyond its journal. None of it is journaled, on purpose: the adopted record is the
     * organization's, whose journal has it (writing it here would cost a write per registration); last seen is
     * written at most once per {@link #SEEN_WRITE_INTERVAL}; whether the organization has the endpoints is a guess
     * that must start over (false) after a restart. So all of it is lost when the entity stops, and that is safe.
     */
    private static final class InMemory {
        /** The organization's record, taken on while the journal has no device (see the class comment). */
        DeviceRecord adopted;
        /** Last seen by a report that was not written. */
        long lastSeenMillis;
        /** Whether the organization is known to have the current endpoints and NAT report. */
        boolean organizationInSync;
    }

    /**
     * What every command handler receives: the state commands see (the journal's, or, while the journal has no
     * device, the one taken on from the organization), whether the journal has the device (else the first write
     * carries its record, {@link #write}), and the in-memory part.
     */
    private record Current(DeviceState state, boolean written, InMemory memory) {
        /** {@code device} with the last seen remembered in memory, when later than the written one. */
        DeviceRecord seen(DeviceRecord device) {
            return memory.lastSeenMillis <= device.lastSeenMillis() ? device : device.withLastSeen(memory.lastSeenMillis);
        }
    }

    // ---- constructor ----------------------------------------------------------------------------------------

    private final InMemory memory = new InMemory();

    private Device(String deviceId) {
        super(PersistenceId.of(ENTITY_KEY.name(), deviceId),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    }

    @Override
    public DeviceState emptyState() {
        return new DeviceState.Unknown();
    }

    // ---- command handlers -----------------------------------------------------------------------------------

    @Override
    public CommandHandlerWithReply<Command, Event, DeviceState> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Prepare.class, (journal, command) -> Effect().noReply())
                .onCommand(Register.class, (journal, command) -> onRegister(current(journal), command))
                .onCommand(TakeCredentials.class, (journal, command) -> onTakeCredentials(current(journal), command))
                .onCommand(Get.class, (journal, command) -> onGet(current(journal), command))
                .onCommand(Report.class, (journal, command) -> onReport(current(journal), command))
                .onCommand(Observe.class, (journal, command) -> onObserve(current(journal), command))
                .onCommand(Patch.class, (journal, command) -> onPatch(current(journal), command))
                .onCommand(Revoke.class, (journal, command) -> onRevoke(current(journal), command))
                .onCommand(Approve.class, (journal, command) -> onApprove(current(journal), command))
                .onCommand(Delete.class, (journal, command) -> onDelete(current(journal), command))
                .onCommand(OrganizationUpdated.class, (journal, command) ->
                        onOrganizationUpdated(current(journal), command))
                .build();
    }

    /** The journal's state with the in-memory part; a device taken on stands in while the journal has none. */
    private Current current(DeviceState journal) {
        if (journal instanceof DeviceState.Unknown && memory.adopted != null) {
            return new Current(DeviceState.of(memory.adopted), false, memory);
        }
        return new Current(journal, !(journal instanceof DeviceState.Unknown), memory);
    }

    /** Runs {@code then} with the device when there is one, else answers that there is no such device. */
    private ReplyEffect<Event, DeviceState> known(Current current, ActorRef<Reply> replyTo,
            Function<DeviceState.Known, ReplyEffect<Event, DeviceState>> then) {
        return current.state() instanceof DeviceState.Known state ? then.apply(state)
                : Effect().reply(replyTo, Reply.error(404, "no such device"));
    }

    /** Writes {@code event}; the first write of a device taken on from the organization carries its record too. */
    private EffectBuilder<Event, DeviceState> write(Current current, Event event) {
        if (current.written()) {
            return Effect().persist(event);
        }
        return Effect().persist(List.of(new Registered(((DeviceState.Known) current.state()).device()), event));
    }

    /** The device after a write (the write leaves a known device). */
    private static DeviceRecord deviceOf(DeviceState next) {
        return ((DeviceState.Known) next).device();
    }

    private ReplyEffect<Event, DeviceState> onRegister(Current current, Register command) {
        if (current.state() instanceof DeviceState.Deleted) {
            return Effect().reply(command.replyTo(), Reply.error(410, "the device was deleted"));
        }
        if (current.state() instanceof DeviceState.Known state) {
            // A retry, or two adoptions at once: the first one stands.
            return state.device().publicKey().equals(command.device().publicKey())
                    ? Effect().reply(command.replyTo(), Reply.ok(current.seen(state.device())))
                    : Effect().reply(command.replyTo(), Reply.error(409, "another device has this id"));
        }
        // Nothing to write: the organization's journal has the device (see the class comment).
        current.memory().adopted = command.device();
        return Effect().reply(command.replyTo(), Reply.ok(command.device()));
    }

    private ReplyEffect<Event, DeviceState> onTakeCredentials(Current current, TakeCredentials command) {
        DeviceRecord given = command.device();
        if (current.state() instanceof DeviceState.Deleted) {
            return Effect().reply(command.replyTo(), Reply.error(410, "the device was deleted"));
        }
        if (!(current.state() instanceof DeviceState.Known state)) {
            // Nothing here yet: the organization's record, which has the new credentials, is taken on as at
            // registration.
            current.memory().adopted = given;
            return Effect().reply(command.replyTo(), Reply.ok(given));
        }
        DeviceRecord device = state.device();
        if (!device.publicKey().equals(given.publicKey())) {
            return Effect().reply(command.replyTo(), Reply.error(409, "another device has this id"));
        }
        if (state instanceof DeviceState.Revoked) {
            return Effect().reply(command.replyTo(), Reply.error(403, "device revoked"));
        }
        if (Objects.equals(device.tokenHash(), given.tokenHash())
                && Objects.equals(device.certificateSerial(), given.certificateSerial())) {
            return Effect().reply(command.replyTo(), Reply.ok(current.seen(device)));
        }
        if (!current.written()) {
            // Taken on from the organization and not written here: the organization's journal has the new
            // credentials, and a restart takes them on from there.
            current.memory().adopted = device.withCredentials(given.tokenHash(), given.certificateSerial());
            return Effect().reply(command.replyTo(), Reply.ok(current.seen(current.memory().adopted)));
        }
        return Effect().persist(new CredentialsReplaced(given.tokenHash(), given.certificateSerial()))
                .thenReply(command.replyTo(), next -> Reply.ok(current.seen(deviceOf(next))));
    }

    private ReplyEffect<Event, DeviceState> onGet(Current current, Get command) {
        return known(current, command.replyTo(),
                state -> Effect().reply(command.replyTo(), Reply.ok(current.seen(state.device()))));
    }

    private ReplyEffect<Event, DeviceState> onReport(Current current, Report command) {
        return known(current, command.replyTo(), state -> report(current, state, command.endpoints(), command.nat(),
                command.homeRelay(), command.nowMillis(), command.replyTo()));
    }

    private ReplyEffect<Event, DeviceState> onObserve(Current current, Observe command) {
        return known(current, command.replyTo(), state -> {
            List<Endpoint> endpoints = state.device().endpoints();
            List<Endpoint> merged = new ArrayList<>();
            for (Endpoint endpoint : endpoints) {
                if (!endpoint.source().equals(command.endpoint().source())) {
                    merged.add(endpoint);
                }
            }
            merged.add(command.endpoint());
            return report(current, state, endpoints.contains(command.endpoint()) ? endpoints : merged, null,
                    state.device().homeRelay(), command.nowMillis(), command.replyTo());
        });
    }

    /** A report or observation of a known device: written when it changes something, else remembered. */
    private ReplyEffect<Event, DeviceState> report(Current current, DeviceState.Known state, List<Endpoint> endpoints,
            Map<String, Object> nat, String homeRelay, long nowMillis, ActorRef<Reply> replyTo) {
        if (state instanceof DeviceState.Revoked) {
            return Effect().reply(replyTo, Reply.error(403, "device revoked"));
        }
        // A pending device's reports stay here until it is approved: it is not in the peer map.
        boolean active = state instanceof DeviceState.Active;
        DeviceRecord device = state.device();
        Map<String, Object> newNat = nat == null ? device.nat() : nat;
        InMemory memory = current.memory();
        // A home relay is journaled only when it changed, like endpoints: peers follow it through the peer map.
        if (!device.endpoints().equals(endpoints) || !Objects.equals(device.nat(), newNat)
                || !Objects.equals(device.homeRelay(), homeRelay)) {
            memory.organizationInSync = false;
            return write(current, new EndpointsReported(List.copyOf(endpoints), newNat, nowMillis, homeRelay))
                    .thenReply(replyTo, next -> new Reply(200, null, deviceOf(next), active));
        }
        memory.lastSeenMillis = Math.max(memory.lastSeenMillis, nowMillis);
        boolean tell = active && !memory.organizationInSync;
        if (nowMillis - device.lastSeenMillis() >= SEEN_WRITE_INTERVAL.toMillis()) {
            return write(current, new Seen(nowMillis))
                    .thenReply(replyTo, next -> new Reply(200, null, deviceOf(next), tell));
        }
        return Effect().reply(replyTo, new Reply(200, null, current.seen(device), tell));
    }

    private ReplyEffect<Event, DeviceState> onPatch(Current current, Patch command) {
        return known(current, command.replyTo(), state -> write(current, new Patched(
                        command.hostname() == null ? state.device().hostname() : command.hostname(),
                        command.metadata() == null ? state.device().metadata() : command.metadata(), command.tags(),
                        command.relayAllowed()))
                .thenReply(command.replyTo(), next -> Reply.ok(current.seen(deviceOf(next)))));
    }

    private ReplyEffect<Event, DeviceState> onApprove(Current current, Approve command) {
        return known(current, command.replyTo(), state -> {
            if (state instanceof DeviceState.Active) {
                return Effect().reply(command.replyTo(), Reply.ok(current.seen(state.device())));
            }
            if (!(state instanceof DeviceState.Pending)) {
                return Effect().reply(command.replyTo(), Reply.error(409,
                        "a " + state.device().status() + " device cannot be approved"));
            }
            // What it reported while pending stayed here: the organization hears it with the next report.
            current.memory().organizationInSync = false;
            return write(current, new Approved(System.currentTimeMillis()))
                    .thenReply(command.replyTo(), next -> Reply.ok(current.seen(deviceOf(next))));
        });
    }

    private ReplyEffect<Event, DeviceState> onRevoke(Current current, Revoke command) {
        return known(current, command.replyTo(), state -> state instanceof DeviceState.Revoked
                ? Effect().reply(command.replyTo(), Reply.ok(current.seen(state.device())))
                : write(current, new Revoked(System.currentTimeMillis()))
                        .thenReply(command.replyTo(), next -> Reply.ok(current.seen(deviceOf(next)))));
    }

    private ReplyEffect<Event, DeviceState> onDelete(Current current, Delete command) {
        return known(current, command.replyTo(), state -> write(current, new Deleted(System.currentTimeMillis()))
                .thenReply(command.replyTo(), next -> Reply.ok(state.device())));
    }

    private ReplyEffect<Event, DeviceState> onOrganizationUpdated(Current current, OrganizationUpdated command) {
        current.memory().organizationInSync = current.state() instanceof DeviceState.Known state
                && state.device().endpoints().equals(command.endpoints())
                && Objects.equals(state.device().nat(), command.nat())
                && Objects.equals(state.device().homeRelay(), command.homeRelay());
        return Effect().noReply();
    }

    // ---- event handler --------------------------------------------------------------------------------------

    @Override
    public EventHandler<DeviceState, Event> eventHandler() {
        var builder = newEventHandlerBuilder();
        builder.forStateType(DeviceState.Unknown.class)
                .onEvent(Registered.class, DeviceState.Unknown::registered);
        builder.forStateType(DeviceState.Known.class)
                .onEvent(EndpointsReported.class, DeviceState.Known::endpointsReported)
                .onEvent(Seen.class, DeviceState.Known::seen)
                .onEvent(CredentialsReplaced.class, DeviceState.Known::credentialsReplaced)
                .onEvent(Patched.class, DeviceState.Known::patched)
                .onEvent(Approved.class, DeviceState.Known::approved)
                .onEvent(Revoked.class, DeviceState.Known::revoked)
                .onEvent(Deleted.class, DeviceState.Known::deleted);
        return builder.build();
    }

    // ---- retention ------------------------------------------------------------------------------------------

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }

    /** Snapshots are the state itself; one written before the states were split is read as {@link State}. */
    @Override
    public SnapshotAdapter<DeviceState> snapshotAdapter() {
        return new SnapshotAdapter<>() {
            @Override
            public Object toJournal(DeviceState state) {
                return state;
            }

            @Override
            public DeviceState fromJournal(Object from) {
                return from instanceof State legacy ? legacy.current() : (DeviceState) from;
            }
        };
    }

    /**
     * The one state type of earlier releases ({@code device} null before registration, {@code deleted} once
     * deleted), kept so that their snapshots (written under this class name) still load: never written any more.
     */
    record State(DeviceRecord device, boolean deleted) implements CborSerializable {
        DeviceState current() {
            return deleted ? new DeviceState.Deleted(device)
                    : device == null ? new DeviceState.Unknown() : DeviceState.of(device);
        }
    }
}
