package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.Pcp;
import io.meshwork.protocol.portmap.PortMapProtocol;
import java.io.IOException;
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
 * by PCP, then NAT-PMP, then UPnP IGD; renews at half the lifetime; checks every
 * {@link Settings#networkCheckInterval} that the network is the same (the default gateway and this host's address
 * towards it) and every {@link Settings#epochCheckInterval} that the gateway still holds the mapping (its PCP or
 * NAT-PMP epoch did not go back), and maps again at once when not; after a round in which no protocol gave a
 * mapping, tries again after a backoff that doubles up to {@link Settings#maxRetry}. Deletes the mapping on
 * {@link #close}. All of it runs on one thread of its own; each attempt is bounded by the protocols' short
 * timeouts, so a gateway that answers nothing costs a few seconds per retry.
 */
public final class PortMapper implements AutoCloseable {

    /**
     * @param attemptTimeout how long one request waits for the gateway (PCP, NAT-PMP, SSDP, each HTTP request)
     * @param lifetime       the mapping lifetime asked for
     * @param networkCheckInterval how often the default gateway and the address towards it are compared (cheap)
     * @param epochCheckInterval   how often the gateway's epoch is asked (one request and reply)
     * @param firstRetry     the wait after a round without a mapping, doubled per such round
     * @param maxRetry       the longest wait between rounds
     */
    public record Settings(Duration attemptTimeout, Duration lifetime, Duration networkCheckInterval,
            Duration epochCheckInterval, Duration firstRetry, Duration maxRetry) {

        public static Settings defaults() {
            return new Settings(Duration.ofMillis(500), Duration.ofHours(2), Duration.ofSeconds(5),
                    Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofMinutes(10));
        }
    }

    /** Where this host is: its default gateway and its own address towards it (null when unknown). */
    record Network(InetAddress gateway, InetAddress local) {}

    private static final Logger log = LoggerFactory.getLogger(PortMapper.class);
    /** Renewals never come closer together than this, whatever lifetime a gateway grants. */
    private static final Duration MIN_RENEWAL = Duration.ofSeconds(5);
    private static final Duration DELETE_PATIENCE = Duration.ofSeconds(3);

    private final int internalPort;
    private final List<MappingClient> clients;
    private final Supplier<Optional<Network>> network;
    private final Settings settings;
    private final Consumer<Optional<PortMapping>> changed;
    private final ScheduledExecutorService executor;
    private final CompletableFuture<Void> firstRound = new CompletableFuture<>();
    private volatile Lease lease;
    private Network lastNetwork;
    private Duration retry;
    private ScheduledFuture<?> next;
    private volatile boolean closed;

    PortMapper(int internalPort, List<MappingClient> clients, Supplier<Optional<Network>> network,
            Settings settings, Consumer<Optional<PortMapping>> changed, ScheduledExecutorService executor) {
        this.internalPort = internalPort;
        this.clients = List.copyOf(clients);
        this.network = network;
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
                new UpnpClient(settings.attemptTimeout(), drops, clock)), PortMapper::currentNetwork, settings,
                changed, executor);
    }

    /** The default gateway and the local address towards it, from the host's routes. */
    private static Optional<Network> currentNetwork() {
        return DefaultGateway.read().map(gateway -> {
            try {
                return new Network(gateway, GatewayDatagrams.localAddressTowards(gateway, Pcp.SERVER_PORT));
            } catch (IOException e) {
                return new Network(gateway, null);
            }
        });
    }

    /** Starts the first round now, and the periodic network and epoch checks. */
    public void start() {
        executor.execute(guarded("a round", this::round));
        executor.scheduleWithFixedDelay(guarded("the network check", this::checkNetwork),
                settings.networkCheckInterval().toMillis(), settings.networkCheckInterval().toMillis(),
                TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(guarded("the epoch check", this::checkEpoch),
                settings.epochCheckInterval().toMillis(), settings.epochCheckInterval().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** A task whose failure is logged: a periodic task that threw would never run again. */
    private static Runnable guarded(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.warn("port mapping: {} failed: {}", what, e.toString());
            }
        };
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
            Optional<Network> where = network.get();
            lastNetwork = where.orElse(null);
            Optional<InetAddress> router = where.map(Network::gateway);
            if (router.isEmpty()) {
                log.debug("port mapping: no default gateway");
                replace(null);
                scheduleRetry();
                return;
            }
            Lease held = renew ? lease : null;
            if (held != null && (!held.mapping().gateway().equals(router.get())
                    || !held.internalClient().equals(where.get().local()))) {
                log.info("port mapping: the network changed (gateway {}, address {}); asking for a new mapping",
                        router.get().getHostAddress(), where.get().local());
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

    /** Another gateway, or another address towards it, makes a round at once. */
    void checkNetwork() {
        if (closed) {
            return;
        }
        Network now = network.get().orElse(null);
        if (!Objects.equals(now, lastNetwork)) {
            log.info("port mapping: the default gateway is now {}", now == null ? "none"
                    : now.gateway().getHostAddress() + " (this host " + now.local() + ")");
            round();
        }
    }

    /** A gateway that lost its state (its epoch went back) is asked for a new mapping at once. */
    void checkEpoch() {
        Lease held = lease;
        if (closed || held == null) {
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
