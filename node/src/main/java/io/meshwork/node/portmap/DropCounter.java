package io.meshwork.node.portmap;

import java.util.EnumMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replies from the network that the port-mapping client dropped, counted by reason and logged at debug level
 * (docs/architecture.md, "Port mapping"). The reasons are an enum, so the counts stay bounded.
 */
public final class DropCounter {

    private static final Logger log = LoggerFactory.getLogger(DropCounter.class);

    /** Why a reply was not used. */
    public enum Reason {
        /** It did not parse (the codec's reason is in the log line). */
        MALFORMED,
        /** A PCP reply whose nonce is not the request's (RFC 6887 §11.3). */
        NONCE_MISMATCH,
        /** An SSDP answer from another host than the gateway, or naming a description on another host. */
        NOT_THE_GATEWAY,
        /** An HTTP answer over the size limit or with an unexpected status. */
        BAD_HTTP
    }

    private final Map<Reason, Long> counts = new EnumMap<>(Reason.class);

    /** Counts one dropped reply and logs why at debug level. */
    public synchronized void drop(Reason reason, String what, String detail) {
        long count = counts.merge(reason, 1L, Long::sum);
        log.debug("dropped {} ({}, {} so far): {}", what, reason, count, detail);
    }

    public synchronized long count(Reason reason) {
        return counts.getOrDefault(reason, 0L);
    }
}
