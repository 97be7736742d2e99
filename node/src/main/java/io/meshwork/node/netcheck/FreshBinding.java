package io.meshwork.node.netcheck;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.stun.RetransmissionSchedule;
import io.meshwork.protocol.stun.StunClass;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * Which public endpoint a new flow from the socket gets now (docs/architecture.md, "Conntrack collision"): a STUN
 * Binding request on a 5-tuple the socket has not used lately, that is to an address of an RFC 5780 server the
 * netcheck does not send to (the server's alternate port on either of its IPs). Behind Linux's NAT a new flow takes
 * the port of the socket's newest flow (the by-source table), which after a conntrack collision is a displaced port
 * that the netcheck, whose flows are older, never sees; this request is a new flow itself and so reports that port.
 *
 * <p>Asking the same destination again while its flow lives would reuse that flow and report its port, not the one
 * new flows get: each request goes to the destination asked least recently, and an answer a moment old is handed out
 * again rather than asked anew.
 */
public final class FreshBinding {

    /** A destination not asked for this long has no flow left at a Linux NAT (30 s for UDP seen both ways briefly). */
    static final Duration FRESH_AFTER = Duration.ofSeconds(35);
    /** An answer this recent is the answer: new flows made since took the port it reports. */
    static final Duration REUSE_WITHIN = Duration.ofSeconds(2);
    /** How long one request retransmits. */
    static final Duration BUDGET = Duration.ofMillis(1500);
    /** At most this many destinations are kept. */
    private static final int MAX_TARGETS = 16;

    private final LongSupplier clock;
    private List<InetSocketAddress> targets = List.of();
    private final Map<InetSocketAddress, Long> lastAsked = new LinkedHashMap<>();
    private Optional<InetSocketAddress> lastAnswer = Optional.empty();
    private long lastAnswerNanos;

    /** @param clock monotonic nanoseconds (System::nanoTime, or the simulation's virtual clock) */
    public FreshBinding(LongSupplier clock) {
        this.clock = clock;
    }

    /**
     * Takes the destinations from a netcheck: for each server that named an alternate address differing in IP and
     * port, the server's IP at the alternate port and the alternate address itself, neither of which the netcheck
     * sends requests to (test III aside).
     */
    public synchronized void netcheckDone(NetcheckResult result) {
        List<InetSocketAddress> found = new ArrayList<>();
        for (ServerProbe probe : result.servers()) {
            probe.otherAddress()
                    .filter(other -> !other.getAddress().equals(probe.server().getAddress())
                            && other.getPort() != probe.server().getPort()
                            && other.getAddress().getClass() == probe.server().getAddress().getClass())
                    .ifPresent(other -> {
                        found.add(new InetSocketAddress(probe.server().getAddress(), other.getPort()));
                        found.add(other);
                    });
        }
        if (!found.isEmpty()) {
            targets = List.copyOf(found.subList(0, Math.min(found.size(), MAX_TARGETS)));
            lastAsked.keySet().retainAll(targets);
        }
    }

    /** Whether a netcheck named a destination to ask. */
    public synchronized boolean canAsk() {
        return !targets.isEmpty();
    }

    /**
     * The public endpoint a new flow from {@code transport}'s socket gets now, as a server saw this request; empty
     * when there is no destination to ask or no answer came within the budget. The caller makes sure no other STUN
     * client holds the transport meanwhile.
     */
    public CompletableFuture<Optional<InetSocketAddress>> ask(PacketTransport transport,
            ScheduledExecutorService scheduler) {
        InetSocketAddress target;
        synchronized (this) {
            long now = clock.getAsLong();
            if (lastAnswer.isPresent() && now - lastAnswerNanos < REUSE_WITHIN.toNanos()) {
                return CompletableFuture.completedFuture(lastAnswer);
            }
            target = leastRecentlyAsked();
            if (target == null) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            lastAsked.put(target, now);
        }
        StunClient client = new StunClient(transport, scheduler);
        return client.request(target, List.of(), RetransmissionSchedule.RFC_8489_DEFAULT.withBudget(BUDGET))
                .handle((response, failure) -> {
                    client.close();
                    Optional<InetSocketAddress> mapped = failure != null ? Optional.empty() : response
                            .filter(answer -> answer.message().messageClass() == StunClass.SUCCESS_RESPONSE)
                            .flatMap(answer -> answer.message().mappedAddress());
                    synchronized (this) {
                        if (mapped.isPresent()) {
                            lastAnswer = mapped;
                            lastAnswerNanos = clock.getAsLong();
                        }
                    }
                    return mapped;
                });
    }

    /** A destination not asked within {@link #FRESH_AFTER} (in list order), else the one asked longest ago. */
    private InetSocketAddress leastRecentlyAsked() {
        long now = clock.getAsLong();
        InetSocketAddress oldest = null;
        long oldestAt = Long.MAX_VALUE;
        for (InetSocketAddress target : targets) {
            Long asked = lastAsked.get(target);
            if (asked == null || now - asked >= FRESH_AFTER.toNanos()) {
                return target;
            }
            if (asked < oldestAt) {
                oldestAt = asked;
                oldest = target;
            }
        }
        return oldest;
    }
}
