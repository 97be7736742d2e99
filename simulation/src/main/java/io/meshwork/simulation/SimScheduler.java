package io.meshwork.simulation;

import java.time.Duration;
import java.util.Random;

/**
 * Virtual time for the simulation: a clock that moves only when the driver advances it, and timers on that
 * clock. Everything random in a simulation draws from {@link #random()}, so one seed gives one run.
 */
public interface SimScheduler {

    /** Nanoseconds of virtual time since the simulation started. */
    long nowNanos();

    /** Virtual time since the simulation started. */
    default Duration now() {
        return Duration.ofNanos(nowNanos());
    }

    /**
     * Runs {@code task} on the driving thread once {@code delayNanos} of virtual time have passed (at once,
     * in order, when the delay is zero or negative). Tasks due at the same instant run in the order scheduled.
     */
    Cancellable schedule(long delayNanos, Runnable task);

    default Cancellable schedule(Duration delay, Runnable task) {
        return schedule(delay.toNanos(), task);
    }

    /** The simulation's one source of randomness, seeded at creation. */
    Random random();
}
