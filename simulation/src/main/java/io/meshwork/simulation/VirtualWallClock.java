package io.meshwork.simulation;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * Wall time on the simulation's clock: a fixed epoch plus virtual time, for code that compares instants with
 * certificates and challenges (the relay). A run never reads the real clock, so it is the same every time.
 */
public final class VirtualWallClock extends Clock {

    private final SimScheduler scheduler;
    private final Instant epoch;

    public VirtualWallClock(SimScheduler scheduler, Instant epoch) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.epoch = Objects.requireNonNull(epoch, "epoch");
    }

    /** The instant virtual time zero stands for. */
    public Instant epoch() {
        return epoch;
    }

    @Override
    public Instant instant() {
        return epoch.plusNanos(scheduler.nowNanos());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        if (!ZoneOffset.UTC.equals(zone)) {
            throw new UnsupportedOperationException("virtual wall time is kept in UTC");
        }
        return this;
    }
}
