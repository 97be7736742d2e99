package io.meshwork.node.agent;

import io.meshwork.protocol.api.RouteAdvertisement;
import io.meshwork.protocol.api.RouteStatus;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells control what this node routes ({@code POST /api/v1/devices/self/routes}): once at start (an empty report
 * withdraws what an earlier {@code node up} advertised), then every {@link #EVERY} while it advertises anything, so
 * control counts it an online router (one not heard for 10 s is offline and its prefixes fail over). Keeps the last
 * answer for {@code meshwork status}.
 */
final class RouteAdvertiser {

    private static final Logger log = LoggerFactory.getLogger(RouteAdvertiser.class);
    static final Duration EVERY = Duration.ofSeconds(3);

    /** Sends one report; the answer or an exception. */
    interface Sender {
        RouteStatus send(RouteAdvertisement advertisement) throws Exception;
    }

    private final RouteAdvertisement advertisement;
    private final Sender sender;
    private volatile RouteStatus last;
    private volatile String failure;

    RouteAdvertiser(List<String> routes, boolean exitNode, boolean healthy, Sender sender) {
        this.advertisement = new RouteAdvertisement(List.copyOf(routes), exitNode, healthy);
        this.sender = sender;
    }

    boolean advertises() {
        return !advertisement.routes().isEmpty() || Boolean.TRUE.equals(advertisement.exitNode());
    }

    RouteAdvertisement advertisement() {
        return advertisement;
    }

    /** Control's last answer, or null before one. */
    RouteStatus last() {
        return last;
    }

    void start(ScheduledExecutorService scheduler) {
        if (advertises()) {
            scheduler.scheduleWithFixedDelay(this::report, 0, EVERY.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            scheduler.execute(this::report);
        }
    }

    void report() {
        try {
            RouteStatus answer = sender.send(advertisement);
            RouteStatus before = last;
            last = answer;
            failure = null;
            if (answer != null && (before == null || !before.pending().equals(answer.pending()))
                    && !answer.pending().isEmpty()) {
                log.info("routes waiting for an administrator's approval: {} (meshwork admin routes approve)",
                        String.join(", ", answer.pending()));
            }
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            if (!why.equals(failure)) {
                log.warn("cannot report routes to control: {}", why);
            }
            failure = why;
        }
    }
}
