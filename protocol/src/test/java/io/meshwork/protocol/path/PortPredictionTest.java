package io.meshwork.protocol.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PortPredictionTest {

    @Test
    void insidePortThenSequentialThenRandomWithinBudget() {
        List<Integer> guesses = PortPrediction.guesses(51820, List.of(40000, 40001), 64, new Random(1));
        assertEquals(64, guesses.size());
        assertEquals(51820, guesses.get(0));
        assertEquals(40002, guesses.get(1));
        assertEquals(40049, guesses.get(48));
        assertEquals(64, new HashSet<>(guesses).size(), "no port twice");
        assertTrue(guesses.stream().allMatch(p -> p >= 1024 && p <= 65535));
    }

    @Test
    void sequentialGuessesStopAtTheTopOfThePortRange() {
        List<Integer> guesses = PortPrediction.guesses(0, List.of(65530), 32, new Random(2));
        assertEquals(List.of(65531, 65532, 65533, 65534, 65535), guesses.subList(0, 5));
        assertEquals(32, guesses.size());
    }

    @Test
    void withNothingObservedAllGuessesAreRandomAndDeterministicPerSeed() {
        assertEquals(PortPrediction.guesses(0, List.of(), 16, new Random(3)),
                PortPrediction.guesses(0, List.of(), 16, new Random(3)));
        assertEquals(16, PortPrediction.guesses(0, List.of(), 16, new Random(3)).size());
    }
}
