package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackoffTest {

    private final Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));

    @ParameterizedTest
    @CsvSource({
        // failures, random, expected millis
        "1, 0.0, 250",
        "1, 0.999, 499",
        "2, 0.0, 500",
        "3, 0.5, 1500",
        "7, 0.0, 15000",
        "7, 0.999, 29985",
        "8, 0.0, 15000",
        "1000, 0.999, 29985",
        "0, 0.0, 250",
    })
    void doublesWithJitterUpToTheCap(int failures, double random, long expectedMillis) {
        assertEquals(Duration.ofMillis(expectedMillis), backoff.delay(failures, random));
    }
}
