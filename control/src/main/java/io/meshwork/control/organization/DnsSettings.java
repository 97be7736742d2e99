package io.meshwork.control.organization;

import io.meshwork.control.CborSerializable;
import io.meshwork.protocol.api.DnsConfig;
import io.meshwork.protocol.api.DnsRecord;
import io.meshwork.protocol.dns.DnsNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * An organization's DNS settings (docs/architecture.md, "Names"; docs/api.md, "DNS"): its domain (default
 * {@value DnsNames#DEFAULT_DOMAIN}) and custom records, one entity per organization beside {@link Organization},
 * so that names change without touching the peer map's entity. Every change is published whole on the
 * organization's DNS topic ({@link #topic}), where the peer streams of every member hear it.
 *
 * <p>Records are kept with names relative to the domain ("www", "@" for the apex), so a new domain carries them
 * along; {@link Settings#config()} gives them absolute. Invariants: at most {@value #MAX_RECORDS} records; a name
 * with a CNAME has nothing else (RFC 1034 §3.6.2). What a request may hold is checked by the routes before it
 * comes here ({@code DnsRecordValidation}); the entity checks only what needs its state.
 */
public final class DnsSettings extends EventSourcedBehaviorWithEnforcedReplies<DnsSettings.Command,
        DnsSettings.Event, DnsSettings.Settings> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "DnsSettings");
    public static final int MAX_RECORDS = 1000;
    private static final int SNAPSHOT_EVERY = 100;
    private static final Map<ActorSystem<?>, Map<String, ActorRef<Topic.Command<Changed>>>> TOPICS =
            new ConcurrentHashMap<>();

    public static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> create(context.getEntityId())));
    }

    public static Behavior<Command> create(String organizationId) {
        return Behaviors.setup(context -> new DnsSettings(organizationId, topic(context.getSystem(), organizationId)));
    }

    /** The topic of the organization's DNS changes on this member (one actor per organization and member). */
    public static ActorRef<Topic.Command<Changed>> topic(ActorSystem<?> system, String organizationId) {
        return TOPICS.computeIfAbsent(system, s -> new ConcurrentHashMap<>()).computeIfAbsent(organizationId,
                id -> system.systemActorOf(Topic.create(Changed.class, "dns-" + id), "dns-" + id, Props.empty()));
    }

    /** Forgets the topics of a stopped system (tests start several in one JVM). */
    public static void forget(ActorSystem<?> system) {
        TOPICS.remove(system);
    }

    // ---- messages ---------------------------------------------------------------------------------------

    public sealed interface Command extends CborSerializable {}

    public record Get(ActorRef<Reply> replyTo) implements Command {}

    /** {@code domain}: canonical ({@link DnsNames#domain}). */
    public record SetDomain(String domain, ActorRef<Reply> replyTo) implements Command {}

    /** {@code record}: checked, with its id, its name relative to the domain. */
    public record AddRecord(DnsRecord record, ActorRef<Reply> replyTo) implements Command {}

    /**
     * Deletes the record with {@code id}, or every record with {@code name} (relative) and, when given,
     * {@code type}; 404 when none matches.
     */
    public record DeleteRecords(String id, String name, String type, ActorRef<Reply> replyTo) implements Command {}

    /** Every answer: a status (HTTP semantics), the error text when not 2xx, the settings after the command. */
    public record Reply(int status, String error, DnsConfig config, long version) implements CborSerializable {
        public boolean isOk() {
            return status / 100 == 2;
        }
    }

    /** Published after every change: the whole settings, and their version (streams send only newer ones). */
    public record Changed(DnsConfig config, long version) implements CborSerializable {}

    public sealed interface Event extends CborSerializable {}

    public record DomainSet(String organizationId, String domain) implements Event {}

    public record RecordAdded(String organizationId, DnsRecord record) implements Event {}

    public record RecordsDeleted(String organizationId, List<String> ids) implements Event {}

    // ---- state ------------------------------------------------------------------------------------------

    /** The domain (null: the default), the records with relative names, and a version bumped by every event. */
    public record Settings(String domain, List<DnsRecord> records, long version) implements CborSerializable {

        String effectiveDomain() {
            return domain == null ? DnsNames.DEFAULT_DOMAIN : domain;
        }

        /** As nodes and the API get them: names absolute under the domain. */
        public DnsConfig config() {
            String current = effectiveDomain();
            List<DnsRecord> absolute = new ArrayList<>(records.size());
            for (DnsRecord record : records) {
                String name = record.name().equals("@") ? current : record.name() + "." + current;
                absolute.add(new DnsRecord(record.id(), name, record.type(), record.value(), record.ttl()));
            }
            return new DnsConfig(current, List.copyOf(absolute));
        }

        Settings domainSet(DomainSet event) {
            return new Settings(event.domain(), records, version + 1);
        }

        Settings recordAdded(RecordAdded event) {
            List<DnsRecord> next = new ArrayList<>(records);
            next.add(event.record());
            return new Settings(domain, List.copyOf(next), version + 1);
        }

        Settings recordsDeleted(RecordsDeleted event) {
            return new Settings(domain, records.stream().filter(r -> !event.ids().contains(r.id())).toList(),
                    version + 1);
        }
    }

    // ---- constructor ------------------------------------------------------------------------------------

    private final String organizationId;
    private final ActorRef<Topic.Command<Changed>> changes;

    private DnsSettings(String organizationId, ActorRef<Topic.Command<Changed>> changes) {
        super(PersistenceId.of(ENTITY_KEY.name(), organizationId),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
        this.organizationId = organizationId;
        this.changes = changes;
    }

    @Override
    public Settings emptyState() {
        return new Settings(null, List.of(), 0);
    }

    // ---- command handlers -------------------------------------------------------------------------------

    @Override
    public CommandHandlerWithReply<Command, Event, Settings> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Get.class, (state, command) -> Effect().reply(command.replyTo(), ok(state)))
                .onCommand(SetDomain.class, this::onSetDomain)
                .onCommand(AddRecord.class, this::onAddRecord)
                .onCommand(DeleteRecords.class, this::onDeleteRecords)
                .build();
    }

    private static Reply ok(Settings state) {
        return new Reply(200, null, state.config(), state.version());
    }

    private static Reply error(int status, String error) {
        return new Reply(status, error, null, 0);
    }

    private ReplyEffect<Event, Settings> persistAndPublish(Event event, ActorRef<Reply> replyTo) {
        return Effect().persist(event).thenRun(next -> changes.tell(Topic.publish(new Changed(next.config(),
                next.version())))).thenReply(replyTo, DnsSettings::ok);
    }

    private ReplyEffect<Event, Settings> onSetDomain(Settings state, SetDomain command) {
        if (command.domain().equals(state.effectiveDomain())) {
            return Effect().reply(command.replyTo(), ok(state));
        }
        return persistAndPublish(new DomainSet(organizationId, command.domain()), command.replyTo());
    }

    private ReplyEffect<Event, Settings> onAddRecord(Settings state, AddRecord command) {
        DnsRecord record = command.record();
        if (state.records().size() >= MAX_RECORDS) {
            return Effect().reply(command.replyTo(), error(409, "the organization has " + MAX_RECORDS
                    + " DNS records, the most it may have"));
        }
        for (DnsRecord existing : state.records()) {
            if (!existing.name().equals(record.name())) {
                continue;
            }
            if (existing.type().equals(DnsRecord.CNAME) || record.type().equals(DnsRecord.CNAME)) {
                return Effect().reply(command.replyTo(), error(409, "a name with a CNAME has no other records "
                        + "(RFC 1034 §3.6.2): " + record.name() + " has a " + existing.type()));
            }
            if (existing.type().equals(record.type()) && existing.value().equals(record.value())) {
                return Effect().reply(command.replyTo(), error(409, "the record exists (" + existing.id() + ")"));
            }
        }
        return persistAndPublish(new RecordAdded(organizationId, record), command.replyTo());
    }

    private ReplyEffect<Event, Settings> onDeleteRecords(Settings state, DeleteRecords command) {
        List<String> ids = state.records().stream()
                .filter(r -> command.id() != null ? r.id().equals(command.id())
                        : r.name().equals(command.name()) && (command.type() == null || r.type().equals(command.type())))
                .map(DnsRecord::id)
                .toList();
        if (ids.isEmpty()) {
            return Effect().reply(command.replyTo(), error(404, "no such DNS record"));
        }
        return persistAndPublish(new RecordsDeleted(organizationId, ids), command.replyTo());
    }

    // ---- event handler ----------------------------------------------------------------------------------

    @Override
    public EventHandler<Settings, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(DomainSet.class, Settings::domainSet)
                .onEvent(RecordAdded.class, Settings::recordAdded)
                .onEvent(RecordsDeleted.class, Settings::recordsDeleted)
                .build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }
}
