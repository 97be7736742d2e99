package io.meshwork.control.http;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The web console's sessions (docs/api.md, "Web console"): a session is a random secret of 128 bits, sent by the
 * browser as an HttpOnly, Secure, SameSite=Strict cookie, plus a CSRF token the page sends with every request that
 * changes something. Only the secret's SHA-256 hash is kept. A session ends at logout, after {@code idle} without a
 * request, or {@code maxAge} after it began, whichever comes first. At most {@code maxSessions} live at once; a new
 * one beyond that ends the least recently used. Kept in this member's memory.
 */
final class ConsoleSessions {

    /** A new session: its secret (the cookie's value), its CSRF token and its end at the latest. */
    record Started(String secret, String csrfToken, long expiresAtMillis, ConsolePrincipal principal) {}

    /** A live session as a request finds it. */
    record Session(ConsolePrincipal principal, String csrfToken, long startedMillis, long expiresAtMillis) {}

    private final Duration idle;
    private final Duration maxAge;
    private final int maxSessions;
    /** By secret hash, least recently used first. */
    private final LinkedHashMap<String, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);

    ConsoleSessions(Duration idle, Duration maxAge, int maxSessions) {
        this.idle = idle;
        this.maxAge = maxAge;
        this.maxSessions = maxSessions;
    }

    synchronized Started start(ConsolePrincipal principal, long nowMillis) {
        expire(nowMillis);
        while (sessions.size() >= maxSessions) {
            Iterator<String> leastRecent = sessions.keySet().iterator();
            leastRecent.next();
            leastRecent.remove();
        }
        String secret = Tokens.randomHex(32);
        String csrf = Tokens.randomHex(16);
        Session session = new Session(principal, csrf, nowMillis, expiry(nowMillis, nowMillis));
        sessions.put(Tokens.hash(secret), session);
        return new Started(secret, csrf, nowMillis + maxAge.toMillis(), principal);
    }

    /** The live session with {@code secret}, its idle time restarted; empty when there is none (any more). */
    synchronized Optional<Session> find(String secret, long nowMillis) {
        if (secret == null || secret.length() > 128) {
            return Optional.empty();
        }
        String key = Tokens.hash(secret);
        Session session = sessions.get(key);
        if (session == null) {
            return Optional.empty();
        }
        if (session.expiresAtMillis() <= nowMillis) {
            sessions.remove(key);
            return Optional.empty();
        }
        Session used = new Session(session.principal(), session.csrfToken(), session.startedMillis(),
                expiry(session.startedMillis(), nowMillis));
        sessions.put(key, used);
        return Optional.of(used);
    }

    /** Ends the session with {@code secret}, if any. */
    synchronized void end(String secret) {
        if (secret != null && secret.length() <= 128) {
            sessions.remove(Tokens.hash(secret));
        }
    }

    synchronized int size() {
        return sessions.size();
    }

    private long expiry(long startedMillis, long nowMillis) {
        return Math.min(startedMillis + maxAge.toMillis(), nowMillis + idle.toMillis());
    }

    private void expire(long nowMillis) {
        Iterator<Map.Entry<String, Session>> all = sessions.entrySet().iterator();
        while (all.hasNext()) {
            if (all.next().getValue().expiresAtMillis() <= nowMillis) {
                all.remove();
            }
        }
    }
}
