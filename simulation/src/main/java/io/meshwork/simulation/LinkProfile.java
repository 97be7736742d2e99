package io.meshwork.simulation;

import java.time.Duration;
import java.util.Objects;

/**
 * How a link treats the packets crossing it: a fixed one-way latency, plus up to {@code jitter} more drawn
 * uniformly per packet (so packets may overtake each other, as on real paths), and a loss probability.
 */
public record LinkProfile(Duration latency, Duration jitter, double lossProbability) {

    /** A LAN cable: a tenth of a millisecond, nothing lost. */
    public static final LinkProfile LAN = new LinkProfile(Duration.ofNanos(100_000), Duration.ZERO, 0);

    public LinkProfile {
        Objects.requireNonNull(latency, "latency");
        Objects.requireNonNull(jitter, "jitter");
        if (latency.isNegative() || jitter.isNegative()) {
            throw new IllegalArgumentException("latency and jitter cannot be negative");
        }
        if (!(lossProbability >= 0 && lossProbability <= 1)) {
            throw new IllegalArgumentException("loss probability must be within [0, 1]: " + lossProbability);
        }
    }

    /** A loss-free link with a fixed latency. */
    public static LinkProfile of(Duration latency) {
        return new LinkProfile(latency, Duration.ZERO, 0);
    }

    public LinkProfile withJitter(Duration newJitter) {
        return new LinkProfile(latency, newJitter, lossProbability);
    }

    public LinkProfile withLoss(double newLossProbability) {
        return new LinkProfile(latency, jitter, newLossProbability);
    }
}
