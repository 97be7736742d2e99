package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The web console's login links (single use, expiring, bounded) and sessions (idle and maximum age, bounded). */
class ConsoleSessionsTest {

    private static final ConsolePrincipal ADMIN = new ConsolePrincipal("secret-admin", true, null);

    @Test
    void aLoginLinkWorksOnceWithinItsLifetime() {
        LoginLinks links = new LoginLinks(Duration.ofMinutes(5), 10);
        LoginLinks.Issued issued = links.issue(ADMIN, 0);
        assertTrue(issued.code().matches("[0-9a-f]{32}"), issued.code());
        assertEquals(Duration.ofMinutes(5).toMillis(), issued.expiresAtMillis());
        assertEquals(Optional.of(ADMIN), links.redeem(issued.code(), 1_000));
        assertEquals(Optional.empty(), links.redeem(issued.code(), 2_000), "used");

        LoginLinks.Issued late = links.issue(ADMIN, 0);
        assertEquals(Optional.empty(), links.redeem(late.code(), Duration.ofMinutes(5).toMillis()), "expired");
        assertEquals(Optional.empty(), links.redeem("x".repeat(500), 0));
        assertEquals(Optional.empty(), links.redeem(null, 0));
    }

    @Test
    void atMostTheBoundOfLinksWaitAndExpiredOnesMakeRoom() {
        LoginLinks links = new LoginLinks(Duration.ofMinutes(5), 2);
        links.issue(ADMIN, 0);
        links.issue(ADMIN, 1);
        ApiException refused = assertThrows(ApiException.class, () -> links.issue(ADMIN, 2));
        assertEquals(429, refused.status);
        links.issue(ADMIN, Duration.ofMinutes(5).toMillis() + 1);
        assertEquals(1, links.size(), "the expired two went");
    }

    @Test
    void aSessionEndsAfterItsIdleTimeItsMaximumAgeOrLogout() {
        ConsoleSessions sessions = new ConsoleSessions(Duration.ofMinutes(30), Duration.ofHours(12), 10);
        ConsoleSessions.Started started = sessions.start(ADMIN, 0);
        assertNotEquals(started.secret(), started.csrfToken());
        assertTrue(sessions.find(started.secret(), Duration.ofMinutes(29).toMillis()).isPresent());
        assertTrue(sessions.find(started.secret(), Duration.ofMinutes(58).toMillis()).isPresent(),
                "each request restarts the idle time");
        assertTrue(sessions.find(started.secret(), Duration.ofMinutes(89).toMillis()).isEmpty(), "idle too long");

        ConsoleSessions.Started busy = sessions.start(ADMIN, 0);
        for (long minute = 20; minute < 12 * 60; minute += 20) {
            assertTrue(sessions.find(busy.secret(), Duration.ofMinutes(minute).toMillis()).isPresent());
        }
        assertTrue(sessions.find(busy.secret(), Duration.ofHours(12).toMillis()).isEmpty(), "at most 12 hours");

        ConsoleSessions.Started ended = sessions.start(ADMIN, 0);
        sessions.end(ended.secret());
        assertTrue(sessions.find(ended.secret(), 1).isEmpty());
        assertTrue(sessions.find("not-a-session", 1).isEmpty());
    }

    @Test
    void beyondTheBoundTheLeastRecentlyUsedSessionEnds() {
        ConsoleSessions sessions = new ConsoleSessions(Duration.ofMinutes(30), Duration.ofHours(12), 2);
        ConsoleSessions.Started first = sessions.start(ADMIN, 0);
        ConsoleSessions.Started second = sessions.start(ADMIN, 1);
        sessions.find(first.secret(), 2);
        ConsoleSessions.Started third = sessions.start(ADMIN, 3);
        assertEquals(2, sessions.size());
        assertTrue(sessions.find(second.secret(), 4).isEmpty(), "the least recently used ended");
        assertTrue(sessions.find(first.secret(), 4).isPresent());
        assertTrue(sessions.find(third.secret(), 4).isPresent());
    }
}
