package io.meshwork.node.relay;

import java.time.Duration;

/**
 * Exponential backoff with full jitter: the n-th consecutive failure waits a random time in
 * [base·2ⁿ⁻¹ / 2, base·2ⁿ⁻¹], capped at {@code max}, so a relay restart is not met by every node at once.
 */
final class Backoff {

    private final Duration initial;
    private final Duration max;

    Backoff(Duration initial, Duration max) {
        this.initial = initial;
        this.max = max;
    }

    /**
     * @param failures consecutive failures so far, at least 1
     * @param unitRandom a random number in [0, 1)
     */
    Duration delay(int failures, double unitRandom) {
        // Twenty doublings already exceed any sensible cap; stopping there keeps the shift from overflowing.
        int doublings = Math.min(Math.max(failures, 1) - 1, 20);
        long ceiling = Math.min(max.toMillis(), initial.toMillis() << doublings);
        long floor = ceiling / 2;
        return Duration.ofMillis(floor + (long) ((ceiling - floor) * unitRandom));
    }
}
