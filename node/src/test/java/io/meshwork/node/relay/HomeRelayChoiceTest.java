package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The home relay rule: lowest latency, hysteresis of 10 ms and a third, never away from a recently active home. */
class HomeRelayChoiceTest {

    /**
     * {@code latencies}: "name=ms" separated by spaces, listed relays that answered; {@code unanswered}: listed relays
     * that did not; {@code delivered}: seconds since the home delivered a frame, -1 for never; {@code chosen}: the
     * expected home, "-" for none.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "first choice: the fastest                      | -  | a=40 b=25 c=90 | -   | -1 | false | b",
            "ties go to the lower name                      | -  | b=25 a=25      | -   | -1 | false | a",
            "nothing answers yet: none                      | -  | ''             | a b | -1 | false | -",
            "kept: the other is 10 ms but not a third faster | a  | a=40 b=30      | -   | -1 | false | a",
            "kept: the other is a third but not 10 ms faster | a  | a=12 b=3       | -   | -1 | false | a",
            "moved: 10 ms and a third faster                | a  | a=45 b=30      | -   | -1 | false | b",
            "moved: far faster                              | a  | a=120 b=20     | -   | -1 | false | b",
            "kept: far faster but the home is active        | a  | a=120 b=20     | -   | 3  | false | a",
            "moved: far faster, the home idle for 8 s       | a  | a=120 b=20     | -   | 8  | false | b",
            "failed home: the next best at once             | a  | a=10 b=50 c=30 | -   | 1  | true  | c",
            "failed home and nothing else: none             | a  | a=10           | -   | 1  | true  | -",
            "withdrawn home: the fastest listed             | z  | a=50 b=30      | -   | 1  | false | b",
            "home stopped answering while idle: moved       | a  | b=70           | a   | 30 | false | b",
            "home stopped answering but active: kept        | a  | b=70           | a   | 2  | false | a",
            "nothing else answers: a listed home is kept    | a  | ''             | a b | 30 | false | a",
    })
    void choosesTheHomeRelay(String description, String home, String latencies, String unanswered,
            long deliveredSeconds, boolean failed, String chosen) {
        Map<String, Duration> measured = new HashMap<>();
        for (String entry : latencies.split(" ")) {
            if (!entry.isBlank()) {
                String[] parts = entry.split("=");
                measured.put(parts[0], Duration.ofMillis(Long.parseLong(parts[1])));
            }
        }
        Set<String> listed = new java.util.HashSet<>(measured.keySet());
        if (!unanswered.equals("-")) {
            listed.addAll(Arrays.stream(unanswered.split(" ")).collect(Collectors.toSet()));
        }
        HomeRelayChoice.Facts facts = new HomeRelayChoice.Facts(home.equals("-") ? null : home, listed, measured,
                deliveredSeconds < 0 ? null : Duration.ofSeconds(deliveredSeconds), failed);
        assertEquals(chosen.equals("-") ? Optional.empty() : Optional.of(chosen), HomeRelayChoice.choose(facts),
                description);
    }

    @ParameterizedTest(name = "{0} ms against a home of {1} ms")
    @CsvSource({"30, 40, false", "30, 45, true", "20, 30, true", "21, 30, false", "3, 12, false", "0, 10, true"})
    void clearlyFasterNeedsTenMillisecondsAndAThird(long candidate, long home, boolean faster) {
        assertEquals(faster, HomeRelayChoice.clearlyFaster(Duration.ofMillis(candidate), Duration.ofMillis(home)));
    }

    @org.junit.jupiter.api.Test
    void measurementsThatWanderWithinTheMarginNeverMoveTheHome() {
        // Two relays whose latencies cross back and forth by a few milliseconds: the first choice stays.
        String home = HomeRelayChoice.choose(new HomeRelayChoice.Facts(null, Set.of("a", "b"),
                Map.of("a", Duration.ofMillis(30), "b", Duration.ofMillis(33)), null, false)).orElseThrow();
        assertEquals("a", home);
        for (int round = 0; round < 50; round++) {
            long a = 30 + (round % 2 == 0 ? 6 : -2);
            long b = 33 - (round % 3);
            home = HomeRelayChoice.choose(new HomeRelayChoice.Facts(home, Set.of("a", "b"),
                    Map.of("a", Duration.ofMillis(a), "b", Duration.ofMillis(b)), Duration.ofSeconds(60), false))
                    .orElseThrow();
            assertEquals("a", home, "round " + round);
        }
        assertTrue(HomeRelayChoice.clearlyFaster(Duration.ofMillis(5), Duration.ofMillis(36)));
        assertFalse(HomeRelayChoice.clearlyFaster(Duration.ofMillis(31), Duration.ofMillis(36)));
    }
}
