package io.meshwork.protocol.stun;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * When to send and resend one STUN request over UDP, and when to give up (RFC 8489 §6.2.1): the first
 * resend after RTO, each later wait doubled, at most Rc requests in all, and after the last one a wait of
 * Rm × RTO. A budget cuts the whole transaction short, so a caller can bound a probe's total time.
 *
 * @param rto the initial retransmission timeout (RFC 8489 recommends 500 ms or more)
 * @param maxRequests Rc, the number of requests including the first (default 7)
 * @param lastWaitMultiplier Rm, the final wait in units of RTO (default 16)
 * @param budget the longest the transaction may take from the first send
 */
public record RetransmissionSchedule(Duration rto, int maxRequests, int lastWaitMultiplier, Duration budget) {

    /** RFC 8489 §6.2.1 defaults: RTO 500 ms, Rc 7, Rm 16, which take 39.5 s in all. */
    public static final RetransmissionSchedule RFC_8489_DEFAULT =
            new RetransmissionSchedule(Duration.ofMillis(500), 7, 16, Duration.ofMillis(39_500));

    public RetransmissionSchedule {
        Objects.requireNonNull(rto, "rto");
        Objects.requireNonNull(budget, "budget");
        if (rto.isNegative() || rto.isZero() || maxRequests < 1 || lastWaitMultiplier < 1
                || budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("RTO, Rc, Rm and the budget must be positive");
        }
    }

    /** The same timers, cut to end no later than {@code budget} after the first send. */
    public RetransmissionSchedule withBudget(Duration newBudget) {
        return new RetransmissionSchedule(rto, maxRequests, lastWaitMultiplier, newBudget);
    }

    /** The offsets from the first send at which each request goes out: 0, RTO, 3 RTO, 7 RTO, ... */
    public List<Duration> sendOffsets() {
        List<Duration> offsets = new ArrayList<>(maxRequests);
        Duration at = Duration.ZERO;
        Duration wait = rto;
        for (int i = 0; i < maxRequests && at.compareTo(budget) < 0; i++) {
            offsets.add(at);
            at = at.plus(wait);
            wait = wait.multipliedBy(2);
        }
        return List.copyOf(offsets);
    }

    /** The offset from the first send after which the transaction has failed. */
    public Duration timeout() {
        Duration full = Duration.ZERO;
        Duration wait = rto;
        for (int i = 1; i < maxRequests; i++) {
            full = full.plus(wait);
            wait = wait.multipliedBy(2);
        }
        full = full.plus(rto.multipliedBy(lastWaitMultiplier));
        return full.compareTo(budget) < 0 ? full : budget;
    }
}
