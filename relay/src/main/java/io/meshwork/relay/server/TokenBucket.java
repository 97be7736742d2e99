package io.meshwork.relay.server;

/**
 * A token bucket in bytes: a client may send {@code burstBytes} at once and {@code bytesPerSecond} on average.
 * Used from one thread (the client's I/O thread), so it needs no locking; time is passed in for tests.
 */
final class TokenBucket {

    private final double bytesPerNano;
    private final double burstBytes;
    private double tokens;
    private long lastRefillNanos;

    TokenBucket(long bytesPerSecond, long burstBytes, long nowNanos) {
        this.bytesPerNano = bytesPerSecond / 1e9;
        this.burstBytes = burstBytes;
        this.tokens = burstBytes;
        this.lastRefillNanos = nowNanos;
    }

    /** Takes {@code bytes} tokens when there are enough; returns whether it did. */
    boolean tryTake(int bytes, long nowNanos) {
        long elapsed = nowNanos - lastRefillNanos;
        if (elapsed > 0) {
            tokens = Math.min(burstBytes, tokens + elapsed * bytesPerNano);
            lastRefillNanos = nowNanos;
        }
        if (tokens < bytes) {
            return false;
        }
        tokens -= bytes;
        return true;
    }
}
