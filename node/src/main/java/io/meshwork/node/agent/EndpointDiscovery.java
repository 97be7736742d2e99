package io.meshwork.node.agent;

import io.meshwork.protocol.api.Endpoint;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Finds this node's endpoints (docs/architecture.md, "Node"): its LAN addresses and, by STUN on the WireGuard socket,
 * its public ones and its NAT's behaviour. Probes at start, every probe interval, whenever the host's addresses change
 * (checked every {@link #ADDRESS_CHECK}), and when a tunnel's direct path died (a NAT may have rebound). One probe runs
 * at a time; asks that come meanwhile make one more.
 *
 * <p>The first discovery can publish twice ({@link #createWithPreliminary}): its endpoints as soon as the first STUN
 * server answered, without a NAT report, so control and the peers learn where this node is without waiting for the
 * NAT tests' silences (a second or two), and then the whole discovery. Later probes publish once, when done.
 */
public final class EndpointDiscovery {

    public sealed interface Command {}

    /** Probe as soon as possible. */
    public record ProbeNow(String why) implements Command {}

    private record Probed(Discovered result, Throwable failure) implements Command {}

    /** The running first probe's endpoints, before its NAT tests finished. */
    private record Preliminary(Discovered result) implements Command {}

    private record Fire(Timer timer) implements Command {}

    private enum Timer { PROBE, ADDRESS_CHECK }

    /** How often the host's own addresses are compared with the last ones seen. */
    static final Duration ADDRESS_CHECK = Duration.ofSeconds(2);

    /**
     * One discovery's outcome.
     *
     * @param endpoints the gateway's port mapping ("portmap"), LAN ("local") and STUN-reflexive ("stun") endpoints
     *                  of the WireGuard socket
     * @param nat       the netcheck report's fields, empty when no STUN server is configured
     */
    public record Discovered(List<Endpoint> endpoints, Map<String, Object> nat, Set<String> publicIps) {}

    private final ActorContext<Command> context;
    /** Starts one discovery; it hands its preliminary endpoints to the consumer when that is not null. */
    private final Function<Consumer<Discovered>, CompletionStage<Discovered>> probe;
    private final Supplier<List<String>> localAddresses;
    private final Consumer<Discovered> publish;
    /** Whether anything was published yet: until then a probe may publish its endpoints early. */
    private boolean published;
    private boolean inFlight;
    private boolean again;
    private List<String> lastAddresses;

    private EndpointDiscovery(ActorContext<Command> context,
            Function<Consumer<Discovered>, CompletionStage<Discovered>> probe,
            Supplier<List<String>> localAddresses, Consumer<Discovered> publish) {
        this.context = context;
        this.probe = probe;
        this.localAddresses = localAddresses;
        this.publish = publish;
    }

    /**
     * @param probe          runs one discovery (blocking: STUN round trips); called on {@code blocking}
     * @param localAddresses the host's current addresses (cheap)
     * @param publish        receives each discovery's outcome
     */
    public static Behavior<Command> create(Supplier<Discovered> probe, Supplier<List<String>> localAddresses,
            Duration interval, Consumer<Discovered> publish, Executor blocking) {
        return createAsync(() -> CompletableFuture.supplyAsync(probe, blocking), localAddresses, interval, publish);
    }

    /**
     * As {@link #create}, for a probe that does not block: it answers with a stage that completes when the
     * discovery is done (the in-JVM simulation probes on virtual time this way).
     *
     * @param probe starts one discovery
     */
    public static Behavior<Command> createAsync(Supplier<CompletionStage<Discovered>> probe,
            Supplier<List<String>> localAddresses, Duration interval, Consumer<Discovered> publish) {
        return discovery(preliminary -> probe.get(), localAddresses, interval, publish);
    }

    /**
     * As {@link #create}, for a probe that can tell its endpoints before it is done: the first discovery publishes
     * them as soon as the probe hands them over (from {@code blocking}'s thread), then publishes the whole discovery.
     *
     * @param probe runs one discovery (blocking); it may call its argument, when not null, once with the endpoints
     *              found so far and an empty NAT report
     */
    public static Behavior<Command> createWithPreliminary(Function<Consumer<Discovered>, Discovered> probe,
            Supplier<List<String>> localAddresses, Duration interval, Consumer<Discovered> publish,
            Executor blocking) {
        return discovery(preliminary -> CompletableFuture.supplyAsync(() -> probe.apply(preliminary), blocking),
                localAddresses, interval, publish);
    }

    private static Behavior<Command> discovery(Function<Consumer<Discovered>, CompletionStage<Discovered>> probe,
            Supplier<List<String>> localAddresses, Duration interval, Consumer<Discovered> publish) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
            EndpointDiscovery discovery = new EndpointDiscovery(context, probe, localAddresses, publish);
            timers.startTimerWithFixedDelay(Timer.PROBE, new Fire(Timer.PROBE), interval);
            timers.startTimerWithFixedDelay(Timer.ADDRESS_CHECK, new Fire(Timer.ADDRESS_CHECK), ADDRESS_CHECK);
            discovery.lastAddresses = localAddresses.get();
            discovery.start("start");
            return discovery.behavior();
        }));
    }

    private Behavior<Command> behavior() {
        return Behaviors.receive(Command.class)
                .onMessage(ProbeNow.class, ask -> {
                    start(ask.why());
                    return Behaviors.same();
                })
                .onMessage(Fire.class, fire -> {
                    if (fire.timer() == Timer.PROBE) {
                        start("periodic");
                    } else {
                        List<String> now = localAddresses.get();
                        if (!now.equals(lastAddresses)) {
                            context.getLog().info("local addresses changed from {} to {}: probing again",
                                    lastAddresses, now);
                            lastAddresses = now;
                            start("local addresses changed");
                        }
                    }
                    return Behaviors.same();
                })
                .onMessage(Preliminary.class, preliminary -> {
                    if (!published) {
                        published = true;
                        context.getLog().debug("endpoints before the NAT tests finished: {}",
                                preliminary.result().endpoints());
                        publish.accept(preliminary.result());
                    }
                    return Behaviors.same();
                })
                .onMessage(Probed.class, probed -> {
                    inFlight = false;
                    if (probed.failure() != null) {
                        context.getLog().warn("endpoint discovery failed: {}", probed.failure().toString());
                    } else {
                        published = true;
                        publish.accept(probed.result());
                    }
                    if (again) {
                        again = false;
                        start("asked during the last probe");
                    }
                    return Behaviors.same();
                })
                .build();
    }

    private void start(String why) {
        if (inFlight) {
            again = true;
            return;
        }
        inFlight = true;
        context.getLog().debug("probing endpoints: {}", why);
        CompletionStage<Discovered> probing;
        ActorRef<Command> self = context.getSelf();
        Consumer<Discovered> preliminary = published ? null : early -> self.tell(new Preliminary(early));
        try {
            probing = probe.apply(preliminary);
        } catch (RuntimeException e) {
            probing = CompletableFuture.failedFuture(e);
        }
        context.pipeToSelf(probing, Probed::new);
    }
}
