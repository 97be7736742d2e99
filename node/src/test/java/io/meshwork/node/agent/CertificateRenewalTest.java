package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** When a device certificate is renewed, and when a failed renewal is tried again. */
class CertificateRenewalTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @ParameterizedTest(name = "valid {0} s: renewed after {1} s")
    @CsvSource({
            "132, 88",          // a 2-minute certificate with 12 s of backdating
            "31536300, 21024200", // a year and 5 minutes
            "3, 2",
            "0, 0",
            "-10, 0"             // a validity that ends before it starts: at once
    })
    void renewsTwoThirdsIntoTheValidity(long validitySeconds, long renewAfterSeconds) {
        assertEquals(T0.plusSeconds(renewAfterSeconds),
                CertificateRenewal.renewAt(T0, T0.plusSeconds(validitySeconds)));
    }

    @ParameterizedTest(name = "{0} s left: retried in {1} s")
    @CsvSource({
            "3600, 60",   // capped at a minute
            "300, 30",    // a tenth of what is left
            "40, 5",      // at least 5 s
            "-20, 5"      // expired already: still 5 s, never a busy loop
    })
    void retriesAfterATenthOfWhatIsLeftBetweenFiveSecondsAndAMinute(long leftSeconds, long retrySeconds) {
        assertEquals(Duration.ofSeconds(retrySeconds),
                CertificateRenewal.retryDelay(T0, T0.plusSeconds(leftSeconds)));
    }

    @ParameterizedTest(name = "due in {0} s: wait {1} s")
    @CsvSource({"10, 10", "0, 0", "-5, 0"})
    void waitsUntilDueAndNeverANegativeTime(long dueSeconds, long waitSeconds) {
        assertEquals(Duration.ofSeconds(waitSeconds), CertificateRenewal.until(T0, T0.plusSeconds(dueSeconds)));
    }
}
