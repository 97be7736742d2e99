package io.meshwork.node.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.handler.codec.dns.DnsRecordType;
import org.junit.jupiter.api.Test;

/** The forwarder's cache: TTLs honoured and lowered, bounded by least recent use, what is never kept. */
class ResponseCacheTest {

    private static final long SECOND = 1_000_000_000L;
    private final byte[] query = DnsMessages.query(1, "example.com", DnsRecordType.A, -1);

    @Test
    void keepsAnAnswerForItsTtlAndServesItWithTheRemainingTtl() {
        ResponseCache cache = new ResponseCache(10);
        cache.put("k", DnsMessages.upstreamAnswer(query, "192.0.2.1", 30, 0), 0);
        ResponseCache.Cached cached = cache.get("k", 10 * SECOND);
        assertNotNull(cached);
        byte[] served = ResponseCache.serve(cached, query, WireFormat.questionEnd(query, query.length), 77,
                10 * SECOND);
        assertEquals(77, WireFormat.id(served));
        int[] offsets = WireFormat.ttlOffsets(served, served.length);
        assertEquals(20, WireFormat.ttlAt(served, offsets[0]));
        assertNull(cache.get("k", 30 * SECOND), "gone once its TTL is over");
    }

    @Test
    void theLeastRecentlyUsedGoesBeyondTheCapacity() {
        ResponseCache cache = new ResponseCache(2);
        byte[] answer = DnsMessages.upstreamAnswer(query, "192.0.2.1", 300, 0);
        cache.put("a", answer, 0);
        cache.put("b", answer, 0);
        cache.get("a", 1);
        cache.put("c", answer, 0);
        assertEquals(2, cache.size());
        assertNotNull(cache.get("a", 1));
        assertNull(cache.get("b", 1));
    }

    @Test
    void zeroTtlServfailAndTruncatedAnswersAreNotKept() {
        ResponseCache cache = new ResponseCache(10);
        cache.put("zero", DnsMessages.upstreamAnswer(query, "192.0.2.1", 0, 0), 0);
        int end = WireFormat.questionEnd(query, query.length);
        cache.put("servfail", WireFormat.bare(query, end, WireFormat.RCODE_SERVFAIL, false), 0);
        cache.put("truncated", WireFormat.bare(query, end, 0, true), 0);
        cache.put("garbage", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 0);
        assertEquals(0, cache.size());
    }

    @Test
    void aLongTtlIsCappedAndANegativeAnswerWithoutSoaKeptBriefly() {
        ResponseCache cache = new ResponseCache(10);
        cache.put("long", DnsMessages.upstreamAnswer(query, "192.0.2.1", 86400, 0), 0);
        assertNull(cache.get("long", (ResponseCache.MAX_TTL_SECONDS + 1) * SECOND));
        int end = WireFormat.questionEnd(query, query.length);
        cache.put("nx", WireFormat.bare(query, end, 3, false), 0);
        assertNotNull(cache.get("nx", (ResponseCache.NEGATIVE_TTL_SECONDS - 1) * SECOND));
        assertNull(cache.get("nx", (ResponseCache.NEGATIVE_TTL_SECONDS + 1) * SECOND));
    }
}
