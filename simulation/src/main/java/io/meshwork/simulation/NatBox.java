package io.meshwork.simulation;

import io.meshwork.protocol.nat.FilteringBehavior;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;

/**
 * A UDP NAT with RFC 4787 behaviour between a {@link Site} and its parent: it owns one public IP in the
 * parent site and translates between that and the site's private endpoints.
 *
 * <p>Mappings are keyed by the internal endpoint plus, for endpoint-dependent mapping, the destination
 * (RFC 4787 §4.1); each holds one public port and the permissions its outbound traffic opened (RFC 4787 §5).
 * A mapping's timer restarts with every outbound packet and, if so configured, with every admitted inbound
 * one; expired mappings are removed when next looked at, which is indistinguishable from a timer from
 * outside. All methods run on the simulation's driving thread.
 */
public final class NatBox {

    /** Why the NAT dropped a packet. */
    public enum DropReason {
        BLOCKED, FILTERED, NO_MAPPING, HAIRPIN_DISABLED, PORTS_EXHAUSTED,
        /** The time to live ran out: the NAT would have had to forward a packet with TTL 1. */
        TTL_EXCEEDED,
        /** Unsolicited, delivered to the gateway itself (which accepts input) and kept in its conntrack table. */
        DELIVERED_TO_GATEWAY
    }

    /** The outcome of one translation: the rewritten packet, or why there is none. */
    sealed interface Translation {
    }

    record Translated(Packet packet) implements Translation {
    }

    record Dropped(DropReason reason) implements Translation {
    }

    private static final int FIRST_PORT = 1024;
    private static final int LAST_PORT = 65535;
    private static final int RANDOM_PORT_ATTEMPTS = 64;
    /** Linux's {@code nf_conntrack_udp_timeout}: an entry that saw packets one way only. */
    static final long UNREPLIED_NANOS = 30_000_000_000L;
    /**
     * Linux's {@code nf_conntrack_udp_timeout_stream}: an entry that saw packets both ways and a packet more than
     * {@link #STREAM_AFTER_NANOS} after it began. One that saw a reply only within its first 2 s (a STUN exchange)
     * keeps the unreplied timeout.
     */
    static final long REPLIED_NANOS = 120_000_000_000L;
    /** Linux extends a replied UDP entry to the stream timeout only for a packet this long after it began. */
    static final long STREAM_AFTER_NANOS = 2_000_000_000L;
    /** At most this many gateway-local entries and per-destination sessions per mapping are kept. */
    private static final int MAX_CONNTRACK = 4096;

    /** A 5-tuple's conntrack state under a mapping of a NAT that {@link NatBehavior#acceptsInput() accepts input}. */
    private static final class Session {
        final long createdNanos;
        long lastActiveNanos;
        boolean replied;
        boolean stream;

        Session(long nowNanos) {
            this.createdNanos = nowNanos;
            this.lastActiveNanos = nowNanos;
        }

        /** A packet passed: the timer restarts, and a replied entry older than 2 s becomes a stream. */
        void touch(long nowNanos) {
            lastActiveNanos = nowNanos;
            stream |= replied && nowNanos - createdNanos > STREAM_AFTER_NANOS;
        }

        boolean expired(long nowNanos) {
            return nowNanos - lastActiveNanos >= (stream ? REPLIED_NANOS : UNREPLIED_NANOS);
        }
    }

    /** A conntrack entry of a packet from {@code remote} to the gateway's own {@code port}. */
    private record LocalKey(InetSocketAddress remote, int port) {
    }

    private record MappingKey(InetSocketAddress internal, InetSocketAddress destination) {
    }

    private static final class Mapping {
        final MappingKey key;
        final int publicPort;
        final Set<InetAddress> contactedAddresses = new HashSet<>();
        final Set<InetSocketAddress> contactedEndpoints = new HashSet<>();
        boolean replied;
        /** For a NAT that accepts input: each destination's 5-tuple, which expires on its own (Linux timeouts). */
        final Map<InetSocketAddress, Session> sessions = new HashMap<>();
        /** A 5-tuple that collided with a gateway-local entry and got a port of its own (key has a destination). */
        boolean displaced;
        /** A displaced 5-tuple that became a stream (Linux's rule, as for {@link Session#touch}). */
        boolean stream;
        final long createdNanos;
        /** The permanent mapping of {@link NatBehavior#forwardedPort()}: admits everyone, never expires. */
        boolean forwarded;
        long lastActiveNanos;

        Mapping(MappingKey key, int publicPort, long nowNanos) {
            this.key = key;
            this.publicPort = publicPort;
            this.lastActiveNanos = nowNanos;
            this.createdNanos = nowNanos;
        }
    }

    private final String name;
    private final NatBehavior behavior;
    private final InetAddress publicIp;
    private final SimScheduler scheduler;
    private final Map<MappingKey, Mapping> byKey = new HashMap<>();
    private final Map<Integer, Mapping> byPublicPort = new HashMap<>();
    /** Remote addresses a firewall rule cuts off: UDP to and from them is dropped. */
    private final Set<InetAddress> blockedRemotes = new HashSet<>();
    /** Entries of unsolicited packets delivered to the gateway itself, with when each was last refreshed. */
    private final Map<LocalKey, Long> localEntries = new java.util.LinkedHashMap<>();
    /**
     * For a NAT that accepts input, Linux's by-source table: each internal endpoint's flows (5-tuples), oldest first.
     * A new flow from that endpoint takes the public port of the newest one still alive when its reply tuple is free
     * there, so after a collision the socket's later flows leave from the displaced port too, and keep doing so as
     * long as the newest flow of the socket is on it.
     */
    private final Map<InetSocketAddress, java.util.ArrayDeque<Flow>> flowsBySource = new HashMap<>();

    /** One 5-tuple in the by-source table: a session under its mapping, or a displaced mapping (session null). */
    private record Flow(int port, Mapping mapping, InetSocketAddress destination, Session session) {
    }

    /** Displaced 5-tuples by their remote endpoint and public port (several may share a port, one per remote). */
    private final Map<LocalKey, Mapping> displacedByRemote = new HashMap<>();
    private long deliveredToGateway;
    private long conntrackCollisions;
    private long droppedTtl;
    private int nextSequentialPort;
    private long translatedOutbound;
    private long translatedInbound;
    private long hairpinned;
    private long droppedByFilter;
    private long droppedNoMapping;
    private long droppedBlocked;
    private long droppedHairpinDisabled;
    private long droppedPortsExhausted;
    private long mappingsCreated;
    private long mappingsExpired;

    NatBox(String name, NatBehavior behavior, InetAddress publicIp, SimScheduler scheduler) {
        this.name = name;
        this.behavior = behavior;
        this.publicIp = publicIp;
        this.scheduler = scheduler;
        // A sequential NAT starts counting somewhere; where is part of the seeded run.
        this.nextSequentialPort = FIRST_PORT + scheduler.random().nextInt(LAST_PORT - FIRST_PORT + 1);
    }

    public String name() {
        return name;
    }

    public NatBehavior behavior() {
        return behavior;
    }

    /** The NAT's address in its parent site: the source of everything it sends out. */
    public InetAddress publicIp() {
        return publicIp;
    }

    /** Forgets every mapping at once, as a router reboot or a conntrack flush does. */
    public synchronized void flushMappings() {
        byKey.clear();
        byPublicPort.clear();
        localEntries.clear();
        flowsBySource.clear();
        displacedByRemote.clear();
    }

    /** Unsolicited packets delivered to the gateway itself (a NAT that accepts input); each keeps a local entry. */
    public synchronized long deliveredToGateway() {
        return deliveredToGateway;
    }

    /**
     * Packets from inside whose 5-tuple collided with a gateway-local entry and left from another port than the
     * mapping's: the conntrack collision of a NAT that accepts input.
     */
    public synchronized long conntrackCollisions() {
        return conntrackCollisions;
    }

    /** Packets dropped because forwarding them would have taken their last hop of time to live. */
    public synchronized long droppedTtlExceeded() {
        return droppedTtl;
    }

    /**
     * Starts dropping UDP to and from {@code remote}, as a firewall rule would, leaving the rest of the traffic
     * (to a relay, say) alone. Mappings stay as they are.
     */
    public synchronized void blockUdpWith(InetAddress remote) {
        blockedRemotes.add(remote);
    }

    /** Lifts a {@link #blockUdpWith} rule. */
    public synchronized void unblockUdpWith(InetAddress remote) {
        blockedRemotes.remove(remote);
    }

    /** The live mappings, ordered by public port. */
    public synchronized List<NatMapping> mappings() {
        expireAll();
        List<NatMapping> live = new ArrayList<>();
        for (Mapping mapping : byPublicPort.values()) {
            live.add(new NatMapping(mapping.key.internal(), new InetSocketAddress(publicIp, mapping.publicPort),
                    Optional.ofNullable(mapping.key.destination())));
        }
        live.sort(Comparator.comparingInt(mapping -> mapping.external().getPort()));
        return live;
    }

    public synchronized NatCounters counters() {
        return new NatCounters(translatedOutbound, translatedInbound, hairpinned, droppedByFilter,
                droppedNoMapping, droppedBlocked, droppedHairpinDisabled, droppedPortsExhausted, mappingsCreated,
                mappingsExpired);
    }

    /** Rewrites the source of a packet leaving the site, making or refreshing its mapping (RFC 4787 §4). */
    synchronized Translation outbound(Packet packet) {
        if (behavior.udpBlocked() || blockedRemotes.contains(packet.destination().getAddress())) {
            droppedBlocked++;
            return new Dropped(DropReason.BLOCKED);
        }
        if (packet.ttl() <= 1) {
            // Linux drops it in ip_forward, before the NAT confirms any conntrack entry: no mapping is made.
            droppedTtl++;
            return new Dropped(DropReason.TTL_EXCEEDED);
        }
        long now = scheduler.nowNanos();
        if (behavior.forwardedPort() != 0 && packet.source().getPort() == behavior.forwardedPort()) {
            return forwardedOutbound(packet, now);
        }
        if (behavior.acceptsInput()) {
            Mapping displaced = byKey.get(new MappingKey(packet.source(), packet.destination()));
            if (displaced != null && expired(displaced, now)) {
                remove(displaced);
                displaced = null;
            }
            if (displaced != null) {
                displaced.lastActiveNanos = now;
                displaced.stream |= displaced.replied && now - displaced.createdNanos > STREAM_AFTER_NANOS;
                translatedOutbound++;
                return new Translated(packet.withSource(new InetSocketAddress(publicIp, displaced.publicPort))
                        .forwarded());
            }
        }
        MappingKey key = new MappingKey(packet.source(), mappingDestination(packet.destination()));
        Mapping mapping = byKey.get(key);
        if (mapping != null && expired(mapping, now)) {
            remove(mapping);
            mapping = null;
        }
        if (mapping == null) {
            Optional<Integer> port = allocatePort(packet.source().getPort(), now);
            if (port.isEmpty()) {
                droppedPortsExhausted++;
                return new Dropped(DropReason.PORTS_EXHAUSTED);
            }
            mapping = new Mapping(key, port.get(), now);
            byKey.put(key, mapping);
            byPublicPort.put(mapping.publicPort, mapping);
            mappingsCreated++;
        }
        mapping.lastActiveNanos = now;
        if (behavior.acceptsInput()) {
            Session session = mapping.sessions.get(packet.destination());
            if (session != null && session.expired(now)) {
                mapping.sessions.remove(packet.destination());
                session = null;
            }
            if (session == null) {
                // Linux's by-source lookup: the port of the socket's newest live flow, when the reply tuple is
                // free there; else the socket's own (original) port; else a random one.
                OptionalInt newest = newestPort(packet.source(), now);
                if (newest.isPresent() && newest.getAsInt() != mapping.publicPort
                        && !localEntryLive(new LocalKey(packet.destination(), newest.getAsInt()), now)) {
                    return displace(packet, now, newest);
                }
                if (localEntryLive(new LocalKey(packet.destination(), mapping.publicPort), now)) {
                    // The reply tuple this packet would have is taken by the gateway's own entry for the peer's
                    // earlier packet: Linux picks another port for this 5-tuple alone.
                    return displace(packet, now, OptionalInt.empty());
                }
                session = new Session(now);
                mapping.sessions.put(packet.destination(), session);
                trimSessions(mapping, now);
                remember(packet.source(), new Flow(mapping.publicPort, mapping, packet.destination(), session), now);
            }
            session.touch(now);
        }
        mapping.contactedAddresses.add(packet.destination().getAddress());
        mapping.contactedEndpoints.add(packet.destination());
        translatedOutbound++;
        return new Translated(packet.withSource(new InetSocketAddress(publicIp, mapping.publicPort)).forwarded());
    }

    /**
     * The public port of {@code source}'s newest flow that still lives (Linux's by-source table, newest first).
     * Linux also finds flows that expired but were not collected yet; the simulation collects at once.
     */
    private OptionalInt newestPort(InetSocketAddress source, long now) {
        java.util.ArrayDeque<Flow> flows = flowsBySource.get(source);
        if (flows == null) {
            return OptionalInt.empty();
        }
        Iterator<Flow> newestFirst = flows.descendingIterator();
        while (newestFirst.hasNext()) {
            Flow flow = newestFirst.next();
            if (alive(flow, now)) {
                return OptionalInt.of(flow.port());
            }
            newestFirst.remove();
        }
        flowsBySource.remove(source);
        return OptionalInt.empty();
    }

    private boolean alive(Flow flow, long now) {
        Mapping mapping = flow.mapping();
        if (byKey.get(mapping.key) != mapping || expired(mapping, now)) {
            return false;
        }
        if (flow.session() == null) {
            return true;
        }
        Session session = mapping.sessions.get(flow.destination());
        return session == flow.session() && !session.expired(now);
    }

    private void remember(InetSocketAddress source, Flow flow, long now) {
        java.util.ArrayDeque<Flow> flows = flowsBySource.computeIfAbsent(source, any -> new java.util.ArrayDeque<>());
        flows.addLast(flow);
        if (flows.size() > MAX_CONNTRACK) {
            flows.removeIf(old -> !alive(old, now));
        }
        while (flows.size() > MAX_CONNTRACK) {
            flows.removeFirst();
        }
    }

    /**
     * A 5-tuple of its own: on {@code port} (the by-source table's choice), or, on a collision, on a random port.
     */
    private Translation displace(Packet packet, long now, OptionalInt shared) {
        Optional<Integer> port = shared.isPresent() ? Optional.of(shared.getAsInt()) : randomPort(now);
        if (port.isEmpty()) {
            droppedPortsExhausted++;
            return new Dropped(DropReason.PORTS_EXHAUSTED);
        }
        MappingKey key = new MappingKey(packet.source(), packet.destination());
        Mapping displaced = new Mapping(key, port.get(), now);
        displaced.displaced = true;
        byKey.put(key, displaced);
        byPublicPort.putIfAbsent(displaced.publicPort, displaced);
        displacedByRemote.put(new LocalKey(packet.destination(), displaced.publicPort), displaced);
        if (displacedByRemote.size() > MAX_CONNTRACK) {
            displacedByRemote.values().removeIf(mapping -> expired(mapping, now));
        }
        remember(packet.source(), new Flow(displaced.publicPort, displaced, packet.destination(), null), now);
        mappingsCreated++;
        if (shared.isEmpty()) {
            conntrackCollisions++;
        }
        translatedOutbound++;
        return new Translated(packet.withSource(new InetSocketAddress(publicIp, displaced.publicPort)).forwarded());
    }

    private Translation forwardedOutbound(Packet packet, long now) {
        MappingKey key = new MappingKey(packet.source(), null);
        Mapping mapping = byKey.get(key);
        if (mapping == null) {
            Mapping holder = byPublicPort.get(behavior.forwardedPort());
            if (holder != null) {
                remove(holder);
            }
            mapping = new Mapping(key, behavior.forwardedPort(), now);
            mapping.forwarded = true;
            byKey.put(key, mapping);
            byPublicPort.put(mapping.publicPort, mapping);
            mappingsCreated++;
        }
        mapping.lastActiveNanos = now;
        translatedOutbound++;
        return new Translated(packet.withSource(new InetSocketAddress(publicIp, mapping.publicPort)).forwarded());
    }

    private boolean localEntryLive(LocalKey key, long now) {
        Long last = localEntries.get(key);
        if (last == null) {
            return false;
        }
        if (now - last >= UNREPLIED_NANOS) {
            localEntries.remove(key);
            return false;
        }
        return true;
    }

    private void keepLocalEntry(LocalKey key, long now) {
        localEntries.remove(key);
        localEntries.put(key, now);
        if (localEntries.size() > MAX_CONNTRACK) {
            localEntries.remove(localEntries.keySet().iterator().next());
        }
    }

    private static void trimSessions(Mapping mapping, long now) {
        if (mapping.sessions.size() > MAX_CONNTRACK) {
            mapping.sessions.values().removeIf(session -> session.expired(now));
        }
        if (mapping.sessions.size() > MAX_CONNTRACK) {
            mapping.sessions.remove(mapping.sessions.keySet().iterator().next());
        }
    }

    /** Rewrites the destination of a packet to our public IP, if a live mapping's filter admits it. */
    synchronized Translation inbound(Packet packet) {
        if (behavior.udpBlocked() || blockedRemotes.contains(packet.source().getAddress())) {
            droppedBlocked++;
            return new Dropped(DropReason.BLOCKED);
        }
        Translation admitted = admit(packet);
        if (admitted instanceof Translated) {
            translatedInbound++;
        }
        return admitted;
    }

    /**
     * RFC 4787 §6: a packet from inside to our own public address, already given its public source by
     * {@link #outbound}, goes back in as if it had arrived from outside, filter included.
     */
    synchronized Translation hairpin(Packet translated) {
        if (!behavior.hairpinning()) {
            droppedHairpinDisabled++;
            return new Dropped(DropReason.HAIRPIN_DISABLED);
        }
        Translation admitted = admit(translated);
        if (admitted instanceof Translated) {
            hairpinned++;
        }
        return admitted;
    }

    private Translation admit(Packet packet) {
        long now = scheduler.nowNanos();
        Mapping mapping = byPublicPort.get(packet.destination().getPort());
        if (behavior.acceptsInput()) {
            Mapping displaced = displacedByRemote.get(new LocalKey(packet.source(), packet.destination().getPort()));
            if (displaced != null && expired(displaced, now)) {
                remove(displaced);
                displaced = null;
            }
            if (displaced != null) {
                mapping = displaced;
            }
        }
        if (mapping != null && expired(mapping, now)) {
            remove(mapping);
            mapping = null;
        }
        if (mapping != null && mapping.forwarded) {
            return new Translated(packet.withDestination(mapping.key.internal()));
        }
        if (behavior.acceptsInput()) {
            return admitConntrack(packet, mapping, now);
        }
        if (mapping == null) {
            droppedNoMapping++;
            return new Dropped(DropReason.NO_MAPPING);
        }
        if (!filterAdmits(mapping, packet.source())) {
            droppedByFilter++;
            return new Dropped(DropReason.FILTERED);
        }
        if (behavior.refreshOnInbound()) {
            mapping.lastActiveNanos = now;
        }
        return new Translated(packet.withDestination(mapping.key.internal()));
    }

    /**
     * Inbound at a NAT that accepts input, as Linux conntrack does it: a gateway-local entry for this sender and
     * port wins; then a live 5-tuple (a displaced one, or a session of the mapping the filter admits); anything
     * else is delivered to the gateway itself, which keeps an entry for it.
     */
    private Translation admitConntrack(Packet packet, Mapping mapping, long now) {
        InetSocketAddress source = packet.source();
        LocalKey local = new LocalKey(source, packet.destination().getPort());
        if (!localEntryLive(local, now) && mapping != null) {
            if (mapping.displaced) {
                if (mapping.key.destination().equals(source)) {
                    mapping.replied = true;
                    mapping.lastActiveNanos = now;
                    mapping.stream |= now - mapping.createdNanos > STREAM_AFTER_NANOS;
                    return new Translated(packet.withDestination(mapping.key.internal()));
                }
            } else {
                Session session = mapping.sessions.get(source);
                if (session != null && session.expired(now)) {
                    mapping.sessions.remove(source);
                    session = null;
                }
                boolean admits = switch (behavior.filtering()) {
                    case ENDPOINT_INDEPENDENT -> true;
                    case ADDRESS_DEPENDENT -> mapping.sessions.entrySet().stream().anyMatch(entry ->
                            entry.getKey().getAddress().equals(source.getAddress()) && !entry.getValue().expired(now));
                    default -> session != null;
                };
                if (admits) {
                    if (session != null) {
                        session.replied = true;
                        session.touch(now);
                    }
                    if (behavior.refreshOnInbound()) {
                        mapping.lastActiveNanos = now;
                    }
                    return new Translated(packet.withDestination(mapping.key.internal()));
                }
            }
        }
        keepLocalEntry(local, now);
        deliveredToGateway++;
        return new Dropped(DropReason.DELIVERED_TO_GATEWAY);
    }

    /** RFC 4787 §5: what the inside host must have sent to before a packet from {@code source} gets in. */
    private boolean filterAdmits(Mapping mapping, InetSocketAddress source) {
        FilteringBehavior filtering = behavior.filtering();
        return switch (filtering) {
            case ENDPOINT_INDEPENDENT -> true;
            case ADDRESS_DEPENDENT -> mapping.contactedAddresses.contains(source.getAddress());
            case ADDRESS_AND_PORT_DEPENDENT -> mapping.contactedEndpoints.contains(source);
            case UNKNOWN -> throw new IllegalStateException("NatBehavior admits no UNKNOWN filtering");
        };
    }

    /** RFC 4787 §4.1: the part of the destination a mapping depends on; null when it depends on none. */
    private InetSocketAddress mappingDestination(InetSocketAddress destination) {
        return switch (behavior.mapping()) {
            case ENDPOINT_INDEPENDENT -> null;
            case ADDRESS_DEPENDENT -> new InetSocketAddress(destination.getAddress(), 0);
            case ADDRESS_AND_PORT_DEPENDENT -> destination;
            case ENDPOINT_DEPENDENT, UNKNOWN ->
                    throw new IllegalStateException("NatBehavior admits only concrete mapping behaviours");
        };
    }

    private boolean expired(Mapping mapping, long nowNanos) {
        if (mapping.forwarded) {
            return false;
        }
        if (mapping.displaced) {
            return nowNanos - mapping.lastActiveNanos >= (mapping.stream ? REPLIED_NANOS : UNREPLIED_NANOS);
        }
        return nowNanos - mapping.lastActiveNanos >= behavior.mappingTimeout().toNanos();
    }

    private void remove(Mapping mapping) {
        byKey.remove(mapping.key, mapping);
        byPublicPort.remove(mapping.publicPort, mapping);
        if (mapping.displaced) {
            displacedByRemote.remove(new LocalKey(mapping.key.destination(), mapping.publicPort), mapping);
        }
        mappingsExpired++;
    }

    private void expireAll() {
        long now = scheduler.nowNanos();
        Iterator<Mapping> mappings = byPublicPort.values().iterator();
        while (mappings.hasNext()) {
            Mapping mapping = mappings.next();
            if (expired(mapping, now)) {
                mappings.remove();
                byKey.remove(mapping.key, mapping);
                if (mapping.displaced) {
                    displacedByRemote.remove(new LocalKey(mapping.key.destination(), mapping.publicPort), mapping);
                }
                mappingsExpired++;
            }
        }
    }

    private Optional<Integer> allocatePort(int internalPort, long nowNanos) {
        // Ports of expired mappings are free again; reclaim them before deciding the table is full.
        if (byPublicPort.size() > LAST_PORT - FIRST_PORT) {
            expireAll();
            if (byPublicPort.size() > LAST_PORT - FIRST_PORT) {
                return Optional.empty();
            }
        }
        return switch (behavior.portAllocation()) {
            case PRESERVING -> internalPort >= FIRST_PORT && isFree(internalPort, nowNanos)
                    ? Optional.of(internalPort) : randomPort(nowNanos);
            case SEQUENTIAL -> sequentialPort(nowNanos);
            case RANDOM -> randomPort(nowNanos);
        };
    }

    private Optional<Integer> sequentialPort(long nowNanos) {
        for (int tried = 0; tried <= LAST_PORT - FIRST_PORT; tried++) {
            int port = nextSequentialPort;
            nextSequentialPort = port == LAST_PORT ? FIRST_PORT : port + 1;
            if (isFree(port, nowNanos)) {
                return Optional.of(port);
            }
        }
        return Optional.empty();
    }

    private Optional<Integer> randomPort(long nowNanos) {
        Random random = scheduler.random();
        int range = LAST_PORT - FIRST_PORT + 1;
        for (int attempt = 0; attempt < RANDOM_PORT_ATTEMPTS; attempt++) {
            int port = FIRST_PORT + random.nextInt(range);
            if (isFree(port, nowNanos)) {
                return Optional.of(port);
            }
        }
        int start = random.nextInt(range);
        for (int offset = 0; offset < range; offset++) {
            int port = FIRST_PORT + (start + offset) % range;
            if (isFree(port, nowNanos)) {
                return Optional.of(port);
            }
        }
        return Optional.empty();
    }

    /** A port is free when no live mapping holds it; an expired holder is removed on the way. */
    private boolean isFree(int port, long nowNanos) {
        Mapping holder = byPublicPort.get(port);
        if (holder == null) {
            return true;
        }
        if (expired(holder, nowNanos)) {
            remove(holder);
            return true;
        }
        return false;
    }

    @Override
    public String toString() {
        return "NAT " + name + " at " + publicIp.getHostAddress();
    }
}
