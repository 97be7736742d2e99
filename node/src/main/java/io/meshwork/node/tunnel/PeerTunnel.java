package io.meshwork.node.tunnel;

import io.meshwork.node.netcheck.NetcheckReportFormat;
import io.meshwork.protocol.path.NatPolicy;
import io.meshwork.protocol.path.PathPolicy;
import io.meshwork.protocol.path.PortPrediction;
import io.meshwork.protocol.probe.ProbeMessage;
import io.meshwork.protocol.probe.ProbeMessage.CallMeMaybe;
import io.meshwork.protocol.probe.ProbeMessage.Ping;
import io.meshwork.protocol.probe.ProbeMessage.Pong;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One peer's path (docs/architecture.md, "Node"): a state machine with one behaviour per state.
 *
 * <ul>
 *   <li><b>Relayed</b>: WireGuard runs through the relay from the first moment, so the peer is reachable at
 *       once. An upgrade timer starts probing; a call-me-maybe or a ping from the peer starts it at once.</li>
 *   <li><b>Probing</b>: pings every candidate endpoint (LAN, STUN-reflexive, addresses the peer's pings came
 *       from) and tells the peer through the relay to probe back now, so both NATs open together. Where the
 *       peer's NAT maps per destination, also sprays pings across its likely ports (port prediction). The first
 *       pong moves traffic to that endpoint; no pong within the probe window settles on the relay and
 *       schedules the next attempt with exponential backoff.</li>
 *   <li><b>Direct</b>: pings the endpoint every heartbeat and the other candidates now and then, moving to a
 *       clearly better one ({@link PathPolicy}); when the endpoint stops answering for the direct timeout,
 *       traffic falls back to the relay (the WireGuard session carries on) and probing is retried soon.</li>
 * </ul>
 *
 * Every transition publishes a {@link TunnelStatus} with its reason. Time comes from the injected clock and
 * the actor's timers, so tests drive the machine with manual time and no sockets.
 *
 * <p>Longer than most files here on purpose: the three behaviours share one peer's probing state (candidates,
 * backoff, prediction progress, the reason being built), and reading a transition next to the states it joins is
 * what makes the machine checkable. The decisions themselves live in pure functions in {@code protocol/path}.
 */
public final class PeerTunnel {

    /** What a tunnel understands. */
    public sealed interface Command {}

    /** The peer's advertised endpoints or NAT changed (from the peer map). */
    public record PeerChanged(TunnelPeer peer) implements Command {}

    /** This node's own endpoints or NAT changed (from endpoint discovery). */
    public record SelfChanged(TunnelPeer self) implements Command {}

    /**
     * An authentic probe from the peer.
     *
     * @param from where it came from, or null when the relay delivered it
     */
    public record ProbeReceived(ProbeMessage message, InetSocketAddress from) implements Command {}

    /** The peer left: stop and drop it. */
    public enum Stop implements Command { INSTANCE }

    /** Pings the peer once on the path in use (like {@code tailscale ping}); the answer goes to {@code replyTo}. */
    public record PingPeer(ActorRef<PingResult> replyTo) implements Command {}

    /**
     * A pong to a {@link PingPeer}.
     *
     * @param endpoint the direct endpoint that answered, or null when the answer came through the relay
     */
    public record PingResult(InetSocketAddress endpoint, Duration roundTrip) {}

    private record Fire(Timer timer) implements Command {}

    /** The answer to {@link TunnelPort#learnNewFlowEndpoint} asked in attempt {@code attempt}. */
    private record Learned(int attempt, Optional<InetSocketAddress> endpoint) implements Command {}

    /** Timers, one of each at most. */
    enum Timer { UPGRADE, PROBE_ROUND, PROBE_DEADLINE, PREDICTION, HEARTBEAT, REEVALUATE, RELAY_PING, OPEN }

    /** How long a side that opens its mapping waits for the endpoint its new flows get before opening anyway. */
    static final Duration LEARN_WAIT = Duration.ofSeconds(6);

    private static final int MAX_PENDING_PINGS = 512;
    /** At most this many learned candidates and measured endpoints are kept per peer. */
    private static final int MAX_LEARNED = 32;

    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private final TunnelPort port;
    private final TunnelSettings settings;
    private final LongSupplier clock;
    private final Consumer<TunnelStatus> statusSink;
    private final Random random;

    private TunnelPeer peer;
    private TunnelPeer self;
    /** Endpoints the peer's pings came from: its reflexive address as our path sees it. */
    private final Set<InetSocketAddress> learned = new LinkedHashSet<>();
    private final Map<InetSocketAddress, PathPolicy.Candidate> answered = new HashMap<>();
    private final Map<TxKey, SentPing> pending = new LinkedHashMap<>();
    private final Deque<InetSocketAddress> predictionQueue = new ArrayDeque<>();
    private Duration relayLatency;
    /** A direct path without traffic is not heartbeated; {@link #graceUntil} guards the first beats after. */
    private boolean idle;
    private long graceUntil = Long.MIN_VALUE;
    /** The direct endpoint in use, null while relayed or probing. */
    private InetSocketAddress current;
    private int attempts;
    private int failures;
    private int predicted;
    private boolean peerAskedForPrediction;
    /** Attempts that failed as suspected conntrack collisions, in a row. */
    private int collisions;
    /** While a collision is suspected, nothing goes direct to the peer before this (tunnel clock). */
    private long quietUntil = Long.MIN_VALUE;
    /** This node opens its mapping first: its probes go out TTL-limited until the peer's probes arrive. */
    private boolean limitTtl;
    /** A direct probe (ping or pong) came from the peer in the current attempt. */
    private boolean heardDirect;
    /** The peer's call-me-maybe said it opened its mapping first: the next attempt answers that. */
    private boolean peerOpenedFirst;
    /** This attempt opens this node's mapping and waits for the endpoint new flows get before it does. */
    private boolean awaitingFresh;
    /** This node opened its mapping in the current attempt (after a suspected collision). */
    private boolean openedThisAttempt;
    /** The endpoint this node's new flows get, as learned for the current turn (null when not learned). */
    private InetSocketAddress freshSelf;
    /** Where full-TTL pings went lately, swept before a turn-taking attempt (at most {@link #MAX_LEARNED}). */
    private final Set<InetSocketAddress> recentTargets = new LinkedHashSet<>();
    /** Each way to a direct path tried and why it failed, by way, for status (a handful of keys at most). */
    private final Map<String, String> tried = new LinkedHashMap<>();

    private record TxKey(byte[] txid) {
        @Override
        public boolean equals(Object other) {
            return other instanceof TxKey key && java.util.Arrays.equals(txid, key.txid);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(txid);
        }
    }

    /**
     * @param to      where the ping went; null for a ping through the relay
     * @param replyTo who asked for it ({@link PingPeer}), or null for the tunnel's own probes
     */
    private record SentPing(InetSocketAddress to, long sentNanos, ActorRef<PingResult> replyTo) {}

    private PeerTunnel(ActorContext<Command> context, TimerScheduler<Command> timers, TunnelPort port,
            TunnelSettings settings, LongSupplier clock, Consumer<TunnelStatus> statusSink, TunnelPeer peer,
            TunnelPeer self, long seed) {
        this.context = context;
        this.timers = timers;
        this.port = port;
        this.settings = settings;
        this.clock = clock;
        this.statusSink = statusSink;
        this.peer = peer;
        this.self = self;
        this.random = new Random(seed);
    }

    /**
     * A tunnel that starts relayed and attempts a direct path at once.
     *
     * @param clock monotonic nanoseconds (System::nanoTime, or a test's manual clock)
     * @param seed  for port-prediction guesses and transaction ids' order; any value in production
     */
    public static Behavior<Command> create(TunnelPort port, TunnelSettings settings, LongSupplier clock,
            Consumer<TunnelStatus> statusSink, TunnelPeer peer, TunnelPeer self, long seed) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
            PeerTunnel tunnel = new PeerTunnel(context, timers, port, settings, clock, statusSink, peer, self, seed);
            return tunnel.relayed("reachable through the relay while a direct path is tried", Duration.ZERO);
        }));
    }

    // ---- states --------------------------------------------------------------------------------------

    private Behavior<Command> relayed(String reason, Duration nextAttempt) {
        timers.cancelAll();
        current = null;
        port.useRelay();
        timers.startSingleTimer(Timer.UPGRADE, new Fire(Timer.UPGRADE), nextAttempt);
        timers.startTimerWithFixedDelay(Timer.RELAY_PING, new Fire(Timer.RELAY_PING), settings.relayPing());
        pingViaRelay();
        enter(TunnelStatus.State.RELAYED, null, relayLatency, reason);
        return common()
                .onMessage(Fire.class, fire -> switch (fire.timer()) {
                    case UPGRADE -> {
                        if (port.opensFirst() && quiet()) {
                            timers.startSingleTimer(Timer.UPGRADE, new Fire(Timer.UPGRADE),
                                    Duration.ofNanos(quietUntil - clock.getAsLong()));
                            yield Behaviors.same();
                        }
                        yield probing();
                    }
                    case RELAY_PING -> {
                        pingViaRelay();
                        yield Behaviors.same();
                    }
                    default -> Behaviors.same();
                })
                .onMessage(ProbeReceived.class, received -> {
                    ProbeMessage message = received.message();
                    if (message instanceof CallMeMaybe call) {
                        heardCallMeMaybe(call);
                        peerOpenedFirst = call.openedFirst();
                        if (quiet() && !call.openedFirst()) {
                            // The peer probes at full TTL, refreshing the stale entries: the quiet restarts.
                            quietUntil = Math.max(quietUntil, clock.getAsLong()
                                    + settings.probeWindow().plus(settings.collisionQuietAfter(collisions)).toNanos());
                            if (port.opensFirst()) {
                                timers.startSingleTimer(Timer.UPGRADE, new Fire(Timer.UPGRADE),
                                        Duration.ofNanos(quietUntil - clock.getAsLong()));
                            }
                            return Behaviors.same();
                        }
                        return probing();
                    }
                    if (message instanceof Ping ping) {
                        answer(ping, received.from());
                        if (received.from() == null) {
                            return Behaviors.same();
                        }
                        // The peer's probe got through to us: probing back from here, where it came from first.
                        learn(received.from());
                        return probing();
                    }
                    Optional<InetSocketAddress> answeredFrom = pong((Pong) message, received.from());
                    if (answeredFrom.isPresent()) {
                        return direct(answeredFrom.get(), "a late probe answer from " + format(answeredFrom.get()));
                    }
                    publish(TunnelStatus.State.RELAYED, null, relayLatency, lastReason);
                    return Behaviors.same();
                })
                .onMessage(PeerChanged.class, changed -> {
                    boolean newEndpoints = !peer.endpoints().equals(changed.peer().endpoints());
                    peer = changed.peer();
                    return newEndpoints && !quiet() ? probing() : Behaviors.same();
                })
                .build();
    }

    private Behavior<Command> probing() {
        timers.cancelAll();
        current = null;
        attempts++;
        predicted = 0;
        heardDirect = false;
        predictionQueue.clear();
        NatPolicy.Plan plan = NatPolicy.plan(self.nat(), peer.nat());
        boolean peerOpened = peerOpenedFirst;
        peerOpenedFirst = false;
        // After a suspected collision both sides open their mappings in turn: the side with the lower key first,
        // the other when the first says it did. Each learns the port its new flows get, sends TTL-limited probes
        // from it, and tells the peer that port; the first then probes at full TTL.
        if (collisions > 0 || peerOpened) {
            sweep();
        }
        limitTtl = peerOpened ? !port.opensFirst() : collisions > 0 && port.opensFirst();
        openedThisAttempt = false;
        awaitingFresh = false;
        freshSelf = null;
        boolean opening = false;
        if (limitTtl) {
            int attempt = attempts;
            ActorRef<Command> me = context.getSelf();
            awaitingFresh = port.learnNewFlowEndpoint(endpoint -> me.tell(new Learned(attempt, endpoint)));
            opening = awaitingFresh || openMapping();
        }
        // A peer that says its NAT maps per destination gets predictions even before its report reaches us.
        boolean predict = plan.predictPorts()
                || peerAskedForPrediction && self.nat().udp() && peer.nat().udp() && !self.nat().endpointDependent();
        if (predict) {
            preparePrediction();
        }
        if (awaitingFresh) {
            timers.startSingleTimer(Timer.OPEN, new Fire(Timer.OPEN), LEARN_WAIT);
        } else {
            callThePeer(opening);
        }
        timers.startTimerWithFixedDelay(Timer.PROBE_ROUND, new Fire(Timer.PROBE_ROUND), settings.probeInterval());
        if (!awaitingFresh) {
            timers.startSingleTimer(Timer.PROBE_DEADLINE, new Fire(Timer.PROBE_DEADLINE), settings.probeWindow());
        }
        if (!predictionQueue.isEmpty()) {
            timers.startTimerWithFixedDelay(Timer.PREDICTION, new Fire(Timer.PREDICTION), settings.predictionPace());
            sprayPrediction();
        }
        String reason = "probing " + candidates().size() + " candidate endpoint(s) while relayed (attempt " + attempts
                + "): " + plan.expectation()
                + (predict ? "; port prediction across " + predictionQueue.size() + " ports" : "")
                + (opening ? (port.opensFirst() ? "; this node opened its mapping first" : "; the peer opened its "
                        + "mapping first, this node opened its own") + " with TTL-limited probes (a conntrack collision "
                        + "was suspected) and waits for the peer's probes" : "");
        enter(TunnelStatus.State.PROBING, null, relayLatency, reason);
        return common()
                .onMessage(Fire.class, fire -> switch (fire.timer()) {
                    case PROBE_ROUND -> {
                        if (!awaitingFresh) {
                            pingCandidates();
                        }
                        yield Behaviors.same();
                    }
                    case OPEN -> {
                        if (awaitingFresh) {
                            open(Optional.empty());
                        }
                        yield Behaviors.same();
                    }
                    case PREDICTION -> {
                        sprayPrediction();
                        yield Behaviors.same();
                    }
                    case PROBE_DEADLINE -> {
                        failures++;
                        noteTried(plan);
                        if (collisionSuspected()) {
                            collisions++;
                            Duration quiet = settings.collisionQuietAfter(collisions);
                            quietUntil = clock.getAsLong() + quiet.toNanos();
                            // The side that opens second waits for the call; if none comes, it tries anyway.
                            Duration wait = port.opensFirst() ? quiet : quiet.plus(quiet.dividedBy(2));
                            tried.put("collision", "conntrack collision recovery " + collisions + ": nothing direct for "
                                    + quiet.toSeconds() + " s, then " + (port.opensFirst()
                                            ? "this node opens first with TTL-limited probes"
                                            : "the peer opens first and this node probes it"));
                            yield relayed(noDirectPath(plan, wait) + "; " + collisionReason(quiet), wait);
                        }
                        collisions = 0;
                        Duration retry = settings.retryAfter(failures);
                        yield relayed(noDirectPath(plan, retry), retry);
                    }
                    default -> Behaviors.same();
                })
                .onMessage(Learned.class, learned -> {
                    if (awaitingFresh && learned.attempt() == attempts) {
                        open(learned.endpoint());
                    }
                    return Behaviors.same();
                })
                .onMessage(ProbeReceived.class, received -> {
                    if (received.message() instanceof CallMeMaybe call && call.openedFirst()) {
                        heardCallMeMaybe(call);
                        if (port.opensFirst() || openedThisAttempt || awaitingFresh) {
                            // The peer opened its mapping towards the port this node told it (or, for the side that
                            // opened first, answered the opening with its own): probe it at full TTL now, with a
                            // whole probe window from here (once: a later call does not extend the attempt).
                            if (port.opensFirst() && !awaitingFresh && limitTtl) {
                                limitTtl = false;
                                timers.startSingleTimer(Timer.PROBE_DEADLINE, new Fire(Timer.PROBE_DEADLINE),
                                        settings.probeWindow());
                            }
                            if (!awaitingFresh) {
                                pingCandidates();
                            }
                            return Behaviors.same();
                        }
                        peerOpenedFirst = true;
                        return probing();
                    }
                    if (callOrPing(received, null)) {
                        return Behaviors.same();
                    }
                    Optional<InetSocketAddress> answeredFrom = pong((Pong) received.message(), received.from());
                    if (answeredFrom.isEmpty()) {
                        return Behaviors.same();
                    }
                    heardDirect = true;
                    Optional<PathPolicy.Candidate> best = PathPolicy.choose(answered.values(), null, clock.getAsLong(),
                            settings.pathPolicy());
                    InetSocketAddress endpoint = best.map(PathPolicy.Candidate::endpoint).orElse(answeredFrom.get());
                    return direct(endpoint, directReason(endpoint, predicted > 0 && !isAdvertised(endpoint)));
                })
                .onMessage(PeerChanged.class, changed -> {
                    peer = changed.peer();
                    pingCandidates();
                    return Behaviors.same();
                })
                .build();
    }

    private Behavior<Command> direct(InetSocketAddress endpoint, String reason) {
        timers.cancelAll();
        failures = 0;
        collisions = 0;
        quietUntil = Long.MIN_VALUE;
        limitTtl = false;
        tried.clear();
        idle = false;
        graceUntil = Long.MIN_VALUE;
        current = endpoint;
        port.useDirect(endpoint);
        timers.startTimerWithFixedDelay(Timer.HEARTBEAT, new Fire(Timer.HEARTBEAT), settings.heartbeat());
        timers.startTimerWithFixedDelay(Timer.REEVALUATE, new Fire(Timer.REEVALUATE), settings.reevaluate());
        enter(TunnelStatus.State.DIRECT, endpoint, latencyOf(endpoint), reason);
        return common()
                .onMessage(Fire.class, fire -> switch (fire.timer()) {
                    case HEARTBEAT -> {
                        long now = clock.getAsLong();
                        if (port.idleFor(settings.idleAfter())) {
                            idle = true;
                            yield Behaviors.same();
                        }
                        if (idle) {
                            // Traffic is back after a pause: the path gets a full timeout to answer again.
                            idle = false;
                            graceUntil = now + settings.directTimeout().toNanos();
                        }
                        long silent = now - lastAnswer(endpoint);
                        if (silent > settings.directTimeout().toNanos() && now > graceUntil) {
                            port.rediscoverEndpoints();
                            answered.remove(endpoint);
                            yield relayed("direct path " + format(endpoint) + " stopped answering (no probe answer for "
                                    + Duration.ofNanos(silent).toSeconds() + " s); relayed until it comes back",
                                    settings.upgradeRetry());
                        }
                        ping(endpoint);
                        yield Behaviors.same();
                    }
                    case REEVALUATE -> {
                        if (idle) {
                            yield Behaviors.same();
                        }
                        for (InetSocketAddress candidate : candidates()) {
                            if (!candidate.equals(endpoint)) {
                                ping(candidate);
                            }
                        }
                        yield Behaviors.same();
                    }
                    default -> Behaviors.same();
                })
                .onMessage(ProbeReceived.class, received -> {
                    if (callOrPing(received, endpoint)) {
                        return Behaviors.same();
                    }
                    if (pong((Pong) received.message(), received.from()).isEmpty()) {
                        return Behaviors.same();
                    }
                    Optional<PathPolicy.Candidate> best = PathPolicy.choose(answered.values(), endpoint,
                            clock.getAsLong(), settings.pathPolicy());
                    if (best.isPresent() && !best.get().endpoint().equals(endpoint)) {
                        return direct(best.get().endpoint(), "moved to " + format(best.get().endpoint()) + ": "
                                + (best.get().lan() ? "a LAN path" : "a faster path") + " (" + millis(best.get().roundTrip())
                                + " vs " + millis(latencyOf(endpoint)) + ")");
                    }
                    publish(TunnelStatus.State.DIRECT, endpoint, latencyOf(endpoint), lastReason);
                    return Behaviors.same();
                })
                .onMessage(PeerChanged.class, changed -> {
                    peer = changed.peer();
                    return Behaviors.same();
                })
                .build();
    }

    /** Handlers every state shares. */
    private BehaviorBuilder<Command> common() {
        return Behaviors.receive(Command.class)
                .onMessage(SelfChanged.class, changed -> {
                    boolean newEndpoints = !self.endpoints().equals(changed.self().endpoints());
                    self = changed.self();
                    if (newEndpoints && lastState == TunnelStatus.State.PROBING && !limitTtl) {
                        // This node's endpoints became known mid-attempt (the first discovery): the peer hears them
                        // through the relay now rather than after control's round trip, and both sides probe.
                        port.sendViaRelay(new CallMeMaybe(callMeMaybeEndpoints(), self.nat().endpointDependent()));
                        pingCandidates();
                    }
                    return Behaviors.same();
                })
                .onMessage(PingPeer.class, asked -> {
                    Ping ping = new Ping(txid());
                    if (current != null) {
                        remember(ping, current, asked.replyTo());
                        port.sendDirect(current, ping);
                    } else if (port.sendViaRelay(ping)) {
                        remember(ping, null, asked.replyTo());
                    }
                    return Behaviors.same();
                })
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .onSignal(PostStop.class, signal -> {
                    port.close();
                    return Behaviors.same();
                });
    }

    // ---- probes --------------------------------------------------------------------------------------

    /**
     * Handles what probing and direct tunnels answer alike: a call-me-maybe (the peer is probing, perhaps because
     * its way to us broke: probe back on every candidate) and a ping (answer it; a ping from an address other than
     * {@code current} teaches a candidate, probed back at once). False for a pong, which each state judges.
     */
    private boolean callOrPing(ProbeReceived received, InetSocketAddress current) {
        ProbeMessage message = received.message();
        if (message instanceof CallMeMaybe call) {
            heardCallMeMaybe(call);
            pingCandidates();
            return true;
        }
        if (message instanceof Ping ping) {
            InetSocketAddress from = received.from();
            boolean wasLimited = limitTtl;
            if (from != null) {
                // The peer's probe got through: its NAT mapping towards us is open, full TTL is safe now.
                heardDirect = true;
                limitTtl = false;
            }
            answer(ping, from);
            if (from != null && !from.equals(current) && (learn(from) || wasLimited)) {
                ping(from);
            }
            return true;
        }
        return false;
    }

    private void pingCandidates() {
        candidates().forEach(this::ping);
    }

    private void ping(InetSocketAddress endpoint) {
        Ping ping = new Ping(txid());
        remember(ping, endpoint, null);
        if (limitTtl && port.sendDirectLimited(endpoint, ping, settings.limitedTtl())) {
            return;
        }
        port.sendDirect(endpoint, ping);
        if (current == null && !isLan(endpoint) && recentTargets.add(endpoint) && recentTargets.size() > MAX_LEARNED) {
            recentTargets.remove(recentTargets.iterator().next());
        }
    }

    /**
     * Before a turn-taking attempt, one ping with TTL 1 to every endpoint probed lately and every candidate: it dies
     * at this node's own gateway, whose conntrack looks its flow up on the way in and so removes an expired entry of
     * the earlier, displaced flow at once. Linux gives a new flow the port of a live or not yet collected mapping of
     * the same socket, so without this the fresh probes could leave again from the displaced port.
     */
    private void sweep() {
        Set<InetSocketAddress> targets = new LinkedHashSet<>(recentTargets);
        targets.addAll(candidates());
        for (InetSocketAddress endpoint : targets) {
            if (!port.sendDirectLimited(endpoint, new Ping(txid()), 1)) {
                return;
            }
        }
        recentTargets.clear();
    }

    /**
     * Opens this node's NAT mapping towards every candidate with TTL-limited pings; false when the port cannot
     * limit the TTL (then nothing was sent, and the attempt goes as an ordinary one).
     */
    private boolean openMapping() {
        boolean any = false;
        for (InetSocketAddress endpoint : candidates()) {
            Ping ping = new Ping(txid());
            if (!port.sendDirectLimited(endpoint, ping, settings.limitedTtl())) {
                return any;
            }
            remember(ping, endpoint, null);
            any = true;
        }
        return any;
    }

    /**
     * Opens this node's mapping once the endpoint its new flows get is known (or could not be learned): TTL-limited
     * pings to every candidate from that port, then a call-me-maybe flagged opened first that names it, so the peer
     * opens towards it or probes it. Without TTL limiting, an ordinary attempt.
     */
    private void open(Optional<InetSocketAddress> learned) {
        awaitingFresh = false;
        timers.cancel(Timer.OPEN);
        freshSelf = learned.orElse(null);
        if (freshSelf != null) {
            context.getLog().debug("new flows from this socket leave from {}", format(freshSelf));
        }
        callThePeer(openMapping());
        timers.startSingleTimer(Timer.PROBE_DEADLINE, new Fire(Timer.PROBE_DEADLINE), settings.probeWindow());
    }

    /**
     * Sends the peer this side's endpoints through the relay: flagged "opened first" when this side has just opened
     * its mapping (its TTL-limited pings are under way), else as an ordinary attempt, probing with full TTL at once.
     */
    private void callThePeer(boolean openedFirst) {
        if (openedFirst) {
            openedThisAttempt = true;
            port.sendViaRelay(new CallMeMaybe(callMeMaybeEndpoints(), self.nat().endpointDependent(), true));
        } else {
            limitTtl = false;
            port.sendViaRelay(new CallMeMaybe(callMeMaybeEndpoints(), self.nat().endpointDependent()));
            pingCandidates();
        }
    }

    private boolean quiet() {
        return clock.getAsLong() < quietUntil;
    }

    /**
     * Whether an attempt that just failed looks like a conntrack collision: both NATs keep one mapping per socket
     * (so a direct path was expected), both sides have public endpoints on different IPs, and nothing came back
     * directly. A gateway that accepts unsolicited input then keeps a local entry for the peer's early probe,
     * and its host's own packets to the peer leave from another port.
     */
    private boolean collisionSuspected() {
        if (heardDirect || !self.nat().udp() || !peer.nat().udp()
                || self.nat().mapping() != io.meshwork.protocol.nat.MappingBehavior.ENDPOINT_INDEPENDENT
                || peer.nat().mapping() != io.meshwork.protocol.nat.MappingBehavior.ENDPOINT_INDEPENDENT
                || self.reflexive().isEmpty() || peer.reflexive().isEmpty()) {
            return false;
        }
        Set<InetAddress> ours = self.reflexive().stream().map(InetSocketAddress::getAddress).collect(Collectors.toSet());
        return peer.reflexive().stream().map(InetSocketAddress::getAddress).noneMatch(ours::contains);
    }

    private String collisionReason(Duration quiet) {
        return "conntrack collision suspected at a gateway that accepts unsolicited input: both NATs keep one "
                + "mapping per socket, yet probes both ways went unanswered; both sides send nothing direct for "
                + quiet.toSeconds() + " s so the stale entries expire, then "
                + (port.opensFirst() ? "this node opens its mapping first with TTL-limited probes and the peer "
                        + "probes it" : "the peer opens its mapping first and this node probes it");
    }

    /** Records, for status, what the attempt that just failed tried. */
    private void noteTried(NatPolicy.Plan plan) {
        List<InetSocketAddress> publicTargets = candidates().stream().filter(e -> !isLan(e)).toList();
        String targets = publicTargets.isEmpty() ? "the peer's LAN endpoints"
                : publicTargets.stream().limit(2).map(PeerTunnel::format).collect(Collectors.joining(", "))
                        + (publicTargets.size() > 2 ? " and " + (publicTargets.size() - 2) + " more" : "");
        String why = !self.nat().udp() ? "this node's UDP to the internet is blocked"
                : !peer.nat().udp() ? "the peer's UDP to the internet is blocked"
                : self.nat().endpointDependent() && peer.nat().endpointDependent()
                        ? "both NATs are endpoint-dependent (symmetric)"
                : peer.nat().endpointDependent() ? "peer's NAT is endpoint-dependent (symmetric)"
                : self.nat().endpointDependent() ? "this node's NAT is endpoint-dependent (symmetric) and the peer's "
                        + "filters by address and port"
                : collisionSuspected() ? "both NATs are endpoint-independent: a conntrack collision is suspected"
                : "no answer came back";
        tried.put("direct", "direct probes to " + targets + " unanswered for " + settings.probeWindow().toSeconds()
                + " s (attempt " + attempts + "); " + why);
        tried.put("ipv6", ipv6Tried());
        if (predicted > 0) {
            tried.put("prediction", "port prediction: " + predicted + " probes over the peer's likely ports, none "
                    + "answered");
        }
    }

    /** What the attempt that just failed did over IPv6, for status (docs/architecture.md, "IPv6 paths"). */
    private String ipv6Tried() {
        if (self.endpoints().stream().noneMatch(PeerTunnel::isIpv6)) {
            return "IPv6: no global IPv6 address here";
        }
        List<InetSocketAddress> targets = candidates().stream().filter(PeerTunnel::isIpv6).toList();
        if (targets.isEmpty()) {
            return "IPv6: the peer reported no global IPv6 address";
        }
        return "IPv6 probes to " + targets.stream().limit(2).map(PeerTunnel::format).collect(Collectors.joining(", "))
                + (targets.size() > 2 ? " and " + (targets.size() - 2) + " more" : "") + " unanswered for "
                + settings.probeWindow().toSeconds() + " s (a firewall on either side drops them)";
    }

    private static boolean isIpv6(InetSocketAddress endpoint) {
        return endpoint.getAddress() instanceof java.net.Inet6Address;
    }

    private void pingViaRelay() {
        Ping ping = new Ping(txid());
        if (port.sendViaRelay(ping)) {
            remember(ping, null, null);
        }
    }

    private void remember(Ping ping, InetSocketAddress endpoint, ActorRef<PingResult> replyTo) {
        if (pending.size() >= MAX_PENDING_PINGS) {
            pending.remove(pending.keySet().iterator().next());
        }
        pending.put(new TxKey(ping.txid()), new SentPing(endpoint, clock.getAsLong(), replyTo));
    }

    /** Answers a ping the way it came: to its source address, or back through the relay. */
    private void answer(Ping ping, InetSocketAddress from) {
        Pong pong = new Pong(ping.txid(), from);
        if (from == null) {
            port.sendViaRelay(pong);
        } else {
            port.sendDirect(from, pong);
        }
    }

    /**
     * Records a pong's round trip. Returns the direct endpoint it proves, if it answers one of our direct pings
     * and came from where that ping went (a pong from elsewhere proves nothing about that path).
     */
    private Optional<InetSocketAddress> pong(Pong pong, InetSocketAddress from) {
        SentPing sent = pending.remove(new TxKey(pong.txid()));
        if (sent == null) {
            return Optional.empty();
        }
        long now = clock.getAsLong();
        Duration roundTrip = Duration.ofNanos(now - sent.sentNanos());
        if (sent.replyTo() != null && (sent.to() == null ? from == null : sent.to().equals(from))) {
            sent.replyTo().tell(new PingResult(sent.to(), roundTrip));
        }
        if (sent.to() == null) {
            relayLatency = roundTrip;
            if (lastState != TunnelStatus.State.DIRECT) {
                publish(lastState, null, relayLatency, lastReason);
            }
            return Optional.empty();
        }
        if (from == null || !from.equals(sent.to())) {
            return Optional.empty();
        }
        answered.put(from, new PathPolicy.Candidate(from, isLan(from), roundTrip, now));
        if (answered.size() > MAX_LEARNED) {
            // Forget the answers heard longest ago: a roaming peer leaves a trail of dead endpoints.
            answered.values().stream().min(java.util.Comparator.comparingLong(PathPolicy.Candidate::lastAnswerNanos))
                    .ifPresent(oldest -> answered.remove(oldest.endpoint()));
        }
        return Optional.of(from);
    }

    /** Adds a candidate the peer did not advertise; the oldest goes when there are too many. */
    private boolean learn(InetSocketAddress endpoint) {
        if (!learned.add(endpoint)) {
            return false;
        }
        if (learned.size() > MAX_LEARNED) {
            learned.remove(learned.iterator().next());
        }
        return true;
    }

    private void heardCallMeMaybe(CallMeMaybe call) {
        peerAskedForPrediction = call.endpointDependentMapping();
        for (InetSocketAddress endpoint : call.endpoints()) {
            if (!peer.endpoints().contains(endpoint)) {
                learn(endpoint);
            }
        }
    }

    /** Fills the prediction queue: likely ports of each public IP of the peer. */
    private void preparePrediction() {
        Map<InetAddress, List<Integer>> portsByIp = new LinkedHashMap<>();
        for (InetSocketAddress endpoint : peer.reflexive()) {
            if (isIpv6(endpoint)) {
                continue; // No NAT in front of it to predict.
            }
            portsByIp.computeIfAbsent(endpoint.getAddress(), ip -> new ArrayList<>()).add(endpoint.getPort());
        }
        if (portsByIp.isEmpty()) {
            return;
        }
        int perIp = Math.max(1, settings.predictionBudget() / portsByIp.size());
        portsByIp.forEach((ip, ports) -> {
            for (int guess : PortPrediction.guesses(peer.localPort(), ports, perIp, random)) {
                InetSocketAddress target = new InetSocketAddress(ip, guess);
                if (!candidates().contains(target)) {
                    predictionQueue.add(target);
                }
            }
        });
    }

    private void sprayPrediction() {
        for (int i = 0; i < settings.predictionBatch() && !predictionQueue.isEmpty(); i++) {
            ping(predictionQueue.poll());
            predicted++;
        }
        if (predictionQueue.isEmpty()) {
            timers.cancel(Timer.PREDICTION);
        }
    }

    private byte[] txid() {
        byte[] txid = new byte[ProbeMessage.TXID_LENGTH];
        random.nextBytes(txid);
        return txid;
    }

    // ---- facts -------------------------------------------------------------------------------------------

    private List<InetSocketAddress> candidates() {
        List<InetSocketAddress> all = new ArrayList<>(peer.endpoints());
        learned.stream().filter(e -> !all.contains(e)).forEach(all::add);
        return all;
    }

    private List<InetSocketAddress> callMeMaybeEndpoints() {
        List<InetSocketAddress> endpoints = self.endpoints();
        if (freshSelf != null && !endpoints.contains(freshSelf)) {
            // The port this node's new flows really leave from, first so that the limit never drops it.
            List<InetSocketAddress> withFresh = new ArrayList<>();
            withFresh.add(freshSelf);
            withFresh.addAll(endpoints);
            endpoints = withFresh;
        }
        return endpoints.size() > CallMeMaybe.MAX_ENDPOINTS ? endpoints.subList(0, CallMeMaybe.MAX_ENDPOINTS) : endpoints;
    }

    private boolean isLan(InetSocketAddress endpoint) {
        return peer.lan().contains(endpoint);
    }

    private boolean isAdvertised(InetSocketAddress endpoint) {
        return peer.endpoints().contains(endpoint);
    }

    private long lastAnswer(InetSocketAddress endpoint) {
        PathPolicy.Candidate candidate = answered.get(endpoint);
        return candidate == null ? Long.MIN_VALUE / 2 : candidate.lastAnswerNanos();
    }

    private Duration latencyOf(InetSocketAddress endpoint) {
        PathPolicy.Candidate candidate = answered.get(endpoint);
        return candidate == null ? null : candidate.roundTrip();
    }

    private String directReason(InetSocketAddress endpoint, boolean byPrediction) {
        String kind = isLan(endpoint) ? "LAN endpoint"
                : byPrediction ? "endpoint found by port prediction (" + predicted + " probes)"
                : isAdvertised(endpoint) ? (isIpv6(endpoint) ? "IPv6 endpoint" : "reflexive endpoint")
                : (isIpv6(endpoint) ? "IPv6 endpoint" : "endpoint") + " the peer's probes came from";
        String note = "";
        if (!isAdvertised(endpoint) && !peer.nat().endpointDependent()) {
            Optional<InetSocketAddress> stun = peer.reflexive().stream()
                    .filter(e -> e.getAddress().equals(endpoint.getAddress()) && e.getPort() != endpoint.getPort())
                    .findFirst();
            if (stun.isPresent()) {
                note = " (the peer's reflexive port for us differs from its STUN port " + stun.get().getPort()
                        + ": a conntrack collision at the peer's gateway)";
            }
        }
        return "direct: " + kind + " " + format(endpoint) + " answered probes" + note;
    }

    private String noDirectPath(NatPolicy.Plan plan, Duration retry) {
        List<InetSocketAddress> tried = candidates();
        String targets = tried.isEmpty() ? "the peer advertised no endpoint"
                : "probes to " + tried.stream().limit(4).map(PeerTunnel::format).collect(Collectors.joining(", "))
                        + (tried.size() > 4 ? " and " + (tried.size() - 4) + " more" : "")
                        + " got no answer within " + settings.probeWindow().toSeconds() + " s";
        String prediction = predicted > 0 ? "; port prediction sent " + predicted + " probes, none answered" : "";
        return "relayed: " + plan.expectation() + "; " + targets + prediction + "; next attempt in "
                + retry.toSeconds() + " s";
    }

    private String lastReason = "";
    private TunnelStatus.State lastState = TunnelStatus.State.RELAYED;
    private long stateSince;

    /** Publishes a new state: its time starts now. */
    private void enter(TunnelStatus.State state, InetSocketAddress endpoint, Duration latency, String reason) {
        stateSince = clock.getAsLong();
        publish(state, endpoint, latency, reason);
    }

    /** Publishes the current state again with news (a latency measured) or a first entry via {@link #enter}. */
    private void publish(TunnelStatus.State state, InetSocketAddress endpoint, Duration latency, String reason) {
        lastReason = reason;
        lastState = state;
        statusSink.accept(new TunnelStatus(state, endpoint, latency, reason, attempts, predicted, stateSince,
                state == TunnelStatus.State.DIRECT ? List.of() : List.copyOf(tried.values())));
        context.getLog().debug("tunnel {}: {}", state, reason);
    }

    private static String format(InetSocketAddress endpoint) {
        return NetcheckReportFormat.address(endpoint);
    }

    private static String millis(Duration duration) {
        return duration == null ? "unmeasured" : String.format(java.util.Locale.ROOT, "%.1f ms", duration.toNanos() / 1e6);
    }
}
