package io.meshwork.node.relay;

import java.time.Duration;

/**
 * When a node leaves its relay for the next one (docs/architecture.md, "Relay selection and failover"): the relay
 * delivered nothing for {@link #SILENCE} while the node was waiting for it (it sent traffic or a keepalive since the
 * relay last spoke), or while the connection was down (closed, reset, refused or never up). A relay that is merely
 * idle is not left: its keepalive pings are answered. A pure function; the caller measures.
 */
public final class RelayFailover {

    /** How long a relay may stay silent while the node waits for it. */
    public static final Duration SILENCE = Duration.ofSeconds(5);

    private RelayFailover() {}

    /**
     * @param connected      whether the relay client holds an authenticated session now
     * @param silence        how long since the relay last delivered a frame (since the client started if never)
     * @param awaitingRelay  whether something was sent to the relay since then
     */
    public static boolean shouldLeave(boolean connected, Duration silence, boolean awaitingRelay) {
        return silence.compareTo(SILENCE) >= 0 && (!connected || awaitingRelay);
    }
}
