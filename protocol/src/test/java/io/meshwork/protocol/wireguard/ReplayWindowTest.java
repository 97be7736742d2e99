package io.meshwork.protocol.wireguard;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReplayWindowTest {

    @Test
    void acceptsEachCounterOnceInAnyOrderWithinTheWindow() {
        ReplayWindow window = new ReplayWindow();
        assertTrue(window.accept(0));
        assertFalse(window.accept(0));
        assertTrue(window.accept(5));
        assertTrue(window.accept(3));
        assertFalse(window.accept(3));
        assertTrue(window.accept(4));
        assertTrue(window.accept(1));
        assertFalse(window.accept(5));
    }

    @Test
    void rejectsCountersOlderThanTheWindow() {
        ReplayWindow window = new ReplayWindow();
        assertTrue(window.accept(10_000));
        assertTrue(window.mayAccept(10_000 - ReplayWindow.WINDOW_SIZE));
        assertFalse(window.mayAccept(10_000 - ReplayWindow.WINDOW_SIZE - 1));
        assertTrue(window.accept(9_999));
    }

    @Test
    void bigJumpsClearStaleBitsSoOldSlotsDoNotLookSeen() {
        ReplayWindow window = new ReplayWindow();
        for (long counter = 0; counter < 3000; counter++) {
            assertTrue(window.accept(counter));
        }
        assertTrue(window.accept(1_000_000));
        assertTrue(window.accept(1_000_000 - 100));
        assertTrue(window.accept(1_000_000 - 1983));
        assertFalse(window.accept(1_000_000 - 100));
    }

    @Test
    void mayAcceptDoesNotRecord() {
        ReplayWindow window = new ReplayWindow();
        assertTrue(window.mayAccept(7));
        assertTrue(window.mayAccept(7));
        assertTrue(window.accept(7));
        assertFalse(window.mayAccept(7));
    }

    @Test
    void countersAtRejectAfterMessagesAreRefused() {
        ReplayWindow window = new ReplayWindow();
        assertFalse(window.mayAccept(ReplayWindow.REJECT_AFTER_MESSAGES));
        assertFalse(window.mayAccept(-1L));
        assertTrue(window.mayAccept(ReplayWindow.REJECT_AFTER_MESSAGES - 1));
    }
}
