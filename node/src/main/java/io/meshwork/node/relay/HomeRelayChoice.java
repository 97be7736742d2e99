package io.meshwork.node.relay;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which relay is a node's home (docs/architecture.md, "Relay selection and failover"): the one with the lowest
 * measured round trip, with hysteresis so that homes do not flap (Tailscale's rule). A node moves from its home to
 * a faster relay only when that one is at least {@link #MIN_IMPROVEMENT} and a third faster, and never while its home
 * delivered a frame within {@link #ACTIVE_WINDOW}; it leaves at once, for the fastest other relay, a home that control
 * no longer lists, that failed (closed, or silent for 5 s while traffic was pending), or that stopped answering
 * measurements while idle. A pure function of what it is given: no clock, no I/O.
 */
public final class HomeRelayChoice {

    /** A faster relay must beat the home by at least this much (and by a third) to take its place. */
    public static final Duration MIN_IMPROVEMENT = Duration.ofMillis(10);
    /** A home that delivered a frame this recently is kept whatever the measurements say. */
    public static final Duration ACTIVE_WINDOW = Duration.ofSeconds(8);

    /**
     * What the choice is made from.
     *
     * @param home                 the current home relay's name, or null for none yet
     * @param listed               the relays control lists now (names)
     * @param latencies            the latest round trip to each listed relay that answered; a relay that did not
     *                             answer is absent
     * @param sinceHomeDelivered   how long ago the home relay delivered traffic (a WireGuard packet; the agent does
     *                             not count disco pings or relay pongs, which flow on idle paths too); null when
     *                             it never did
     * @param homeFailed           the connection to the home relay closed, or it was silent for the failover time
     *                             while traffic was pending
     */
    public record Facts(String home, Set<String> listed, Map<String, Duration> latencies, Duration sinceHomeDelivered,
            boolean homeFailed) {
        public Facts {
            listed = Set.copyOf(listed);
            latencies = Map.copyOf(latencies);
        }
    }

    private HomeRelayChoice() {}

    /** The home relay to have: the current one, another, or empty when no relay can be used. */
    public static Optional<String> choose(Facts facts) {
        String home = facts.home();
        boolean homeListed = home != null && facts.listed().contains(home);
        if (homeListed && !facts.homeFailed() && recentlyActive(facts)) {
            return Optional.of(home);
        }
        Duration homeLatency = homeListed && !facts.homeFailed() ? facts.latencies().get(home) : null;
        Optional<String> candidate = fastest(facts, homeListed && !facts.homeFailed() ? null : home);
        if (homeLatency == null) {
            if (candidate.isPresent()) {
                return candidate;
            }
            // Nothing else answers: a listed home that did not fail is kept (it may answer again); a failed or
            // withdrawn one is left.
            return homeListed && !facts.homeFailed() ? Optional.of(home) : Optional.empty();
        }
        return candidate.filter(other -> clearlyFaster(facts.latencies().get(other), homeLatency))
                .or(() -> Optional.of(home));
    }

    /** Whether {@code candidate} beats {@code home} by at least {@link #MIN_IMPROVEMENT} and by a third. */
    static boolean clearlyFaster(Duration candidate, Duration home) {
        return candidate.plus(MIN_IMPROVEMENT).compareTo(home) <= 0
                && candidate.multipliedBy(3).compareTo(home.multipliedBy(2)) <= 0;
    }

    private static boolean recentlyActive(Facts facts) {
        return facts.sinceHomeDelivered() != null && facts.sinceHomeDelivered().compareTo(ACTIVE_WINDOW) < 0;
    }

    /** The listed relay with the lowest round trip other than {@code excluded}; ties go to the lower name. */
    private static Optional<String> fastest(Facts facts, String excluded) {
        return facts.latencies().entrySet().stream()
                .filter(entry -> facts.listed().contains(entry.getKey()) && !entry.getKey().equals(excluded))
                .min(Map.Entry.<String, Duration>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey);
    }
}
