package io.meshwork.protocol.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The epoch check of RFC 6887 §8.5 (and RFC 6886 §3.6) as a table. */
class ServerEpochTest {

    @ParameterizedTest(name = "epoch {0}->{2}, client {1}->{3}: lost {4}")
    @CsvSource({
        // first reply: nothing to compare
        "-1, -1, 58, 100, false",
        // both clocks advanced alike
        "58, 100, 3658, 3700, false",
        // a little drift, within slack and 1/16
        "58, 100, 3500, 3700, false",
        // the gateway restarted: its epoch went back
        "3658, 3700, 5, 3800, true",
        // a second back is tolerated
        "100, 100, 99, 100, false",
        // the epoch advanced far less than the client's clock: the server lost its state and came back
        "58, 100, 158, 3700, true",
        // the epoch advanced far more than the client's clock: another server
        "58, 100, 9000, 200, true",
    })
    void detectsAServerThatLostItsState(long previousEpoch, long previousClient, long epoch, long client,
            boolean lost) {
        ServerEpoch.Observation previous = previousEpoch < 0 ? null
                : new ServerEpoch.Observation(previousEpoch, previousClient);
        assertEquals(lost, ServerEpoch.lostState(previous, new ServerEpoch.Observation(epoch, client)));
    }
}
