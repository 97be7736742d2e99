package io.meshwork.node.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Leaving a relay: 5 s of silence while waiting for it or while disconnected; never an idle, answering one. */
class RelayFailoverTest {

    @ParameterizedTest(name = "connected={0}, silent {1} ms, awaiting={2}: leave={3}")
    @CsvSource({
            "true,  4999,  true,  false",  // not silent long enough
            "true,  5000,  true,  true",   // traffic or a ping unanswered for 5 s
            "true,  60000, false, false",  // idle and nothing asked of it: kept
            "false, 5000,  false, true",   // down (closed, reset, refused) for 5 s
            "false, 1000,  false, false",  // a short reconnect is waited out
            "false, 5000,  true,  true"
    })
    void leavesASilentRelayOnlyWhileWaitingForIt(boolean connected, long silenceMillis, boolean awaiting,
            boolean leave) {
        assertEquals(leave, RelayFailover.shouldLeave(connected, Duration.ofMillis(silenceMillis), awaiting));
    }
}
