package io.meshwork.protocol.probe;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.meshwork.protocol.wireguard.Key;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProbeFreshnessTest {

    private static final long NOW = 1_800_000_000_000_000L;
    private static final long SECOND = 1_000_000L;

    private final ProbeFreshness freshness = new ProbeFreshness(Duration.ofMinutes(5));
    private final Key alice = Key.generatePrivate().publicKey();
    private final Key bob = Key.generatePrivate().publicKey();

    private ProbeException.Reason refusal(Key sender, long counter, long now) {
        return assertThrows(ProbeException.class, () -> freshness.accept(sender, counter, now)).reason();
    }

    @Test
    void aCounterIsAcceptedOncePerSender() {
        assertDoesNotThrow(() -> freshness.accept(alice, NOW, NOW));
        assertEquals(ProbeException.Reason.REPLAYED, refusal(alice, NOW, NOW + SECOND));
        assertDoesNotThrow(() -> freshness.accept(bob, NOW, NOW));
    }

    @Test
    void outOfOrderCountersInsideTheWindowAreAccepted() {
        assertDoesNotThrow(() -> freshness.accept(alice, NOW + 3, NOW));
        assertDoesNotThrow(() -> freshness.accept(alice, NOW + 1, NOW));
        assertDoesNotThrow(() -> freshness.accept(alice, NOW + 2, NOW));
        assertEquals(ProbeException.Reason.REPLAYED, refusal(alice, NOW + 1, NOW));
    }

    @Test
    void countersOlderThanEverythingRememberedAreReplays() throws Exception {
        for (int i = 1; i <= ProbeFreshness.REMEMBERED; i++) {
            freshness.accept(alice, NOW + i, NOW);
        }
        assertEquals(ProbeException.Reason.REPLAYED, refusal(alice, NOW, NOW));
        freshness.accept(alice, NOW + ProbeFreshness.REMEMBERED + 1, NOW);
        // The oldest remembered one has slid out of the window now.
        assertEquals(ProbeException.Reason.REPLAYED, refusal(alice, NOW + 1, NOW));
        assertEquals(ProbeException.Reason.REPLAYED, refusal(alice, NOW + 2, NOW));
    }

    @Test
    void countersFarFromTheClockAreStaleEvenForANewWindow() {
        assertEquals(ProbeException.Reason.STALE, refusal(alice, NOW - 301 * SECOND, NOW));
        assertEquals(ProbeException.Reason.STALE, refusal(alice, NOW + 301 * SECOND, NOW));
        assertDoesNotThrow(() -> freshness.accept(alice, NOW - 299 * SECOND, NOW));
    }

    @Test
    void aForgottenSenderStartsAfresh() throws Exception {
        freshness.accept(alice, NOW, NOW);
        freshness.forget(alice);
        assertDoesNotThrow(() -> freshness.accept(alice, NOW, NOW));
    }
}
