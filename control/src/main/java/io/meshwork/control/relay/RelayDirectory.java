package io.meshwork.control.relay;

import io.meshwork.control.CborSerializable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The relays every organization may use, as one sharded entity (there are few relays): enrollment tokens the
 * admin issued (hashed), each enrolled relay with its addresses, the SHA-256 pin of its TLS certificate (when its
 * TCP listener speaks TLS) and latest health, and the serials of revoked device certificates relays must refuse.
 *
 * <p>Lifecycle of a relay: a token is issued → a relay enrolls with it (re-enrolling with the same token keeps
 * the relay's id) → it reports health on a heartbeat → the admin revokes the token or removes the relay, which
 * removes both: the token stops working and the relay leaves the directory (so its addresses and pin leave the
 * relay list devices get). Invariant: a token enrolls at most one relay id.
 *
 * <p>{@code tlsSha256} came later than the other fields: events and snapshots written before it deserialize with
 * it null, which means plain TCP.
 *
 * <p>A node may relay for its own organization ({@code node up --relay}): such a relay enrolls with its device's
 * credentials, not a token ({@link EnrollDevice}), and its record names the device and the organization
 * ({@code deviceId}, {@code organizationId}; null for relays enrolled with a token). Only that organization's
 * devices are handed it. Withdrawing the device's permission, revoking or deleting the device removes it
 * ({@link RemoveDeviceRelay}).
 */
public final class RelayDirectory extends EventSourcedBehaviorWithEnforcedReplies<RelayDirectory.Command,
        RelayDirectory.Event, RelayDirectory.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "RelayDirectory");
    /** The one entity id. */
    public static final String ID = "relays";
    /** Heartbeats a relay may miss before it counts as unhealthy. */
    public static final int MISSED_HEARTBEATS = 3;

    public static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, context -> create()));
    }

    public static Behavior<Command> create() {
        return new RelayDirectory();
    }

    public sealed interface Command extends CborSerializable {}

    /** An enrollment token for a relay of that name and region (null: none). */
    public record IssueToken(String tokenId, String secretHash, String name, String region, long nowMillis,
            ActorRef<Reply> replyTo) implements Command {
        public IssueToken(String tokenId, String secretHash, String name, long nowMillis, ActorRef<Reply> replyTo) {
            this(tokenId, secretHash, name, null, nowMillis, replyTo);
        }
    }

    public record Enroll(String tokenId, String secretHash, String relayId, String udp, String tcp,
            List<String> stun, String tlsSha256, long nowMillis, ActorRef<Reply> replyTo) implements Command {}

    public record ReportHealth(String relayId, int udpClients, int tcpClients, boolean healthy, long nowMillis,
            ActorRef<Reply> replyTo) implements Command {}

    public record RevokeSerial(String serialHex, ActorRef<Reply> replyTo) implements Command {}

    /** Revokes several serials in one write; those revoked already are not written again. */
    public record RevokeSerials(Set<String> serialsHex, ActorRef<Reply> replyTo) implements Command {}

    public record Get(ActorRef<Reply> replyTo) implements Command {}

    /** Removes the token and the relay it enrolled, if any; 404 when there is no such token. */
    public record RevokeToken(String tokenId, ActorRef<Reply> replyTo) implements Command {}

    /** Removes the relay and the token it enrolled with; 404 when there is no such relay. */
    public record RemoveRelay(String relayId, ActorRef<Reply> replyTo) implements Command {}

    /**
     * A node's relay for its organization, enrolled with its device's credentials (the route has checked them and
     * that the device may relay): a device's relay keeps its id when it enrolls again.
     */
    public record EnrollDevice(String deviceId, String organizationId, String relayId, String name, String region,
            String udp, String tcp, List<String> stun, long nowMillis, ActorRef<Reply> replyTo) implements Command {}

    /** Removes the relay the device runs, if any (answered 200 either way). */
    public record RemoveDeviceRelay(String deviceId, ActorRef<Reply> replyTo) implements Command {}

    /** Removes every relay nodes of the organization run (it is deleted); answered 200 either way. */
    public record RemoveOrganizationRelays(String organizationId, ActorRef<Reply> replyTo) implements Command {}

    public record Reply(int status, String error, State state, RelayRecord relay) implements CborSerializable {
        public boolean isOk() {
            return status / 100 == 2;
        }
    }

    public sealed interface Event extends CborSerializable {}

    /** {@code region} is null in tokens issued before relays had one. */
    public record TokenIssued(String tokenId, String secretHash, String name, long atMillis, String region)
            implements Event {}

    public record RelayEnrolled(String relayId, String tokenId, String name, String udp, String tcp, List<String> stun,
            long atMillis, String tlsSha256) implements Event {}

    public record DeviceRelayEnrolled(String relayId, String deviceId, String organizationId, String name,
            String region, String udp, String tcp, List<String> stun, long atMillis) implements Event {}

    public record HealthReported(String relayId, int udpClients, int tcpClients, boolean healthy, long atMillis)
            implements Event {}

    public record SerialRevoked(String serialHex) implements Event {}

    public record SerialsRevoked(List<String> serialsHex) implements Event {}

    public record TokenRevoked(String tokenId) implements Event {}

    public record RelayRemoved(String relayId) implements Event {}

    public record Token(String id, String secretHash, String name, long issuedMillis, String relayId, String region)
            implements CborSerializable {}

    /**
     * {@code healthy} is what the relay last reported; see {@link #healthyAt} for whether it still counts.
     * {@code organizationId} and {@code deviceId} name the organization and device of a node's relay, which only
     * that organization's devices use; both are null for a relay enrolled with a token, which every organization
     * uses.
     */
    public record RelayRecord(String id, String name, String udp, String tcp, List<String> stun, int udpClients,
            int tcpClients, boolean healthy, long enrolledMillis, long lastHeartbeatMillis, String tlsSha256,
            String region, String organizationId, String deviceId) implements CborSerializable {

        /** A relay enrolled with a token: every organization's. */
        public RelayRecord(String id, String name, String udp, String tcp, List<String> stun, int udpClients,
                int tcpClients, boolean healthy, long enrolledMillis, long lastHeartbeatMillis, String tlsSha256,
                String region) {
            this(id, name, udp, tcp, stun, udpClients, tcpClients, healthy, enrolledMillis, lastHeartbeatMillis,
                    tlsSha256, region, null, null);
        }

        /** Whether devices of {@code organizationId} may use this relay. */
        public boolean serves(String organizationId) {
            return this.organizationId == null || this.organizationId.equals(organizationId);
        }

        /**
         * Whether the relay counts as healthy at {@code nowMillis} when it is told to report every
         * {@code heartbeat}: it last reported itself healthy, and that report (or its enrollment) is not older than
         * {@value #MISSED_HEARTBEATS} heartbeats. Judged when read, so nothing is written for a relay that went
         * silent, and its next heartbeat counts it in again.
         */
        public boolean healthyAt(long nowMillis, Duration heartbeat) {
            return healthy && lastHeartbeatMillis >= nowMillis - MISSED_HEARTBEATS * heartbeat.toMillis();
        }
    }

    public record State(Map<String, Token> tokens, Map<String, RelayRecord> relays, Set<String> revokedSerials)
            implements CborSerializable {

        State withToken(Token token) {
            Map<String, Token> next = new LinkedHashMap<>(tokens);
            next.put(token.id(), token);
            return new State(Map.copyOf(next), relays, revokedSerials);
        }

        State withRelay(RelayRecord relay) {
            Map<String, RelayRecord> next = new LinkedHashMap<>(relays);
            next.put(relay.id(), relay);
            return new State(tokens, Map.copyOf(next), revokedSerials);
        }

        /** Without the token and the relay it enrolled. */
        State withoutToken(String tokenId) {
            Token token = tokens.get(tokenId);
            if (token == null) {
                return this;
            }
            Map<String, Token> nextTokens = new LinkedHashMap<>(tokens);
            nextTokens.remove(tokenId);
            Map<String, RelayRecord> nextRelays = new LinkedHashMap<>(relays);
            if (token.relayId() != null) {
                nextRelays.remove(token.relayId());
            }
            return new State(Map.copyOf(nextTokens), Map.copyOf(nextRelays), revokedSerials);
        }

        /** Without the relay and the token it enrolled with. */
        State withoutRelay(String relayId) {
            Map<String, Token> nextTokens = new LinkedHashMap<>(tokens);
            nextTokens.values().removeIf(token -> relayId.equals(token.relayId()));
            Map<String, RelayRecord> nextRelays = new LinkedHashMap<>(relays);
            nextRelays.remove(relayId);
            return new State(Map.copyOf(nextTokens), Map.copyOf(nextRelays), revokedSerials);
        }

        /** The relay device {@code deviceId} runs, or null. */
        public RelayRecord relayOfDevice(String deviceId) {
            for (RelayRecord relay : relays.values()) {
                if (deviceId.equals(relay.deviceId())) {
                    return relay;
                }
            }
            return null;
        }

        State withRevoked(List<String> serials) {
            Set<String> next = new LinkedHashSet<>(revokedSerials);
            next.addAll(serials);
            return new State(tokens, relays, Set.copyOf(next));
        }
    }

    private RelayDirectory() {
        super(PersistenceId.of(ENTITY_KEY.name(), ID),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    }

    @Override
    public State emptyState() {
        return new State(Map.of(), Map.of(), Set.of());
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(IssueToken.class, (state, command) -> Effect()
                        .persist(new TokenIssued(command.tokenId(), command.secretHash(), command.name(),
                                command.nowMillis(), command.region()))
                        .thenReply(command.replyTo(), next -> new Reply(200, null, next, null)))
                .onCommand(Enroll.class, this::onEnroll)
                .onCommand(EnrollDevice.class, this::onEnrollDevice)
                .onCommand(RemoveOrganizationRelays.class, (state, command) -> {
                    List<Event> removed = state.relays().values().stream()
                            .filter(relay -> command.organizationId().equals(relay.organizationId()))
                            .map(relay -> (Event) new RelayRemoved(relay.id()))
                            .toList();
                    return removed.isEmpty() ? Effect().reply(command.replyTo(), new Reply(200, null, state, null))
                            : Effect().persist(removed)
                                    .thenReply(command.replyTo(), next -> new Reply(200, null, next, null));
                })
                .onCommand(RemoveDeviceRelay.class, (state, command) -> {
                    RelayRecord relay = state.relayOfDevice(command.deviceId());
                    return relay == null ? Effect().reply(command.replyTo(), new Reply(200, null, state, null))
                            : Effect().persist(new RelayRemoved(relay.id()))
                                    .thenReply(command.replyTo(), next -> new Reply(200, null, next, relay));
                })
                .onCommand(ReportHealth.class, (state, command) -> state.relays().containsKey(command.relayId())
                        ? Effect().persist(new HealthReported(command.relayId(), command.udpClients(),
                                        command.tcpClients(), command.healthy(), command.nowMillis()))
                                .thenReply(command.replyTo(), next -> new Reply(200, null, next,
                                        next.relays().get(command.relayId())))
                        : Effect().reply(command.replyTo(), new Reply(404, "no such relay", null, null)))
                .onCommand(RevokeSerial.class, (state, command) -> Effect()
                        .persist(new SerialRevoked(command.serialHex()))
                        .thenReply(command.replyTo(), next -> new Reply(200, null, next, null)))
                .onCommand(RevokeSerials.class, this::onRevokeSerials)
                .onCommand(RevokeToken.class, (state, command) -> state.tokens().containsKey(command.tokenId())
                        ? Effect().persist(new TokenRevoked(command.tokenId()))
                                .thenReply(command.replyTo(), next -> new Reply(200, null, next, null))
                        : Effect().reply(command.replyTo(), new Reply(404, "no such relay token", null, null)))
                .onCommand(RemoveRelay.class, (state, command) -> state.relays().containsKey(command.relayId())
                        ? Effect().persist(new RelayRemoved(command.relayId()))
                                .thenReply(command.replyTo(), next -> new Reply(200, null, next, null))
                        : Effect().reply(command.replyTo(), new Reply(404, "no such relay", null, null)))
                .onCommand(Get.class, (state, command) -> Effect().reply(command.replyTo(),
                        new Reply(200, null, state, null)))
                .build();
    }

    private ReplyEffect<Event, State> onRevokeSerials(State state, RevokeSerials command) {
        List<String> fresh = command.serialsHex().stream().filter(serial -> !state.revokedSerials().contains(serial))
                .sorted().toList();
        if (fresh.isEmpty()) {
            return Effect().reply(command.replyTo(), new Reply(200, null, state, null));
        }
        return Effect().persist(new SerialsRevoked(fresh))
                .thenReply(command.replyTo(), next -> new Reply(200, null, next, null));
    }

    private ReplyEffect<Event, State> onEnroll(State state, Enroll command) {
        Token token = state.tokens().get(command.tokenId());
        if (token == null || !token.secretHash().equals(command.secretHash())) {
            return Effect().reply(command.replyTo(), new Reply(401, "unknown relay enrollment token", null, null));
        }
        String relayId = token.relayId() != null ? token.relayId() : command.relayId();
        return Effect().persist(new RelayEnrolled(relayId, token.id(), token.name(), command.udp(), command.tcp(),
                        command.stun() == null ? List.of() : command.stun(), command.nowMillis(), command.tlsSha256()))
                .thenReply(command.replyTo(), next -> new Reply(200, null, next, next.relays().get(relayId)));
    }

    private ReplyEffect<Event, State> onEnrollDevice(State state, EnrollDevice command) {
        RelayRecord existing = state.relayOfDevice(command.deviceId());
        String relayId = existing != null ? existing.id() : command.relayId();
        return Effect().persist(new DeviceRelayEnrolled(relayId, command.deviceId(), command.organizationId(),
                        command.name(), command.region(), command.udp(), command.tcp(),
                        command.stun() == null ? List.of() : command.stun(), command.nowMillis()))
                .thenReply(command.replyTo(), next -> new Reply(200, null, next, next.relays().get(relayId)));
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(TokenIssued.class, (state, event) -> state.withToken(
                        new Token(event.tokenId(), event.secretHash(), event.name(), event.atMillis(), null,
                                event.region())))
                .onEvent(RelayEnrolled.class, (state, event) -> {
                    Token token = state.tokens().get(event.tokenId());
                    RelayRecord previous = state.relays().get(event.relayId());
                    return state.withToken(new Token(token.id(), token.secretHash(), token.name(), token.issuedMillis(),
                                    event.relayId(), token.region()))
                            .withRelay(new RelayRecord(event.relayId(), event.name(), event.udp(), event.tcp(),
                                    event.stun(), 0, 0, true,
                                    previous == null ? event.atMillis() : previous.enrolledMillis(), event.atMillis(),
                                    event.tlsSha256(), token.region()));
                })
                .onEvent(DeviceRelayEnrolled.class, (state, event) -> {
                    RelayRecord previous = state.relays().get(event.relayId());
                    return state.withRelay(new RelayRecord(event.relayId(), event.name(), event.udp(), event.tcp(),
                            event.stun(), 0, 0, true, previous == null ? event.atMillis() : previous.enrolledMillis(),
                            event.atMillis(), null, event.region(), event.organizationId(), event.deviceId()));
                })
                .onEvent(HealthReported.class, (state, event) -> {
                    RelayRecord r = state.relays().get(event.relayId());
                    return state.withRelay(new RelayRecord(r.id(), r.name(), r.udp(), r.tcp(), r.stun(),
                            event.udpClients(), event.tcpClients(), event.healthy(), r.enrolledMillis(), event.atMillis(),
                            r.tlsSha256(), r.region(), r.organizationId(), r.deviceId()));
                })
                .onEvent(SerialRevoked.class, (state, event) -> state.withRevoked(List.of(event.serialHex())))
                .onEvent(SerialsRevoked.class, (state, event) -> state.withRevoked(event.serialsHex()))
                .onEvent(TokenRevoked.class, (state, event) -> state.withoutToken(event.tokenId()))
                .onEvent(RelayRemoved.class, (state, event) -> state.withoutRelay(event.relayId()))
                .build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2);
    }
}
