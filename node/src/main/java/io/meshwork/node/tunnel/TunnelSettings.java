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
        PathPolicy.Settings pathPolicy) {

    public static TunnelSettings defaults() {
        return new TunnelSettings(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofSeconds(2),
                Duration.ofSeconds(6), Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(20),
                Duration.ofSeconds(5), 256, 32, Duration.ofMillis(50), Duration.ofSeconds(60),
                PathPolicy.Settings.defaults());
    }

    /** The wait before attempt {@code failures + 1}: exponential from {@link #upgradeRetry}, capped. */
    public Duration retryAfter(int failures) {
        long millis = upgradeRetry.toMillis() << Math.min(Math.max(failures - 1, 0), 10);
        return Duration.ofMillis(Math.min(millis, upgradeRetryMax.toMillis()));
    }
}
