package io.meshwork.protocol.wireguard;

import static io.meshwork.protocol.wireguard.Timers.NEVER;
import static io.meshwork.protocol.wireguard.Timers.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.protocol.wireguard.Timers.Action;
import io.meshwork.protocol.wireguard.Timers.PeerClock;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TimersTest {

    private static final long T0 = 1_000 * SECOND;

    private static PeerClock session(long created, boolean initiator) {
        return new PeerClock(NEVER, NEVER, NEVER, NEVER, created, created, created, initiator, 0);
    }

    @Test
    void unansweredInitiationIsRetriedAfterRekeyTimeoutPlusJitter() {
        PeerClock waiting = new PeerClock(T0, T0, NEVER, NEVER, T0, NEVER, NEVER, false, 0);
        long jitter = 200_000_000L;
        assertEquals(Set.of(), Timers.due(waiting, T0 + 5 * SECOND, jitter));
        assertEquals(Set.of(Action.RETRY_HANDSHAKE), Timers.due(waiting, T0 + 5 * SECOND + jitter, jitter));
    }

    @Test
    void handshakeAttemptsStopAfterRekeyAttemptTime() {
        PeerClock waiting = new PeerClock(T0 + 88 * SECOND, T0, NEVER, NEVER, T0, NEVER, NEVER, false, 0);
        assertEquals(Set.of(Action.GIVE_UP_HANDSHAKE), Timers.due(waiting, T0 + 90 * SECOND, 0));
    }

    @Test
    void receivedDataWithoutAnswerGetsAKeepaliveAfterTenSeconds() {
        PeerClock clock = new PeerClock(NEVER, NEVER, NEVER, T0 + SECOND, T0, T0 + SECOND, T0, false, 0);
        assertEquals(Set.of(), Timers.due(clock, T0 + 10 * SECOND, 0));
        assertEquals(Set.of(Action.SEND_KEEPALIVE), Timers.due(clock, T0 + 11 * SECOND, 0));
    }

    @Test
    void sentDataWithoutReplyStartsAHandshakeAfterFifteenSeconds() {
        PeerClock clock = new PeerClock(NEVER, NEVER, T0 + SECOND, NEVER, T0 + SECOND, T0, T0, true, 0);
        assertEquals(Set.of(), Timers.due(clock, T0 + 15 * SECOND, 0));
        assertEquals(Set.of(Action.INITIATE_HANDSHAKE), Timers.due(clock, T0 + 16 * SECOND, 0));
    }

    @Test
    void persistentKeepaliveFiresOnlyWithASession() {
        PeerClock idle = new PeerClock(NEVER, NEVER, NEVER, NEVER, T0, T0, T0, true, 25 * SECOND);
        assertEquals(Set.of(Action.SEND_KEEPALIVE), Timers.due(idle, T0 + 25 * SECOND, 0));
        PeerClock noSession = new PeerClock(NEVER, NEVER, NEVER, NEVER, T0, NEVER, NEVER, false, 25 * SECOND);
        assertEquals(Set.of(), Timers.due(noSession, T0 + 60 * SECOND, 0));
    }

    @Test
    void keysAreErasedAfterThreeRejectAfterTimes() {
        assertTrue(Timers.due(session(T0, true), T0 + 540 * SECOND, 0).contains(Action.EXPIRE_KEYS));
        assertFalse(Timers.due(session(T0, true), T0 + 539 * SECOND, 0).contains(Action.EXPIRE_KEYS));
    }

    @Test
    void initiatorRekeysAfterRekeyAfterTimeAndResponderDoesNot() {
        assertFalse(Timers.rekeyBeforeSending(session(T0, true), 0, T0 + 119 * SECOND));
        assertTrue(Timers.rekeyBeforeSending(session(T0, true), 0, T0 + 120 * SECOND));
        assertFalse(Timers.rekeyBeforeSending(session(T0, false), 0, T0 + 120 * SECOND));
        assertTrue(Timers.rekeyBeforeSending(session(T0, false), Timers.REKEY_AFTER_MESSAGES, T0));
        assertTrue(Timers.rekeyBeforeSending(session(NEVER, false), 0, T0));
    }

    @Test
    void initiatorRefreshesOnReceiveBeforeRejectAfterTime() {
        assertFalse(Timers.rekeyAfterReceiving(session(T0, true), T0 + 164 * SECOND));
        assertTrue(Timers.rekeyAfterReceiving(session(T0, true), T0 + 165 * SECOND));
        assertFalse(Timers.rekeyAfterReceiving(session(T0, false), T0 + 170 * SECOND));
    }

    @Test
    void keysExpireAtRejectAfterTime() {
        assertFalse(Timers.expired(T0, T0 + 179 * SECOND));
        assertTrue(Timers.expired(T0, T0 + 180 * SECOND));
        assertTrue(Timers.expired(NEVER, T0));
    }
}
