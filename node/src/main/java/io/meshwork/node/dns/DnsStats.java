package io.meshwork.node.dns;

import java.util.concurrent.atomic.LongAdder;

/** The resolver's counters, for {@code meshwork status} and the debug log. */
final class DnsStats {
    final LongAdder queries = new LongAdder();
    final LongAdder answered = new LongAdder();
    final LongAdder forwarded = new LongAdder();
    final LongAdder cacheHits = new LongAdder();
    final LongAdder tcpRetries = new LongAdder();
    final LongAdder upstreamFailures = new LongAdder();
    /** Malformed queries, and upstream answers that match no query: dropped without a reply. */
    final LongAdder dropped = new LongAdder();
}
