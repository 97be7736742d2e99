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
    public enum DropReason { BLOCKED, FILTERED, NO_MAPPING, HAIRPIN_DISABLED, PORTS_EXHAUSTED }

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

    private record MappingKey(InetSocketAddress internal, InetSocketAddress destination) {
    }

    private static final class Mapping {
        final MappingKey key;
        final int publicPort;
        final Set<InetAddress> contactedAddresses = new HashSet<>();
        final Set<InetSocketAddress> contactedEndpoints = new HashSet<>();
        long lastActiveNanos;

        Mapping(MappingKey key, int publicPort, long nowNanos) {
            this.key = key;
            this.publicPort = publicPort;
            this.lastActiveNanos = nowNanos;
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
        long now = scheduler.nowNanos();
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
        mapping.contactedAddresses.add(packet.destination().getAddress());
        mapping.contactedEndpoints.add(packet.destination());
        translatedOutbound++;
        return new Translated(packet.withSource(new InetSocketAddress(publicIp, mapping.publicPort)));
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
        if (mapping != null && expired(mapping, now)) {
            remove(mapping);
            mapping = null;
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
        return nowNanos - mapping.lastActiveNanos >= behavior.mappingTimeout().toNanos();
    }

    private void remove(Mapping mapping) {
        byKey.remove(mapping.key);
        byPublicPort.remove(mapping.publicPort);
        mappingsExpired++;
    }

    private void expireAll() {
        long now = scheduler.nowNanos();
        Iterator<Mapping> mappings = byPublicPort.values().iterator();
        while (mappings.hasNext()) {
            Mapping mapping = mappings.next();
            if (expired(mapping, now)) {
                mappings.remove();
                byKey.remove(mapping.key);
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
