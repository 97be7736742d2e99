package io.meshwork.node.tunnel;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A tunnel's state as {@code status} shows it.
 *
 * @param state      RELAYED, PROBING or DIRECT
 * @param endpoint   the direct endpoint in use, null unless DIRECT
 * @param latency    the latest round trip on the path in use (probe ping to pong), null before one was measured
 * @param reason     why the path is what it is, in words
 * @param attempts   direct attempts so far
 * @param predicted  port-prediction probes sent in the latest attempt (0 when none was tried)
 * @param sinceNanos when the tunnel entered this state (the tunnel's clock)
 * @param tried      while not direct: each way to a direct path tried so far and why it failed, in words
 *                   (at most one entry per way, the latest)
 */
public record TunnelStatus(State state, InetSocketAddress endpoint, Duration latency, String reason, int attempts,
        int predicted, long sinceNanos, java.util.List<String> tried) {

    public TunnelStatus {
        tried = tried == null ? java.util.List.of() : java.util.List.copyOf(tried);
    }

    /** A status with nothing tried yet. */
    public TunnelStatus(State state, InetSocketAddress endpoint, Duration latency, String reason, int attempts,
            int predicted, long sinceNanos) {
        this(state, endpoint, latency, reason, attempts, predicted, sinceNanos, java.util.List.of());
    }

    public enum State { RELAYED, PROBING, DIRECT }

    /** "direct" or "relay" (probing runs over the relay until a direct endpoint answers). */
    public String path() {
        return state == State.DIRECT ? "direct" : "relay";
    }
}
