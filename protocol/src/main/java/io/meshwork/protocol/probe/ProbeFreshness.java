package io.meshwork.protocol.probe;

import io.meshwork.protocol.wireguard.Key;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which authentic probes are fresh. Every probe carries, sealed, the sender's counter: microseconds since the epoch
 * at sending, raised by one when the clock has not moved on, so it only grows (WireGuard §5.4.2 uses a TAI64N
 * timestamp the same way). A probe is stale when its counter is further than {@link #maxSkew()} from this node's
 * clock, and replayed when its counter was accepted before from the same sender, or is older than the
 * {@value #REMEMBERED} newest ones accepted from it (probes may arrive out of order over the socket and the relay,
 * so a window, not a high-water mark). The clock bound is what still stops a replay after this node restarted and
 * forgot its windows. Thread-safe; one window per sender, for at most {@value #MAX_SENDERS} senders.
 */
public final class ProbeFreshness {

    /** Counters remembered per sender. */
    public static final int REMEMBERED = 64;
    /** Senders remembered; past this an arbitrary one is forgotten (senders are this node's peers, so rarely). */
    public static final int MAX_SENDERS = 65_536;

    private final Duration maxSkew;
    private final Map<Key, Window> windows = new ConcurrentHashMap<>();

    public ProbeFreshness(Duration maxSkew) {
        if (maxSkew.isNegative() || maxSkew.isZero()) {
            throw new IllegalArgumentException("maximum clock skew must be positive");
        }
        this.maxSkew = maxSkew;
    }

    public Duration maxSkew() {
        return maxSkew;
    }

    /**
     * Accepts {@code counter} from {@code sender} at {@code nowMicros} (this node's clock, microseconds since the
     * epoch), or says why not. Call only for authentic probes, so forgeries cannot fill a window.
     */
    public void accept(Key sender, long counter, long nowMicros) throws ProbeException {
        long skewMicros = maxSkew.toNanos() / 1_000;
        if (Math.abs(counter - nowMicros) > skewMicros) {
            throw new ProbeException(ProbeException.Reason.STALE,
                    "sent " + (nowMicros - counter) / 1_000 + " ms from this node's clock");
        }
        Window window = windows.get(sender);
        if (window == null) {
            if (windows.size() >= MAX_SENDERS) {
                Iterator<Key> any = windows.keySet().iterator();
                if (any.hasNext()) {
                    windows.remove(any.next());
                }
            }
            window = windows.computeIfAbsent(sender, key -> new Window());
        }
        if (!window.accept(counter)) {
            throw new ProbeException(ProbeException.Reason.REPLAYED, "counter " + counter + " seen before");
        }
    }

    /** Forgets a sender (a peer that left). */
    public void forget(Key sender) {
        windows.remove(sender);
    }

    /** The newest {@value #REMEMBERED} counters from one sender, sorted ascending. */
    private static final class Window {
        private final long[] counters = new long[REMEMBERED];
        private int size;

        synchronized boolean accept(long counter) {
            int at = Arrays.binarySearch(counters, 0, size, counter);
            if (at >= 0) {
                return false;
            }
            int insertion = -at - 1;
            if (size == REMEMBERED) {
                if (insertion == 0) {
                    return false; // older than everything remembered: cannot tell it from a replay
                }
                // Drop the oldest, shifting the ones before the insertion point down.
                System.arraycopy(counters, 1, counters, 0, insertion - 1);
                counters[insertion - 1] = counter;
                return true;
            }
            System.arraycopy(counters, insertion, counters, insertion + 1, size - insertion);
            counters[insertion] = counter;
            size++;
            return true;
        }
    }
}
