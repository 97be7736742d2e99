package io.meshwork.relay.server;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Counts TCP connections that have not authenticated yet, per source IP address and in total, so that opening
 * connections (and TLS handshakes) without ever authenticating costs the relay a bounded amount of memory and one
 * address cannot take all the room. Authenticated connections are bounded by the client limit instead, and leave
 * this count as soon as they authenticate. Thread-safe.
 */
final class PendingConnections {

    /** Whether a connection may open, and if not, which cap refused it. */
    enum Admission {
        ADMITTED,
        SOURCE_FULL,
        TOTAL_FULL
    }

    private final int perSource;
    private final int total;
    private final Map<InetAddress, Integer> bySource = new HashMap<>();
    private int count;

    PendingConnections(int perSource, int total) {
        this.perSource = perSource;
        this.total = total;
    }

    /** Counts a new connection from {@code source} when both caps allow it. */
    synchronized Admission tryOpen(InetAddress source) {
        if (count >= total) {
            return Admission.TOTAL_FULL;
        }
        int fromSource = bySource.getOrDefault(source, 0);
        if (fromSource >= perSource) {
            return Admission.SOURCE_FULL;
        }
        bySource.put(source, fromSource + 1);
        count++;
        return Admission.ADMITTED;
    }

    /** A counted connection authenticated or closed; call once per admitted connection. */
    synchronized void release(InetAddress source) {
        Integer fromSource = bySource.get(source);
        if (fromSource == null) {
            return;
        }
        if (fromSource <= 1) {
            bySource.remove(source);
        } else {
            bySource.put(source, fromSource - 1);
        }
        count--;
    }

    synchronized int count() {
        return count;
    }
}
