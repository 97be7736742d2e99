package io.meshwork.control.organization;

import io.meshwork.control.CborSerializable;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The index of organizations, as one sharded entity: the id, name and overlay prefix of every organization, so
 * the admin can list them without waking every {@link Organization}. Organizations are few next to devices (an
 * entry is about a hundred bytes), so one entity with one writer stays small and consistent on any member.
 *
 * <p>The API lists an organization after its own entity persisted its creation, and unlists it after its
 * deletion; both calls are idempotent, so a request retried after a timeout converges.
 */
public final class OrganizationDirectory extends EventSourcedBehaviorWithEnforcedReplies<
        OrganizationDirectory.Command, OrganizationDirectory.Event, OrganizationDirectory.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "OrganizationDirectory");
    /** The one entity id. */
    public static final String ID = "organizations";
    static final int SNAPSHOT_EVERY = 100;

    public static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> create()));
    }

    public static Behavior<Command> create() {
        return new OrganizationDirectory();
    }

    // ---- messages ---------------------------------------------------------------------------------------

    public sealed interface Command extends CborSerializable {}

    public record Add(Entry entry, ActorRef<Reply> replyTo) implements Command {}

    public record Remove(String organizationId, ActorRef<Reply> replyTo) implements Command {}

    /** A page of the organizations whose name contains {@code nameContains} (null: all), by name then id. */
    public record GetPage(String nameContains, int offset, int limit, ActorRef<Page> replyTo) implements Command {}

    public record Reply(boolean changed) implements CborSerializable {}

    public record Page(int total, List<Entry> organizations) implements CborSerializable {}

    public sealed interface Event extends CborSerializable {}

    public record OrganizationListed(Entry entry) implements Event {}

    public record OrganizationUnlisted(String organizationId) implements Event {}

    // ---- state ------------------------------------------------------------------------------------------

    public record Entry(String id, String name, String ipv4Cidr, long createdMillis) implements CborSerializable {}

    public record State(Map<String, Entry> organizations) implements CborSerializable {

        State with(Entry entry) {
            Map<String, Entry> next = new LinkedHashMap<>(organizations);
            next.put(entry.id(), entry);
            return new State(Map.copyOf(next));
        }

        State without(String organizationId) {
            Map<String, Entry> next = new LinkedHashMap<>(organizations);
            next.remove(organizationId);
            return new State(Map.copyOf(next));
        }

        Page page(String nameContains, int offset, int limit) {
            List<Entry> matching = organizations.values().stream()
                    .filter(entry -> nameContains == null || entry.name().contains(nameContains))
                    .sorted(Comparator.comparing(Entry::name).thenComparing(Entry::id))
                    .toList();
            return new Page(matching.size(), matching.stream().skip(offset).limit(limit).toList());
        }
    }

    // ---- behaviour ----------------------------------------------------------------------------------------

    private OrganizationDirectory() {
        super(PersistenceId.of(ENTITY_KEY.name(), ID),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    }

    @Override
    public State emptyState() {
        return new State(Map.of());
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Add.class, (state, command) -> command.entry().equals(
                                state.organizations().get(command.entry().id()))
                        ? Effect().reply(command.replyTo(), new Reply(false))
                        : Effect().persist(new OrganizationListed(command.entry()))
                                .thenReply(command.replyTo(), next -> new Reply(true)))
                .onCommand(Remove.class, (state, command) -> state.organizations().containsKey(command.organizationId())
                        ? Effect().persist(new OrganizationUnlisted(command.organizationId()))
                                .thenReply(command.replyTo(), next -> new Reply(true))
                        : Effect().reply(command.replyTo(), new Reply(false)))
                .onCommand(GetPage.class, (state, command) -> Effect().reply(command.replyTo(),
                        state.page(command.nameContains(), command.offset(), command.limit())))
                .build();
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(OrganizationListed.class, (state, event) -> state.with(event.entry()))
                .onEvent(OrganizationUnlisted.class, (state, event) -> state.without(event.organizationId()))
                .build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }
}
