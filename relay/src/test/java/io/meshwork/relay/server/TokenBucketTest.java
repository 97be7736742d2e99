package io.meshwork.relay.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void burstThenSustainedRate() {
        TokenBucket bucket = new TokenBucket(1000, 500, 0);
        assertTrue(bucket.tryTake(500, 0), "a full burst at once");
        assertFalse(bucket.tryTake(1, 0), "then nothing");
        assertFalse(bucket.tryTake(200, SECOND / 10), "100 bytes refilled in 100 ms, 200 asked");
        assertTrue(bucket.tryTake(100, SECOND / 10));
        assertTrue(bucket.tryTake(500, 10 * SECOND), "refill stops at the burst size");
        assertFalse(bucket.tryTake(1, 10 * SECOND));
    }

    @Test
    void aRefusedTakeCostsNothing() {
        TokenBucket bucket = new TokenBucket(1000, 100, 0);
        assertFalse(bucket.tryTake(150, 0));
        assertTrue(bucket.tryTake(100, 0));
    }

    @Test
    void timeGoingBackwardsAddsNothing() {
        TokenBucket bucket = new TokenBucket(1000, 100, SECOND);
        assertTrue(bucket.tryTake(100, SECOND));
        assertFalse(bucket.tryTake(1, 0));
    }
}
