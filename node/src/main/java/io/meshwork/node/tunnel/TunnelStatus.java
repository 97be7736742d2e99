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
 */
public record TunnelStatus(State state, InetSocketAddress endpoint, Duration latency, String reason, int attempts,
        int predicted, long sinceNanos) {

    public enum State { RELAYED, PROBING, DIRECT }

    /** "direct" or "relay" (probing runs over the relay until a direct endpoint answers). */
    public String path() {
        return state == State.DIRECT ? "direct" : "relay";
    }
}
