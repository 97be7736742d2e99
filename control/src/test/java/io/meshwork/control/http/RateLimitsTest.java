package io.meshwork.control.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RateLimitsTest {

    @Test
    void aBucketGivesItsBurstThenOneTokenPerIntervalAndTakesBackWhatWasReturned() {
        RateLimits.Buckets buckets = new RateLimits.Buckets(2, 3, 100);
        long now = 1_000_000_000L;
        for (int i = 0; i < 3; i++) {
            assertEquals(0, buckets.take("a", now));
        }
        long wait = buckets.take("a", now);
        assertEquals(500_000_000L, wait, "one token every half second");
        assertEquals(0, buckets.take("b", now), "each key has its own bucket");
        assertEquals(0, buckets.take("a", now + wait));
        buckets.giveBack("a");
        assertEquals(0, buckets.take("a", now + wait), "a token given back is there again");
        assertTrue(buckets.take("a", now + wait) > 0);
        assertEquals(0, buckets.take("a", now + 60_000_000_000L));
    }

    @Test
    void bucketsAreBoundedAndTheLeastRecentlyUsedGoFirst() {
        RateLimits.Buckets buckets = new RateLimits.Buckets(1, 1, 16 * 4);
        assertEquals(0, buckets.take("kept", 0));
        for (int i = 0; i < 10_000; i++) {
            buckets.take("k" + i, 0);
            buckets.take("kept", 0);
        }
        assertTrue(buckets.size() <= 64, "size " + buckets.size());
        assertTrue(buckets.take("kept", 0) > 0, "the key in use is remembered");
    }

    @Test
    void theSourceKeyIsTheAddressAndTheKindOfCredential() throws Exception {
        InetAddress remote = InetAddress.getByName("198.51.100.7");
        assertEquals("198.51.100.7 mwk", RateLimits.sourceKey(remote, Optional.of("Bearer mwk.o1.k1.s")));
        assertEquals("198.51.100.7 mwd", RateLimits.sourceKey(remote, Optional.of("Bearer mwd.o1-d1.s")));
        assertEquals("198.51.100.7 admin?", RateLimits.sourceKey(remote, Optional.of("Bearer whatever")));
        assertEquals("198.51.100.7 -", RateLimits.sourceKey(remote, Optional.empty()));
    }
}
