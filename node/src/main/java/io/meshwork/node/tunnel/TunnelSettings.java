package io.meshwork.node.tunnel;

import io.meshwork.protocol.path.PathPolicy;
import java.time.Duration;

/**
 * The clocks of a {@link PeerTunnel}.
 *
 * @param probeInterval     how often a probing tunnel pings every candidate again
 * @param probeWindow       how long probing lasts before the tunnel settles on the relay
 * @param heartbeat         how often a direct tunnel pings its endpoint
 * @param directTimeout     a direct endpoint silent this long is dead: traffic falls back to the relay
 * @param upgradeRetry      the first wait before probing again after a failed attempt; doubles per failure
 * @param upgradeRetryMax   the longest wait between attempts
 * @param reevaluate        how often a direct tunnel pings the other candidates to look for a better path
 * @param relayPing         how often a relayed tunnel measures the relay path's round trip
 * @param predictionBudget  at most this many port-prediction probes per attempt
 * @param predictionBatch   probes sent per {@code predictionPace}
 * @param predictionPace    the pause between prediction batches, so a burst does not overflow NAT tables
 * @param idleAfter         a direct path without data for this long is no longer heartbeated
 * @param collisionQuiet    after an attempt that failed between two endpoint-independent NATs (a conntrack
 *                          collision at a gateway that accepts unsolicited input), how long both sides send
 *                          nothing direct to each other so the stale entries expire (Linux forgets an unreplied
 *                          UDP entry after 30 s); doubled for each further such failure
 * @param limitedTtl        the IP TTL of the probes that open this node's mapping first without reaching the
 *                          peer's gateway: 2 passes the node's own NAT and dies at the next router
 */
public record TunnelSettings(
        Duration probeInterval,
        Duration probeWindow,
        Duration heartbeat,
        Duration directTimeout,
        Duration upgradeRetry,
        Duration upgradeRetryMax,
        Duration reevaluate,
        Duration relayPing,
        int predictionBudget,
        int predictionBatch,
        Duration predictionPace,
        Duration idleAfter,
        PathPolicy.Settings pathPolicy,
        Duration collisionQuiet,
        int limitedTtl) {

    /**
     * The system property that sets {@link #collisionQuiet} (an ISO-8601 duration such as {@code PT12S}, between 1 s
     * and 10 min): for a network whose gateways forget unreplied UDP sooner than Linux's 30 s (a lab that lowers
     * {@code net.netfilter.nf_conntrack_udp_timeout} to save time). Unset, malformed or out of range: 35 s.
     */
    public static final String COLLISION_QUIET_PROPERTY = "meshwork.tunnel.collision-quiet";

    /** The quiet period when {@link #COLLISION_QUIET_PROPERTY} does not set one. */
    public static final Duration DEFAULT_COLLISION_QUIET = Duration.ofSeconds(35);

    /** Settings with the default collision handling. */
    public TunnelSettings(Duration probeInterval, Duration probeWindow, Duration heartbeat, Duration directTimeout,
            Duration upgradeRetry, Duration upgradeRetryMax, Duration reevaluate, Duration relayPing,
            int predictionBudget, int predictionBatch, Duration predictionPace, Duration idleAfter,
            PathPolicy.Settings pathPolicy) {
        this(probeInterval, probeWindow, heartbeat, directTimeout, upgradeRetry, upgradeRetryMax, reevaluate,
                relayPing, predictionBudget, predictionBatch, predictionPace, idleAfter, pathPolicy,
                collisionQuiet(System.getProperty(COLLISION_QUIET_PROPERTY)), 2);
    }

    public static TunnelSettings defaults() {
        return new TunnelSettings(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofSeconds(2),
                Duration.ofSeconds(6), Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(20),
                Duration.ofSeconds(5), 256, 32, Duration.ofMillis(50), Duration.ofSeconds(60),
                PathPolicy.Settings.defaults());
    }

    /** The quiet period {@code value} (of {@link #COLLISION_QUIET_PROPERTY}) asks for, else the default. */
    static Duration collisionQuiet(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_COLLISION_QUIET;
        }
        try {
            Duration quiet = Duration.parse(value.trim());
            return quiet.compareTo(Duration.ofSeconds(1)) >= 0 && quiet.compareTo(Duration.ofMinutes(10)) <= 0
                    ? quiet : DEFAULT_COLLISION_QUIET;
        } catch (java.time.format.DateTimeParseException e) {
            return DEFAULT_COLLISION_QUIET;
        }
    }

    /** The quiet period after the {@code recoveries}-th attempt that failed as a suspected collision (1, 2, …). */
    public Duration collisionQuietAfter(int recoveries) {
        return collisionQuiet.multipliedBy(1L << Math.min(Math.max(recoveries - 1, 0), 3));
    }

    /** The wait before attempt {@code failures + 1}: exponential from {@link #upgradeRetry}, capped. */
    public Duration retryAfter(int failures) {
        long millis = upgradeRetry.toMillis() << Math.min(Math.max(failures - 1, 0), 10);
        return Duration.ofMillis(Math.min(millis, upgradeRetryMax.toMillis()));
    }
}
