package io.meshwork.node.relay;

import io.meshwork.protocol.api.RelayInfo;
import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.wireguard.Key;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's relays (docs/architecture.md, "Relay selection and failover"): it measures its round trip to every relay
 * control lists (at start, every {@link #MEASURE_INTERVAL}, when the list or the node's network changes), keeps one
 * home relay chosen by {@link HomeRelayChoice} (the lowest latency, moving only to a clearly faster one and never
 * away from one that delivered a WireGuard packet within 8 s; disco pings, which every relayed tunnel sends every 5 s,
 * do not count) and a connection to it always. Relayed traffic to a peer goes to
 * the peer's home relay, as the peer map gives it ({@link #peerHome}): the node connects to it on demand (until it
 * is up, traffic goes through the node's own home, where the peer is too when it sends to this node; a peer that
 * reports no home relay, as nodes before home relays, is taken to be on the first listed relay) and closes such
 * a connection after {@link #IDLE_AFTER} without traffic; at most {@link #MAX_CONNECTIONS} connections are open,
 * the least recently used other one closed for a new one. Everything any connected relay delivers is received.
 *
 * <p>Failover: when the home relay stops answering ({@link RelayFailover}: silent for 5 s while the node waits for
 * it, or down that long) the node moves at once to the next-best relay by latency (the first other listed one when
 * none was measured), forgets the failed one's latency until it answers a measurement again, and reports the move
 * ({@link Events#homeChanged}); its peers follow through the peer map.
 *
 * <p>Over 500 lines on purpose: the home choice, failover, on-demand connections to peers' relays and their idle
 * closing all change one set of connections under one lock, and the data path reads that set without it; keeping
 * them together is what lets a reader check that no connection is opened twice, left open, or used after it failed.
 *
 * <p>Threads: {@link #tick} (every second), {@link #relaysListed}, {@link #peerHome}, {@link #measureNow} and the
 * measurements' answers are serialized on this object; {@link #clientFor} runs on the data path (any thread) without
 * taking the lock, and asks {@code executor} to open a missing connection.
 */
public final class HomeRelays implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HomeRelays.class);

    /** How often the node measures every relay's round trip again. */
    public static final Duration MEASURE_INTERVAL = Duration.ofSeconds(60);
    /** A connection other than the home one is closed after this long without traffic either way. */
    public static final Duration IDLE_AFTER = Duration.ofSeconds(60);
    /** Connections open at most: the home relay's and peers' home relays'. */
    public static final int MAX_CONNECTIONS = 8;
    /** Relays of control's list taken into account at most. */
    static final int MAX_LISTED = RelayLatencyProbe.MAX_RELAYS;

    /** Opens a relay client: the agent's on the node's socket and certificate, the simulation's on virtual time. */
    @FunctionalInterface
    public interface Connector {
        /**
         * A client connecting to {@code relay} that hands what it receives to {@code listener} ({@code tcpFirst}:
         * straight to TCP, the node's UDP looks blocked), or empty when the relay cannot be used (logged).
         */
        Optional<RelayLink> connect(RelayInfo relay, RelayListener listener, boolean tcpFirst);
    }

    /** Measures round trips ({@link RelayLatencyProbe}). */
    @FunctionalInterface
    public interface Measurer {
        /** The round trip to each of {@code relays} that answered, by name. */
        CompletionStage<Map<String, Duration>> measure(List<RelayInfo> relays);
    }

    /** What the node does when its home relay changes: it reports it to control with its endpoints. */
    @FunctionalInterface
    public interface Events {
        void homeChanged(String home);
    }

    /** The home relay and what was measured, for {@code meshwork status} and {@code netcheck}. */
    public record Snapshot(String home, Duration homeLatency, String homeTransport, Map<String, Duration> latencies,
            List<String> connected) {}

    private final Connector connector;
    private final Measurer measurer;
    private final RelayListener delivery;
    private final Events events;
    private final Executor executor;
    private final LongSupplier nanoTime;

    /** Open connections by relay name; written under the lock, read from the data path. */
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    /** Each peer's home relay as the peer map says, by WireGuard key; bounded by the peer map. */
    private final Map<Key, String> peerHomes = new ConcurrentHashMap<>();
    /** Relays a connection was asked for from the data path and not opened yet. */
    private final Set<String> connecting = ConcurrentHashMap.newKeySet();
    private volatile Connection home;
    /** When a relay last failed as this node's home: not connected to on demand for a while after. */
    private final Map<String, Long> failedAt = new ConcurrentHashMap<>();
    /** The usable listed relays, in control's order. */
    private volatile List<RelayInfo> listed = List.of();
    /**
     * The first of them: where a peer that reports no home relay is, for a node before home relays connects to the
     * first listed relay (and a new one starts there until it measured).
     */
    private volatile String firstListed;
    private volatile Map<String, Duration> latencies = Map.of();
    /** Whether the home relay was chosen by measured latency (not by list order, before any measurement). */
    private boolean homeByLatency;
    private boolean measuring;
    private long lastMeasureNanos;
    private boolean measuredOnce;
    private int moves;
    private volatile boolean closed;

    public HomeRelays(Connector connector, Measurer measurer, RelayListener delivery, Events events,
            Executor executor, LongSupplier nanoTime) {
        this.connector = connector;
        this.measurer = measurer;
        this.delivery = delivery;
        this.events = events;
        this.executor = executor;
        this.nanoTime = nanoTime;
    }

    // ---- the data path (any thread, no lock) ---------------------------------------------------------------

    /**
     * The client to send relayed traffic for {@code peer} through: the peer's home relay when this node is connected
     * to it, else this node's home relay (and the peer's is connected to for the next packets); null without any.
     */
    public RelayLink clientFor(Key peer) {
        Connection own = home;
        String wanted = peerHomes.getOrDefault(peer, firstListed);
        if (wanted != null && (own == null || !wanted.equals(own.info.name()))) {
            Connection theirs = connections.get(wanted);
            if (theirs != null) {
                theirs.used();
                if (own == null || answering(theirs.client)) {
                    return theirs.client;
                }
            } else if (isListed(wanted) && !recentlyFailed(wanted) && connecting.add(wanted)) {
                try {
                    executor.execute(() -> connectFor(wanted));
                } catch (RuntimeException e) {
                    connecting.remove(wanted);
                    log.debug("cannot connect to relay {} now: {}", wanted, e.toString());
                }
            }
        }
        if (own == null) {
            return null;
        }
        own.used();
        return own.client;
    }

    /** Sends a node coordination message to {@code peer} through its relay; false when it was dropped. */
    public boolean sendDisco(Key peer, ByteBuffer message) {
        RelayLink client = clientFor(peer);
        return client != null && client.sendDisco(RelayKey.of(peer.toBytes()), message);
    }

    /** Sends a WireGuard datagram to {@code peer} through its relay; false when it was dropped. */
    public boolean sendPacket(Key peer, ByteBuffer datagram) {
        RelayLink client = clientFor(peer);
        return client != null && client.sendPacket(RelayKey.of(peer.toBytes()), datagram);
    }

    /** The name of the relay traffic to {@code peer} goes through now, or null without any. */
    public String relayFor(Key peer) {
        Connection own = home;
        String wanted = peerHomes.getOrDefault(peer, firstListed);
        if (wanted != null && (own == null || !wanted.equals(own.info.name()))) {
            Connection theirs = connections.get(wanted);
            if (theirs != null && (own == null || answering(theirs.client))) {
                return wanted;
            }
        }
        return own == null ? null : own.info.name();
    }

    /** Connected, and not silent for the failover time while waiting for the relay. */
    private static boolean answering(RelayLink link) {
        return link.status().connected()
                && !RelayFailover.shouldLeave(true, link.silence(), link.awaitingRelay());
    }

    // ---- what the node learns --------------------------------------------------------------------------------

    /** Control's relay list now (the registration's, then each "relays" event's). */
    public synchronized void relaysListed(List<RelayInfo> relays) {
        if (closed) {
            return;
        }
        List<RelayInfo> usable = relays.stream().filter(HomeRelays::usable).limit(MAX_LISTED).toList();
        boolean news = usable.stream().anyMatch(relay -> !latencies.containsKey(relay.name()));
        listed = usable;
        firstListed = usable.isEmpty() ? null : usable.get(0).name();
        Set<String> names = usable.stream().map(RelayInfo::name).collect(Collectors.toSet());
        failedAt.keySet().retainAll(names);
        latencies = latencies.entrySet().stream().filter(entry -> names.contains(entry.getKey()))
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
        for (Connection connection : List.copyOf(connections.values())) {
            if (connection != home && !isListedAsIs(connection.info)) {
                closeConnection(connection, "no longer listed by control");
            }
        }
        Connection current = home;
        if (current == null) {
            reconsider(false, "connecting");
        } else if (!isListedAsIs(current.info)) {
            reconsider(true, "relay " + current.info.name() + " is no longer listed healthy by control");
        }
        if (news) {
            measureNow("the relay list changed");
        }
    }

    /** The peer map says {@code peer}'s home relay is {@code relay} (null: it reported none, or it left). */
    public void peerHome(Key peer, String relay) {
        if (relay == null) {
            peerHomes.remove(peer);
        } else {
            peerHomes.put(peer, relay);
        }
    }

    /** Every peer's home relay at once, as the peer map has them now (null values: none); others are forgotten. */
    public void peerHomes(Map<Key, String> homes) {
        peerHomes.keySet().retainAll(homes.keySet());
        homes.forEach(this::peerHome);
    }

    /** The peer left the peer map. */
    public void forgetPeer(Key peer) {
        peerHomes.remove(peer);
    }

    /** Measures every listed relay now (at start, on a network change); a round already running is enough. */
    public synchronized void measureNow(String why) {
        // With one relay there is nothing to choose: no measurement traffic.
        if (closed || measuring || listed.size() < 2) {
            return;
        }
        measuring = true;
        lastMeasureNanos = nanoTime.getAsLong();
        log.debug("measuring relay latencies: {}", why);
        CompletionStage<Map<String, Duration>> round;
        try {
            round = measurer.measure(listed);
        } catch (RuntimeException e) {
            measuring = false;
            log.debug("cannot measure relay latencies: {}", e.toString());
            return;
        }
        round.whenComplete((measured, failure) -> measured(measured == null ? Map.of() : measured));
    }

    /**
     * Every second: leaves a home relay that stopped answering, closes idle extra connections, and measures again
     * when {@link #MEASURE_INTERVAL} has passed.
     */
    public synchronized void tick() {
        if (closed) {
            return;
        }
        Connection current = home;
        if (current != null && RelayFailover.shouldLeave(current.client.status().connected(),
                current.client.silence(), current.client.awaitingRelay())) {
            Map<String, Duration> without = new HashMap<>(latencies);
            without.remove(current.info.name());
            latencies = Map.copyOf(without);
            reconsider(true, "relay " + current.info.name() + " stopped answering");
        } else if (current == null && !listed.isEmpty()) {
            reconsider(false, "no home relay");
        }
        long now = nanoTime.getAsLong();
        for (Connection connection : List.copyOf(connections.values())) {
            if (connection != home && now - connection.lastUsedNanos >= IDLE_AFTER.toNanos()) {
                closeConnection(connection, "idle");
            }
        }
        if (!measuring && now - lastMeasureNanos >= MEASURE_INTERVAL.toNanos()) {
            measureNow("every " + MEASURE_INTERVAL.toSeconds() + " s");
        }
    }

    /** Authenticates every connection with a renewed credential. */
    public void renewCredential(RelayCredential renewed) {
        for (Connection connection : List.copyOf(connections.values())) {
            try {
                connection.client.renewCredential(renewed);
            } catch (RuntimeException e) {
                log.warn("cannot use the renewed certificate with relay {}: {}", connection.info.name(),
                        e.toString());
            }
        }
    }

    // ---- what others read ------------------------------------------------------------------------------------

    /** The home relay's name, or null without one. */
    public String homeName() {
        Connection current = home;
        return current == null ? null : current.info.name();
    }

    /** The home relay's client, or null without one. */
    public RelayLink homeClient() {
        Connection current = home;
        return current == null ? null : current.client;
    }

    /** The client connected (or connecting) to relay {@code name}, if there is one. */
    public Optional<RelayLink> connection(String name) {
        return Optional.ofNullable(connections.get(name)).map(connection -> connection.client);
    }

    /** How often the home relay changed (the first one aside). */
    public synchronized int moves() {
        return moves;
    }

    public synchronized Snapshot snapshot() {
        Connection current = home;
        Map<String, Duration> ordered = new LinkedHashMap<>();
        for (RelayInfo relay : listed) {
            Duration latency = latencies.get(relay.name());
            if (latency != null) {
                ordered.put(relay.name(), latency);
            }
        }
        String transport = current == null ? null : current.client.status().transport()
                .map(t -> t == Transport.TCP ? "tcp" : "udp").orElse(null);
        return new Snapshot(current == null ? null : current.info.name(),
                current == null ? null : latencies.get(current.info.name()), transport,
                java.util.Collections.unmodifiableMap(ordered),
                connections.keySet().stream().sorted().toList());
    }

    /**
     * The relay a node with these latencies would make its home when it has none yet: the fastest, ties to the
     * first listed (what {@code meshwork netcheck} shows).
     */
    public static Optional<String> wouldBeHome(List<RelayInfo> relays, Map<String, Duration> measured) {
        return relays.stream().filter(HomeRelays::usable).filter(relay -> measured.containsKey(relay.name()))
                .min(Comparator.comparing(relay -> measured.get(relay.name())))
                .map(RelayInfo::name);
    }

    // ---- inside, under the lock ------------------------------------------------------------------------------

    private synchronized void measured(Map<String, Duration> measured) {
        measuring = false;
        if (closed) {
            return;
        }
        Set<String> names = listed.stream().map(RelayInfo::name).collect(Collectors.toSet());
        latencies = measured.entrySet().stream().filter(entry -> names.contains(entry.getKey()))
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
        if (!measuredOnce || log.isDebugEnabled()) {
            log.info("relay latencies: {}", describe(latencies));
        }
        measuredOnce = true;
        reconsider(false, "measured");
    }

    /** Chooses the home relay again and moves there when it is another one. */
    private void reconsider(boolean homeFailed, String why) {
        Connection current = home;
        String currentName = current == null ? null : current.info.name();
        Duration sinceDelivered = current == null ? null : current.sinceDelivered(nanoTime.getAsLong());
        boolean recentlyActive = sinceDelivered != null
                && sinceDelivered.compareTo(HomeRelayChoice.ACTIVE_WINDOW) < 0;
        // A home taken by list order before anything was measured is no choice to hold on to (unless busy).
        String asHome = homeByLatency || homeFailed || recentlyActive ? currentName : null;
        Set<String> names = listed.stream().map(RelayInfo::name).collect(Collectors.toSet());
        Optional<String> chosen = HomeRelayChoice.choose(new HomeRelayChoice.Facts(asHome, names, latencies,
                sinceDelivered, homeFailed));
        boolean byLatency = chosen.isPresent() && latencies.containsKey(chosen.get());
        if (chosen.isEmpty()) {
            if (current != null && !homeFailed && isListedAsIs(current.info)) {
                return;
            }
            // Nothing measured answers: the first listed relay other than a failed home.
            chosen = listed.stream().map(RelayInfo::name)
                    .filter(name -> !(homeFailed && name.equals(currentName))).findFirst();
            if (chosen.isEmpty()) {
                return;
            }
        }
        String target = chosen.get();
        if (target.equals(currentName)) {
            if (!homeFailed && byLatency) {
                homeByLatency = true;
            }
            return;
        }
        RelayInfo next = listed.stream().filter(relay -> relay.name().equals(target)).findFirst().orElse(null);
        if (next != null && moveHome(next, homeFailed, why)) {
            homeByLatency = byLatency;
        }
    }

    private boolean moveHome(RelayInfo next, boolean leavingFailed, String why) {
        Connection old = home;
        Connection connection = connections.get(next.name());
        if (connection != null && !sameRelay(connection.info, next)) {
            closeConnection(connection, "listed at other addresses");
            connection = null;
        }
        if (connection == null) {
            connection = open(next);
            if (connection == null) {
                return false;
            }
        }
        home = connection;
        connection.used();
        if (old != null) {
            moves++;
        }
        if (old != null && leavingFailed) {
            failedAt.put(old.info.name(), nanoTime.getAsLong());
        }
        if (old == null) {
            log.info("home relay {}{}", next.name(), latencyText(next.name()));
        } else if (leavingFailed) {
            log.warn("{}: home relay now {}{}", why, next.name(), latencyText(next.name()));
        } else {
            log.info("home relay {} -> {}{} ({})", old.info.name(), next.name(), latencyText(next.name()), why);
        }
        if (old != null && old != connection) {
            if (leavingFailed || !isListedAsIs(old.info)) {
                closeConnection(old, "left");
            } else {
                // Peers send here until they learn of the move: kept until it idles out.
                old.used();
            }
        }
        events.homeChanged(next.name());
        return true;
    }

    private synchronized void connectFor(String name) {
        try {
            if (closed || connections.containsKey(name)) {
                return;
            }
            listed.stream().filter(relay -> relay.name().equals(name)).findFirst().ifPresent(this::open);
        } finally {
            connecting.remove(name);
        }
    }

    private Connection open(RelayInfo relay) {
        while (connections.size() >= MAX_CONNECTIONS) {
            Optional<Connection> leastUsed = connections.values().stream().filter(c -> c != home)
                    .min(Comparator.comparingLong(c -> c.lastUsedNanos));
            if (leastUsed.isEmpty()) {
                break;
            }
            closeConnection(leastUsed.get(), "making room for relay " + relay.name());
        }
        Connection connection = new Connection(relay);
        Optional<RelayLink> client;
        try {
            client = connector.connect(relay, connection, udpLooksBlocked());
        } catch (RuntimeException e) {
            log.warn("cannot use relay {}: {}", relay.name(), e.toString());
            return null;
        }
        if (client.isEmpty()) {
            return null;
        }
        connection.client = client.get();
        connection.used();
        connections.put(relay.name(), connection);
        return connection;
    }

    /** Every relay this node reached so far it reached over TCP only: it goes to TCP at once elsewhere too. */
    private boolean udpLooksBlocked() {
        boolean tcp = false;
        for (Connection connection : connections.values()) {
            Optional<Transport> last = connection.client.lastTransport();
            if (last.equals(Optional.of(Transport.UDP))) {
                return false;
            }
            tcp |= last.equals(Optional.of(Transport.TCP));
        }
        return tcp;
    }

    private void closeConnection(Connection connection, String why) {
        connections.remove(connection.info.name(), connection);
        if (connection == home) {
            home = null;
        }
        log.debug("closing the connection to relay {}: {}", connection.info.name(), why);
        connection.client.close();
    }

    /** Failed as this node's home within {@link #IDLE_AFTER}: its peers are moving away from it too. */
    private boolean recentlyFailed(String name) {
        Long at = failedAt.get(name);
        return at != null && nanoTime.getAsLong() - at < IDLE_AFTER.toNanos();
    }

    private boolean isListed(String name) {
        for (RelayInfo relay : listed) {
            if (relay.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private boolean isListedAsIs(RelayInfo info) {
        return listed.stream().anyMatch(relay -> sameRelay(relay, info));
    }

    private String latencyText(String name) {
        Duration latency = latencies.get(name);
        return latency == null ? "" : " (" + millis(latency) + ")";
    }

    private static String describe(Map<String, Duration> measured) {
        if (measured.isEmpty()) {
            return "none answered";
        }
        return measured.entrySet().stream().sorted(Map.Entry.comparingByValue())
                .map(entry -> entry.getKey() + " " + millis(entry.getValue())).collect(Collectors.joining(", "));
    }

    /** A round trip as "12.3 ms". */
    public static String millis(Duration latency) {
        return String.format(java.util.Locale.ROOT, "%.1f ms", latency.toNanos() / 1e6);
    }

    /** Not known to be unhealthy, and named. */
    static boolean usable(RelayInfo relay) {
        return relay != null && relay.name() != null && !Boolean.FALSE.equals(relay.healthy());
    }

    /** The same relay at the same addresses, trusted the same way (region and health aside). */
    static boolean sameRelay(RelayInfo a, RelayInfo b) {
        return Objects.equals(a.name(), b.name()) && Objects.equals(a.udp(), b.udp())
                && Objects.equals(a.tcp(), b.tcp()) && Objects.equals(a.tlsSha256(), b.tlsSha256());
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (Connection connection : List.copyOf(connections.values())) {
            closeConnection(connection, "closing");
        }
        home = null;
    }

    /** One open relay connection and when it last carried traffic. */
    private final class Connection implements RelayListener {
        final RelayInfo info;
        volatile RelayLink client;
        volatile long lastUsedNanos;
        /** When the relay last delivered a WireGuard packet; meaningful once {@link #delivered}. */
        volatile long lastDeliveredNanos;
        volatile boolean delivered;

        Connection(RelayInfo info) {
            this.info = info;
            this.lastUsedNanos = nanoTime.getAsLong();
        }

        void used() {
            lastUsedNanos = nanoTime.getAsLong();
        }

        Duration sinceDelivered(long now) {
            return delivered ? Duration.ofNanos(Math.max(0, now - lastDeliveredNanos)) : null;
        }

        private void arrived() {
            long now = nanoTime.getAsLong();
            lastDeliveredNanos = now;
            lastUsedNanos = now;
            delivered = true;
        }

        @Override
        public void onPacket(RelayKey source, ByteBuffer payload) {
            arrived();
            delivery.onPacket(source, payload);
        }

        @Override
        public void onDisco(RelayKey source, ByteBuffer payload) {
            // Not traffic: relayed tunnels ping their peers every 5 s, which would keep every home "busy".
            lastUsedNanos = nanoTime.getAsLong();
            delivery.onDisco(source, payload);
        }

        @Override
        public void onPeerGone(RelayKey peer) {
            delivery.onPeerGone(peer);
        }

        @Override
        public void onStatus(RelayStatus status) {
            delivery.onStatus(status);
        }
    }
}
