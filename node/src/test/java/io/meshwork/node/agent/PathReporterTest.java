package io.meshwork.node.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.api.PathReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** When the node tells control its paths: on a change of path or relay, at most every 10 s, and every minute. */
class PathReporterTest {

    private static NodeStatus.Peer peer(String id, String path, Double latency, String relay, String reason) {
        return new NodeStatus.Peer(id, "host-" + id, List.of(), path, null, relay, "udp", latency, null, 0, 0, reason);
    }

    private static NodeStatus status(NodeStatus.Peer... peers) {
        return new NodeStatus(new NodeStatus.Self("o1-dself", "self", List.of(), Map.of()), List.of(peers));
    }

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final AtomicReference<NodeStatus> current = new AtomicReference<>(
            status(peer("b", "relay", 40.0, "relay1", "relayed: probing"), peer("a", "direct", 3.0, null, "direct")));
    private final List<PathReport> sent = new ArrayList<>();

    private void advance(Duration by) {
        clock.addAndGet(by.toNanos());
    }

    @Test
    void reportsAtOnceThenOnChangesAtMostEveryTenSecondsAndEveryMinute() {
        PathReporter reporter = new PathReporter(current::get, sent::add, clock::get);
        reporter.tick();
        assertEquals(1, sent.size(), "the first look reports");
        PathReport first = sent.get(0);
        assertEquals(List.of("a", "b"), first.peers().stream().map(PathReport.Peer::peerId).toList(), "by id");
        assertEquals(new PathReport.Peer("b", "relay", 40.0, "relay1", "relayed: probing"), first.peers().get(1));

        current.set(status(peer("b", "direct", 9.0, null, "direct"), peer("a", "direct", 3.0, null, "direct")));
        advance(Duration.ofSeconds(4));
        reporter.tick();
        assertEquals(1, sent.size(), "a change within 10 s waits");
        advance(Duration.ofSeconds(6));
        reporter.tick();
        assertEquals(2, sent.size(), "then goes");
        assertEquals("direct", sent.get(1).peers().get(1).path());

        current.set(status(peer("b", "direct", 12.0, null, "direct"), peer("a", "direct", 5.0, null, "direct")));
        advance(Duration.ofSeconds(30));
        reporter.tick();
        assertEquals(2, sent.size(), "latency alone is no change");
        advance(Duration.ofSeconds(30));
        reporter.tick();
        assertEquals(3, sent.size(), "a minute on, the refresh carries the latest latencies");
        assertEquals(12.0, sent.get(2).peers().get(1).latencyMillis());
    }

    @Test
    void aControlWithoutTheRouteIsNotAskedAgain() {
        List<Integer> calls = new ArrayList<>();
        PathReporter reporter = new PathReporter(current::get, report -> {
            calls.add(1);
            throw new ControlClient.ControlException(404, "api/v1/devices/self/paths: not found");
        }, clock::get);
        reporter.tick();
        advance(Duration.ofMinutes(5));
        reporter.tick();
        assertEquals(1, calls.size());
    }

    @Test
    void aFailedReportIsTriedAgainAfterTheMinimumInterval() {
        List<Integer> calls = new ArrayList<>();
        PathReporter reporter = new PathReporter(current::get, report -> {
            calls.add(1);
            throw new java.io.IOException("connection refused");
        }, clock::get);
        reporter.tick();
        advance(Duration.ofSeconds(2));
        reporter.tick();
        assertEquals(1, calls.size());
        advance(Duration.ofSeconds(60));
        reporter.tick();
        assertEquals(2, calls.size());
    }

    @Test
    void dueFollowsTheRules() {
        List<PathReport.Peer> relayed = List.of(new PathReport.Peer("a", "relay", 40.0, "relay1", "r"));
        List<PathReport.Peer> direct = List.of(new PathReport.Peer("a", "direct", 4.0, null, "d"));
        List<PathReport.Peer> otherRelay = List.of(new PathReport.Peer("a", "relay", 40.0, "relay2", "r"));
        long second = Duration.ofSeconds(1).toNanos();
        assertTrue(PathReporter.due(null, relayed, Long.MAX_VALUE));
        assertFalse(PathReporter.due(relayed, direct, 9 * second));
        assertTrue(PathReporter.due(relayed, direct, 10 * second));
        assertTrue(PathReporter.due(relayed, otherRelay, 10 * second));
        assertTrue(PathReporter.due(relayed, List.of(), 10 * second));
        assertFalse(PathReporter.due(relayed, relayed, 59 * second));
        assertTrue(PathReporter.due(relayed, relayed, 60 * second));
    }

    @Test
    void longReasonsAreCutToWhatControlKeeps() {
        String reason = "x".repeat(2000);
        List<PathReport.Peer> peers = PathReporter.peersOf(status(peer("a", "relay", null, "relay1", reason)));
        assertEquals(PathReporter.MAX_REASON, peers.get(0).reason().length());
    }
}
