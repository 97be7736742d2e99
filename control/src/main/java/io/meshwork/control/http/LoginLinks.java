package io.meshwork.control.http;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One-time login links for the web console (docs/api.md, "Web console"): a random code of 128 bits that stands for
 * its creator's credential until it is redeemed once or expires. Only the code's SHA-256 hash is kept. At most
 * {@code maxLinks} codes wait at once; beyond that new links are refused (429) until some are used or expire, so
 * a client that makes links in a loop cannot grow the map. Kept in this member's memory: a link is redeemed at the
 * member that made it.
 */
final class LoginLinks {

    /** A new link's code (shown once) and when it expires. */
    record Issued(String code, long expiresAtMillis) {}

    private record Waiting(ConsolePrincipal principal, long expiresAtMillis) {}

    private final Duration ttl;
    private final int maxLinks;
    /** By code hash, oldest first. */
    private final Map<String, Waiting> waiting = new LinkedHashMap<>();

    LoginLinks(Duration ttl, int maxLinks) {
        this.ttl = ttl;
        this.maxLinks = maxLinks;
    }

    Duration ttl() {
        return ttl;
    }

    /** A new code for {@code principal}. */
    synchronized Issued issue(ConsolePrincipal principal, long nowMillis) {
        expire(nowMillis);
        if (waiting.size() >= maxLinks) {
            throw new ApiException(429, "too many login links waiting to be used; retry when some expired");
        }
        String code = Tokens.randomHex(16);
        long expiresAt = nowMillis + ttl.toMillis();
        waiting.put(Tokens.hash(code), new Waiting(principal, expiresAt));
        return new Issued(code, expiresAt);
    }

    /** Whom {@code code} stands for, once: the code is gone after this, whatever the answer. */
    synchronized Optional<ConsolePrincipal> redeem(String code, long nowMillis) {
        expire(nowMillis);
        if (code == null || code.length() > 128) {
            return Optional.empty();
        }
        Waiting found = waiting.remove(Tokens.hash(code));
        return found == null ? Optional.empty() : Optional.of(found.principal());
    }

    synchronized int size() {
        return waiting.size();
    }

    private void expire(long nowMillis) {
        Iterator<Waiting> oldest = waiting.values().iterator();
        // Issued in order with one lifetime: the first one that has not expired ends the search.
        while (oldest.hasNext() && oldest.next().expiresAtMillis() <= nowMillis) {
            oldest.remove();
        }
    }
}
