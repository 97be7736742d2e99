package io.meshwork.node.agent;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first time each step of connection set-up happened (docs/performance.md, "Connection set-up"): registration,
 * the relay connection, the first endpoint discovery and report, each peer's arrival in the peer map, the first
 * WireGuard handshake messages through the relay, the first direct probes and each tunnel's first path states. Each
 * step is logged once, at debug level on this class's logger, with the wall clock in milliseconds since the epoch
 * (comparable across the processes of one host) and the time since the agent started, so a lab test or an operator
 * can read where the time to the first packet and to the direct path goes. Nothing is logged at the default level.
 *
 * <p>Bounded: at most {@value #MAX_STEPS} distinct steps are remembered (a few per peer); later ones are not logged.
 * Thread-safe.
 */
final class ConnectionTimeline {

    static final int MAX_STEPS = 512;
    private static final Logger log = LoggerFactory.getLogger(ConnectionTimeline.class);

    private final LongSupplier nanoTime;
    private final long startNanos;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    ConnectionTimeline(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    /** Whether steps are logged at all: callers skip building a step's text otherwise. */
    boolean enabled() {
        return log.isDebugEnabled();
    }

    /** Logs {@code step} the first time it happens; true when this was the first time (and it was logged). */
    boolean first(String step) {
        if (!log.isDebugEnabled() || seen.size() >= MAX_STEPS || !seen.add(step)) {
            return false;
        }
        long sinceStart = nanoTime.getAsLong() - startNanos;
        log.debug("timeline: {} (at {}, +{} ms)", step, System.currentTimeMillis(), sinceStart / 1_000_000);
        return true;
    }
}
