package io.meshwork.relay.server;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * What the relay answers without a session, STUN binding requests and handshake frames, costs a token from a
 * bucket per source IP address (ports are free to an attacker, so they are not part of the key): a source that
 * asks faster than {@code perSecond} past a burst of {@code burst} gets no answers until its bucket refills. The
 * buckets live in a map of at most {@code maxSources} entries that forgets the least recently used source when
 * full, so a flood from many (spoofed) addresses costs bounded memory. Thread-safe: UDP and TCP threads share it.
 */
final class SourceRateLimiter {

    /** One answer is one token; buckets count in these units. */
    private static final int ANSWER = 1;

    private final long perSecond;
    private final long burst;
    private final LongSupplier nanoTime;
    private final Map<InetAddress, TokenBucket> buckets;

    SourceRateLimiter(long perSecond, long burst, int maxSources, LongSupplier nanoTime) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoTime = nanoTime;
        this.buckets = new LinkedHashMap<>(Math.min(maxSources, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<InetAddress, TokenBucket> eldest) {
                return size() > maxSources;
            }
        };
    }

    /** Takes one answer from {@code source}'s budget; false when it has none left. */
    synchronized boolean tryAnswer(InetAddress source) {
        long now = nanoTime.getAsLong();
        return buckets.computeIfAbsent(source, address -> new TokenBucket(perSecond, burst, now))
                .tryTake(ANSWER, now);
    }

    /** Sources with a bucket now (at most the configured bound). */
    synchronized int trackedSources() {
        return buckets.size();
    }
}
