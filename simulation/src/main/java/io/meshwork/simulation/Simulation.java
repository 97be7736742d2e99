package io.meshwork.simulation;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * One simulated world for a scenario: the virtual clock, the network on it, and an executor for code that wants
 * a {@link java.util.concurrent.ScheduledExecutorService}. Events (a link going down, a NAT flushing, a host
 * moving) are scheduled with {@link #at} so they happen at a virtual instant, between packets.
 *
 * <pre>{@code
 * Simulation sim = Simulation.withSeed(42);
 * SimStunServer stun = SimStunServer.rfc5780(sim.network(), "stun", "203.0.113.10", "203.0.113.11", 3478);
 * Site home = NatPreset.SYMMETRIC_RANDOM.build(sim.network(), "home");
 * VirtualTransport socket = home.addHost("node").bind(41641);
 * sim.at(Duration.ofSeconds(30), () -> home.requireNat().flushMappings());
 * sim.advance(Duration.ofMinutes(1));
 * }</pre>
 */
public final class Simulation {

    private final DiscreteEventScheduler scheduler;
    private final VirtualNetwork network;
    private final VirtualTimeExecutor executor;

    private Simulation(long seed) {
        this.scheduler = new DiscreteEventScheduler(seed);
        this.network = new VirtualNetwork(scheduler);
        this.executor = new VirtualTimeExecutor(scheduler);
    }

    public static Simulation withSeed(long seed) {
        return new Simulation(seed);
    }

    public DiscreteEventScheduler scheduler() {
        return scheduler;
    }

    public VirtualNetwork network() {
        return network;
    }

    /** Timers on virtual time, for the STUN client, the NAT prober and other users of an executor. */
    public VirtualTimeExecutor executor() {
        return executor;
    }

    /** Virtual time since the start. */
    public Duration now() {
        return scheduler.now();
    }

    /** Runs {@code event} once {@code delay} from now has passed. */
    public Cancellable at(Duration delay, Runnable event) {
        return scheduler.schedule(delay, event);
    }

    public void advance(Duration duration) {
        scheduler.advance(duration);
    }

    /** Runs until {@code condition} holds or {@code limit} has passed; see {@link DiscreteEventScheduler#runUntil}. */
    public boolean runUntil(BooleanSupplier condition, Duration limit) {
        return scheduler.runUntil(condition, limit);
    }
}
