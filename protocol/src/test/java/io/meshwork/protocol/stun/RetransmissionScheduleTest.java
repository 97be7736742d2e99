package io.meshwork.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetransmissionScheduleTest {

    private static List<Duration> millis(long... values) {
        return java.util.Arrays.stream(values).mapToObj(Duration::ofMillis).toList();
    }

    @Test
    void rfc8489Example() {
        // RFC 8489 §6.2.1: with RTO 500 ms, requests at 0, 500, 1500, 3500, 7500, 15500, 31500 ms; failure at 39500 ms.
        RetransmissionSchedule schedule = RetransmissionSchedule.RFC_8489_DEFAULT;
        assertEquals(millis(0, 500, 1500, 3500, 7500, 15500, 31500), schedule.sendOffsets());
        assertEquals(Duration.ofMillis(39_500), schedule.timeout());
    }

    @Test
    void budgetCutsTheTransactionShort() {
        RetransmissionSchedule schedule = RetransmissionSchedule.RFC_8489_DEFAULT.withBudget(Duration.ofSeconds(3));
        assertEquals(millis(0, 500, 1500), schedule.sendOffsets());
        assertEquals(Duration.ofSeconds(3), schedule.timeout());
    }

    @Test
    void fewerRequestsEndWithTheLastWait() {
        RetransmissionSchedule schedule = new RetransmissionSchedule(Duration.ofMillis(100), 3, 4, Duration.ofSeconds(60));
        assertEquals(millis(0, 100, 300), schedule.sendOffsets());
        assertEquals(Duration.ofMillis(700), schedule.timeout());
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class,
                () -> new RetransmissionSchedule(Duration.ZERO, 7, 16, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> new RetransmissionSchedule(Duration.ofMillis(500), 0, 16, Duration.ofSeconds(1)));
    }
}
