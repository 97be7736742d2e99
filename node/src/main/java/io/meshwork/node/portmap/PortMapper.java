package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.PortMapProtocol;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a port mapping of the WireGuard port on the default gateway (docs/architecture.md, "Port mapping"): asks
 * by PCP, then NAT-PMP, then UPnP IGD; renews at half the lifetime; checks every {@link Settings#checkInterval}
 * that the gateway is the same and still holds the mapping (its PCP/NAT-PMP epoch did not go back), and maps
 * again at once when not; after a round in which no protocol gave a mapping, tries again after a backoff that
 * doubles up to {@link Settings#maxRetry}. Deletes the mapping on {@link #close}. All of it runs on one thread of
 * its own; each attempt is bounded by the protocols' short timeouts, so a gateway that answers nothing costs a few
 * seconds per retry.
 */
public final class PortMapper implements AutoCloseable {

    /**
     * @param attemptTimeout how long one request waits for the gateway (PCP, NAT-PMP, SSDP, each HTTP request)
     * @param lifetime       the mapping lifetime asked for
     * @param checkInterval  how often the gateway and its epoch are checked
     * @param firstRetry     the wait after a round without a mapping, doubled per such round
     * @param maxRetry       the longest wait between rounds
     */
    public record Settings(Duration attemptTimeout, Duration lifetime, Duration checkInterval, Duration firstRetry,
            Duration maxRetry) {

        public static Settings defaults() {
            return new Settings(Duration.ofMillis(500), Duration.ofHours(2), Duration.ofSeconds(30),
                    Duration.ofSeconds(30), Duration.ofMinutes(10));
        }
    }

    private static final Logger log = LoggerFactory.getLogger(PortMapper.class);
    /** Renewals never come closer together than this, whatever lifetime a gateway grants. */
    private static final Duration MIN_RENEWAL = Duration.ofSeconds(5);
    private static final Duration DELETE_PATIENCE = Duration.ofSeconds(3);

    private final int internalPort;
    private final List<MappingClient> clients;
    private final Supplier<Optional<InetAddress>> gateway;
    private final Settings settings;
    private final Consumer<Optional<PortMapping>> changed;
    private final ScheduledExecutorService executor;
    private final CompletableFuture<Void> firstRound = new CompletableFuture<>();
    private volatile Lease lease;
    private InetAddress lastGateway;
    private Duration retry;
    private ScheduledFuture<?> next;
    private volatile boolean closed;

    PortMapper(int internalPort, List<MappingClient> clients, Supplier<Optional<InetAddress>> gateway,
            Settings settings, Consumer<Optional<PortMapping>> changed, ScheduledExecutorService executor) {
        this.internalPort = internalPort;
        this.clients = List.copyOf(clients);
        this.gateway = gateway;
        this.settings = settings;
        this.changed = changed;
        this.executor = executor;
        this.retry = settings.firstRetry();
    }

    /**
     * A port mapper for UDP {@code internalPort} on the default gateway, with the three protocols in order.
     *
     * @param changed told of every new, moved or lost mapping (on the mapper's thread)
     */
    public static PortMapper create(int internalPort, Settings settings, Consumer<Optional<PortMapping>> changed) {
        DropCounter drops = new DropCounter();
        Clock clock = Clock.systemUTC();
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "node-portmap");
            thread.setDaemon(true);
            return thread;
        });
        return new PortMapper(internalPort, List.of(new PcpClient(settings.attemptTimeout(), drops, clock),
                new NatPmpClient(settings.attemptTimeout(), drops, clock),
                new UpnpClient(settings.attemptTimeout(), drops, clock)), DefaultGateway::read, settings, changed,
                executor);
    }

    /** Starts the first round now and the periodic check. */
    public void start() {
        executor.execute((Runnable) this::round);
        executor.scheduleWithFixedDelay(this::check, settings.checkInterval().toMillis(),
                settings.checkInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits at most {@code patience} for the first round to end (so a first endpoint report can carry it). */
    public void awaitFirstRound(Duration patience) {
        try {
            firstRound.get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("port mapping: no answer within {} ms; going on without waiting", patience.toMillis());
        }
    }

    /** The mapping held now. */
    public Optional<PortMapping> current() {
        Lease held = lease;
        return held == null ? Optional.empty() : Optional.of(held.mapping());
    }

    /** One round: renew the mapping held, or ask each protocol in turn for a new one. On the mapper's thread. */
    void round() {
        round(true);
    }

    /** A round; {@code renew} false asks for a new mapping even while one is held (the gateway lost it). */
    private void round(boolean renew) {
        if (closed) {
            return;
        }
        try {
            Optional<InetAddress> router = gateway.get();
            lastGateway = router.orElse(null);
            if (router.isEmpty()) {
                log.debug("port mapping: no default gateway");
                replace(null);
                scheduleRetry();
                return;
            }
            Lease held = renew ? lease : null;
            if (held != null && !held.mapping().gateway().equals(router.get())) {
                log.info("port mapping: the default gateway moved from {} to {}",
                        held.mapping().gateway().getHostAddress(), router.get().getHostAddress());
                held = null;
            }
            if (held != null) {
                Optional<Lease> renewed = attempt(client(held.mapping().protocol()), router.get(), held);
                if (renewed.isPresent()) {
                    replace(renewed.get());
                    scheduleRenewal(renewed.get());
                    return;
                }
                log.info("port mapping: the gateway did not renew the {} mapping {}; asking again",
                        held.mapping().protocol().displayName(), held.mapping().external());
            }
            // The mapping held (if any) is replaced once, by whatever this round gets: no flap through "none".
            for (MappingClient client : clients) {
                Optional<Lease> granted = attempt(client, router.get(), null);
                if (granted.isPresent()) {
                    replace(granted.get());
                    scheduleRenewal(granted.get());
                    return;
                }
            }
            log.debug("port mapping: the gateway {} made no mapping by PCP, NAT-PMP or UPnP",
                    router.get().getHostAddress());
            replace(null);
            scheduleRetry();
        } finally {
            firstRound.complete(null);
        }
    }

    /** The periodic check: another gateway, or one that lost its state, makes a round at once. */
    void check() {
        if (closed) {
            return;
        }
        InetAddress now = gateway.get().orElse(null);
        if (!Objects.equals(now, lastGateway)) {
            log.info("port mapping: the default gateway is now {}", now == null ? "none" : now.getHostAddress());
            round();
            return;
        }
        Lease held = lease;
        if (held == null) {
            return;
        }
        try {
            if (!client(held.mapping().protocol()).stillValid(held)) {
                log.info("port mapping: the gateway {} lost its mappings (its epoch went back); mapping again",
                        held.mapping().gateway().getHostAddress());
                round(false);
            }
        } catch (Exception e) {
            log.debug("port mapping: checking the gateway failed: {}", e.toString());
        }
    }

    private Optional<Lease> attempt(MappingClient client, InetAddress router, Lease previous) {
        try {
            return client.map(router, internalPort, settings.lifetime(), previous);
        } catch (Exception e) {
            log.debug("port mapping: {} with {} failed: {}", client.protocol().displayName(),
                    router.getHostAddress(), e.toString());
            return Optional.empty();
        }
    }

    private MappingClient client(PortMapProtocol protocol) {
        return clients.stream().filter(client -> client.protocol() == protocol).findFirst().orElseThrow();
    }

    private void replace(Lease next) {
        Lease previous = lease;
        lease = next;
        if (next != null) {
            retry = settings.firstRetry();
        }
        PortMapping before = previous == null ? null : previous.mapping();
        PortMapping after = next == null ? null : next.mapping();
        boolean moved = before == null || after == null ? before != after
                : before.protocol() != after.protocol() || !before.external().equals(after.external());
        if (moved) {
            if (after != null) {
                log.info("port mapping: {} maps {} to port {} (gateway {})", after.protocol().displayName(),
                        after.external(), after.internalPort(), after.gateway().getHostAddress());
            }
            changed.accept(Optional.ofNullable(after));
        }
    }

    private void scheduleRenewal(Lease granted) {
        Duration basis = granted.lifetime().isZero() ? settings.lifetime() : granted.lifetime();
        Duration half = basis.dividedBy(2);
        schedule(half.compareTo(MIN_RENEWAL) < 0 ? MIN_RENEWAL : half);
    }

    private void scheduleRetry() {
        schedule(retry);
        Duration doubled = retry.multipliedBy(2);
        retry = doubled.compareTo(settings.maxRetry()) > 0 ? settings.maxRetry() : doubled;
    }

    private void schedule(Duration delay) {
        if (next != null) {
            next.cancel(false);
        }
        if (!closed) {
            next = executor.schedule((Runnable) this::round, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Deletes the mapping held (waiting a few seconds at most) and stops. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        CompletableFuture<Void> deleted = CompletableFuture.runAsync(() -> {
            closed = true;
            Lease held = lease;
            if (held != null) {
                try {
                    client(held.mapping().protocol()).delete(held);
                    log.info("port mapping: deleted the {} mapping {}", held.mapping().protocol().displayName(),
                            held.mapping().external());
                } catch (Exception e) {
                    log.debug("port mapping: deleting failed: {}", e.toString());
                }
                lease = null;
            }
        }, executor);
        try {
            deleted.get(DELETE_PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("port mapping: the mapping was not deleted in time: {}", e.toString());
        }
        closed = true;
        executor.shutdownNow();
    }
}
