package io.meshwork.node.agent;

import io.meshwork.node.local.NodeStatus;
import io.meshwork.protocol.api.PathReport;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells control how this node reaches each peer (docs/api.md, "Paths"; {@code POST /api/v1/devices/self/paths}),
 * for the console's mesh map: the same path, latency, relay and reason {@code meshwork status} shows. It looks at
 * the status every {@link #SAMPLE} and reports when a peer's path or relay changed, or peers came or went, but at
 * most every {@link #MIN_INTERVAL}; and every {@link #REFRESH} regardless, with the latest latencies, so control
 * (which forgets reports after a few minutes) keeps an up-to-date picture. Latency alone never triggers a report.
 * A control that does not know the route (an older release) is not asked again.
 */
final class PathReporter {

    static final Duration SAMPLE = Duration.ofSeconds(2);
    static final Duration MIN_INTERVAL = Duration.ofSeconds(10);
    static final Duration REFRESH = Duration.ofSeconds(60);
    /** Control keeps at most this much of a reason. */
    static final int MAX_REASON = 512;

    private static final Logger log = LoggerFactory.getLogger(PathReporter.class);

    /** Sends one report; {@link ControlClient#reportPaths} in the agent. */
    interface Sender {
        void send(PathReport report) throws IOException;
    }

    private final Supplier<NodeStatus> status;
    private final Sender sender;
    private final LongSupplier nanoTime;
    private List<PathReport.Peer> lastSent;
    private long lastSentNanos;
    private boolean stopped;

    PathReporter(Supplier<NodeStatus> status, Sender sender, LongSupplier nanoTime) {
        this.status = status;
        this.sender = sender;
        this.nanoTime = nanoTime;
    }

    /** Reports for the device whose token is {@code deviceToken} from now on, on {@code scheduler}. */
    static PathReporter start(ControlClient control, String deviceToken, Supplier<NodeStatus> status,
            ScheduledExecutorService scheduler) {
        PathReporter reporter = new PathReporter(status, report -> control.reportPaths(deviceToken, report),
                System::nanoTime);
        scheduler.scheduleWithFixedDelay(reporter::tick, SAMPLE.toMillis(), SAMPLE.toMillis(), TimeUnit.MILLISECONDS);
        return reporter;
    }

    /** One look at the status; sends a report when one is due. Never throws: it runs on a shared scheduler. */
    synchronized void tick() {
        if (stopped) {
            return;
        }
        try {
            List<PathReport.Peer> peers = peersOf(status.get());
            long now = nanoTime.getAsLong();
            if (!due(lastSent, peers, lastSent == null ? Long.MAX_VALUE : now - lastSentNanos)) {
                return;
            }
            // Counted as sent whatever the answer: a failing control is asked again after the minimum interval.
            lastSent = peers;
            lastSentNanos = now;
            sender.send(new PathReport(peers));
        } catch (ControlClient.ControlException e) {
            if (e.status == 404 || e.status == 405) {
                stopped = true;
                log.info("control does not take path reports ({}); the console's map will not show this node's "
                        + "paths", e.getMessage());
            } else {
                log.debug("path report refused: {}", e.getMessage());
            }
        } catch (IOException | RuntimeException e) {
            log.debug("path report not sent: {}", e.toString());
        }
    }

    /**
     * Whether a report is due: never sooner than the minimum interval after the last; then when there was none, when
     * a peer came, went, or changed its path or relay, or when the last is older than the refresh interval.
     */
    static boolean due(List<PathReport.Peer> last, List<PathReport.Peer> now, long sinceLastNanos) {
        if (sinceLastNanos < MIN_INTERVAL.toNanos()) {
            return false;
        }
        return last == null || sinceLastNanos >= REFRESH.toNanos() || !sameShape(last, now);
    }

    private static boolean sameShape(List<PathReport.Peer> a, List<PathReport.Peer> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            PathReport.Peer x = a.get(i);
            PathReport.Peer y = b.get(i);
            if (!x.peerId().equals(y.peerId()) || !x.path().equals(y.path()) || !Objects.equals(x.relay(), y.relay())) {
                return false;
            }
        }
        return true;
    }

    /** The status's peers as a report has them, in a stable order (by id). */
    static List<PathReport.Peer> peersOf(NodeStatus status) {
        return status.peers().stream()
                .filter(peer -> peer.id() != null)
                .map(peer -> new PathReport.Peer(peer.id(), peer.path(), peer.latencyMs(), peer.relay(),
                        peer.reason() == null || peer.reason().length() <= MAX_REASON ? peer.reason()
                                : peer.reason().substring(0, MAX_REASON)))
                .sorted(java.util.Comparator.comparing(PathReport.Peer::peerId))
                .toList();
    }
}
