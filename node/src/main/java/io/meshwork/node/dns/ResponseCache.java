package io.meshwork.node.dns;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Upstream answers by question, kept at most as long as their smallest TTL (and at most {@value #MAX_TTL_SECONDS}
 * s), the least recently used dropped beyond {@code capacity}. Served with every TTL lowered by the time spent in
 * the cache (RFC 1035 §7.3 asks that of a resolver that hands on cached data).
 */
final class ResponseCache {

    /** Even a long TTL is refreshed this often: upstream changes are not hidden for a day. */
    static final long MAX_TTL_SECONDS = 3600;
    /** A negative answer without an SOA to say how long (RFC 2308 §5) is kept this long. */
    static final long NEGATIVE_TTL_SECONDS = 30;

    /** One answer: its bytes (id zero), where its TTLs are, and when it was stored and goes stale. */
    record Cached(byte[] message, int[] ttlOffsets, long storedNanos, long expiresNanos) {}

    private final int capacity;
    private final Map<String, Cached> entries;

    ResponseCache(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true);
    }

    /** The fresh answer to {@code key} at {@code nowNanos}, or null. */
    synchronized Cached get(String key, long nowNanos) {
        Cached cached = entries.get(key);
        if (cached != null && nowNanos - cached.expiresNanos() >= 0) {
            entries.remove(key);
            return null;
        }
        return cached;
    }

    /**
     * Keeps {@code message} (an upstream answer, NOERROR or NXDOMAIN, not truncated) for its smallest TTL; an
     * answer with a zero TTL, or one whose records do not parse, is not kept.
     */
    void put(String key, byte[] message, long nowNanos) {
        int rcode = WireFormat.rcode(message);
        if (WireFormat.truncated(message) || rcode != 0 && rcode != 3) {
            return;
        }
        int[] offsets;
        try {
            offsets = WireFormat.ttlOffsets(message, message.length);
        } catch (IllegalArgumentException e) {
            return;
        }
        long ttl = offsets.length == 0 ? NEGATIVE_TTL_SECONDS : MAX_TTL_SECONDS;
        for (int offset : offsets) {
            ttl = Math.min(ttl, WireFormat.ttlAt(message, offset));
        }
        if (ttl <= 0) {
            return;
        }
        Cached cached = new Cached(message, offsets, nowNanos, nowNanos + ttl * 1_000_000_000L);
        synchronized (this) {
            entries.put(key, cached);
            if (entries.size() > capacity) {
                var eldest = entries.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
    }

    synchronized int size() {
        return entries.size();
    }

    /**
     * A copy of {@code cached} to send: {@code id}, the question as the client wrote it (its letter case, RFC
     * 5452 §9), and TTLs lowered by the whole seconds spent in the cache.
     */
    static byte[] serve(Cached cached, byte[] query, int questionEnd, int id, long nowNanos) {
        byte[] message = cached.message().clone();
        WireFormat.setId(message, id);
        System.arraycopy(query, WireFormat.HEADER_LENGTH, message, WireFormat.HEADER_LENGTH,
                questionEnd - WireFormat.HEADER_LENGTH);
        long elapsed = (nowNanos - cached.storedNanos()) / 1_000_000_000L;
        for (int offset : cached.ttlOffsets()) {
            WireFormat.setTtlAt(message, offset, Math.max(0, WireFormat.ttlAt(message, offset) - elapsed));
        }
        return message;
    }
}
