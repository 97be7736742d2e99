package io.meshwork.node.agent;

import io.meshwork.protocol.api.EndpointReport;
import io.meshwork.protocol.api.PeerMapEvent;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * This node's session with control: holds the peer-map stream (snapshot, then changes), applies each event,
 * reconnects with exponential backoff and resumes from the last revision it saw, and reports endpoints. Control
 * refusing the device (revoked, deleted) ends the agent.
 *
 * <p>Supervised: should applying an event throw, the session restarts (with backoff), drops the stream it had and
 * follows the peer map again from a full snapshot, so the node never silently stops following revocations.
 */
public final class ControlSession {

    public sealed interface Command {}

    /** Opens the stream: sent once whoever applies the events is ready for them. */
    public enum Start implements Command { INSTANCE }

    /** Sends this node's endpoints and NAT report to control. */
    public record Report(EndpointReport report) implements Command {}

    private record Event(long generation, PeerMapEvent event) implements Command {}

    private record Ended(long generation, Throwable failure) implements Command {}

    private record Reported(Throwable failure) implements Command {}

    private enum Timer { RECONNECT }

    private record Reconnect() implements Command {}

    static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** How often a device waiting for approval asks whether it has been let in. */
    static final Duration PENDING_POLL = Duration.ofSeconds(5);

    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private final ControlClient control;
    private final String token;
    private final Consumer<PeerMapEvent> apply;
    private final Runnable refused;
    private final Executor blocking;
    private final Consumer<String> state;
    private final Lifetime lifetime;
    /** The last revision applied; 0 after a restart, so the stream starts over from a snapshot. */
    private long revision;
    private Thread stream;
    private Duration backoff = FIRST_BACKOFF;
    /** Whether "waiting for approval" was logged: once, not every poll. */
    private boolean pendingLogged;
    private String lastState;

    private ControlSession(ActorContext<Command> context, TimerScheduler<Command> timers, ControlClient control,
            String token, Consumer<PeerMapEvent> apply, Runnable refused, Executor blocking, Consumer<String> state,
            Lifetime lifetime) {
        this.context = context;
        this.lifetime = lifetime;
        this.timers = timers;
        this.control = control;
        this.token = token;
        this.apply = apply;
        this.refused = refused;
        this.blocking = blocking;
        this.state = state;
    }

    /**
     * @param apply   applies one peer-map event (called on the actor)
     * @param refused called once when control refuses this device for good
     */
    public static Behavior<Command> create(ControlClient control, String deviceToken, Consumer<PeerMapEvent> apply,
            Runnable refused, Executor blocking) {
        return create(control, deviceToken, apply, refused, blocking, any -> { });
    }

    /**
     * @param state told the session's state in words whenever it changes ({@value #CONNECTED},
     *              {@value #WAITING_FOR_APPROVAL}, or "reconnecting: why"), for {@code meshwork status}
     */
    public static Behavior<Command> create(ControlClient control, String deviceToken, Consumer<PeerMapEvent> apply,
            Runnable refused, Executor blocking, Consumer<String> state) {
        Lifetime lifetime = new Lifetime();
        return Behaviors.supervise(Behaviors.<Command>setup(context -> Behaviors.withTimers(timers -> {
            ControlSession session = new ControlSession(context, timers, control, deviceToken, apply, refused,
                    blocking, state, lifetime);
            if (lifetime.started) {
                context.getLog().warn("control session restarted after a failure; following the peer map again "
                        + "from a full snapshot");
                session.connect();
            }
            return session.behavior();
        }))).onFailure(SupervisorStrategy.restartWithBackoff(FIRST_BACKOFF, MAX_BACKOFF, 0.2));
    }

    /** What outlives a restart: whether the stream was started, and the stream generations handed out. */
    private static final class Lifetime {
        boolean started;
        long generation;
    }

    public static final String CONNECTED = "connected";
    public static final String WAITING_FOR_APPROVAL = "waiting for an administrator to approve this device";

    /** Tells {@link #state} the session's state when it changed. */
    private void state(String now) {
        if (!now.equals(lastState)) {
            lastState = now;
            state.accept(now);
        }
    }

    private Behavior<Command> behavior() {
        return Behaviors.receive(Command.class)
                .onMessageEquals(Start.INSTANCE, () -> {
                    if (stream == null) {
                        lifetime.started = true;
                        connect();
                    }
                    return Behaviors.same();
                })
                .onMessage(Event.class, received -> {
                    if (received.generation() != lifetime.generation) {
                        return Behaviors.same();
                    }
                    PeerMapEvent event = received.event();
                    apply.accept(event);
                    pendingLogged = false;
                    state(CONNECTED);
                    revision = Math.max(revision, event.revision());
                    backoff = FIRST_BACKOFF;
                    return Behaviors.same();
                })
                .onMessage(Ended.class, ended -> {
                    if (ended.generation() != lifetime.generation) {
                        return Behaviors.same();
                    }
                    Throwable failure = ended.failure();
                    if (failure instanceof ControlClient.ControlException refusal && refusal.isPermanent()) {
                        context.getLog().error("control refused this device ({}); stopping", refusal.getMessage());
                        refused.run();
                        return Behaviors.stopped();
                    }
                    if (failure instanceof ControlClient.ControlException waiting && waiting.isPendingApproval()) {
                        // Not an error: asked again at a steady pace until an administrator approves the device.
                        if (!pendingLogged) {
                            state(WAITING_FOR_APPROVAL);
                            context.getLog().warn("this device waits for an administrator to approve it; "
                                    + "no peers until then (asking every {} s)", PENDING_POLL.toSeconds());
                            pendingLogged = true;
                        }
                        timers.startSingleTimer(Timer.RECONNECT, new Reconnect(), PENDING_POLL);
                        return Behaviors.same();
                    }
                    state("reconnecting: " + (failure == null ? "closed by control" : failure.getMessage()));
                    context.getLog().warn("peer stream ended ({}); reconnecting in {} ms from revision {}",
                            failure == null ? "closed by control" : failure.toString(), backoff.toMillis(), revision);
                    timers.startSingleTimer(Timer.RECONNECT, new Reconnect(), backoff);
                    backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                    return Behaviors.same();
                })
                .onMessage(Reconnect.class, reconnect -> {
                    connect();
                    return Behaviors.same();
                })
                .onMessage(Report.class, report -> {
                    context.pipeToSelf(CompletableFuture.runAsync(() -> {
                        try {
                            control.reportEndpoints(token, report.report());
                        } catch (Exception e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    }, blocking), (done, failure) -> new Reported(failure));
                    return Behaviors.same();
                })
                .onMessage(Reported.class, reported -> {
                    if (reported.failure() != null) {
                        context.getLog().warn("endpoint report failed (the next probe reports again): {}",
                                reported.failure().toString());
                    }
                    return Behaviors.same();
                })
                .onSignal(PostStop.class, signal -> {
                    if (stream != null) {
                        stream.interrupt();
                    }
                    return Behaviors.same();
                })
                .onSignal(PreRestart.class, signal -> {
                    if (stream != null) {
                        stream.interrupt();
                    }
                    return Behaviors.same();
                })
                .build();
    }

    /** Opens the stream on a thread of its own (it blocks on the HTTP response); events come back as messages. */
    private void connect() {
        long current = ++lifetime.generation;
        long since = revision;
        ActorRef<Command> self = context.getSelf();
        stream = new Thread(() -> {
            Throwable failure = null;
            try {
                control.followPeers(token, since, event -> self.tell(new Event(current, event)));
            } catch (Exception e) {
                failure = e;
            }
            self.tell(new Ended(current, failure));
        }, "node-peer-stream");
        stream.setDaemon(true);
        stream.start();
    }
}
