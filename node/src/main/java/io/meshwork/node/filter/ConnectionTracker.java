package io.meshwork.node.filter;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Flows this device initiated, so their replies are let back in: a bounded table keyed by protocol, addresses
 * and ports, each entry forgotten after an idle timeout. Outbound packets record or refresh their flow; inbound
 * packets look theirs up.
 *
 * <p>The table is a fixed array of slots; a flow may live in any of {@value #PROBE} slots after its hash. A lookup
 * scans those slots, so nothing is ever moved or tombstoned. Recording into a full neighbourhood evicts its
 * entry closest to expiry, so the table never grows and a flood of new flows costs old ones, not memory. No
 * allocation after construction. Thread-safe: outbound and inbound run on different threads.
 */
public final class ConnectionTracker {

    /** Defaults: Linux conntrack keeps UDP streams 120 s, ICMP 30 s; an idle TCP connection an hour here. */
    public static final Duration DEFAULT_TCP_IDLE = Duration.ofHours(1);
    public static final Duration DEFAULT_OTHER_IDLE = Duration.ofMinutes(2);
    public static final int DEFAULT_CAPACITY = 65536;

    static final int PROBE = 8;
    private static final long OCCUPIED = 1L << 63;

    private final LongSupplier nanoClock;
    private final long tcpIdleNanos;
    private final long otherIdleNanos;
    private final int mask;
    /** Remote then local address, 128 bits each, and the packed protocol and ports; see {@link #pack}. */
    private final long[] remoteHigh;
    private final long[] remoteLow;
    private final long[] localHigh;
    private final long[] localLow;
    private final long[] packed;
    private final long[] expires;
    private long evictions;

    /**
     * @param capacity  most flows remembered (rounded up to a power of two)
     * @param tcpIdle   how long a TCP flow lives without packets
     * @param otherIdle the same for every other protocol
     * @param nanoClock monotonic time in nanoseconds ({@code System::nanoTime}; tests pass a fake)
     */
    public ConnectionTracker(int capacity, Duration tcpIdle, Duration otherIdle, LongSupplier nanoClock) {
        if (capacity < PROBE || capacity > 1 << 24) {
            throw new IllegalArgumentException("capacity must be " + PROBE + " to " + (1 << 24) + ": " + capacity);
        }
        int slots = Integer.highestOneBit(capacity - 1) << 1;
        this.mask = slots - 1;
        this.nanoClock = nanoClock;
        this.tcpIdleNanos = tcpIdle.toNanos();
        this.otherIdleNanos = otherIdle.toNanos();
        remoteHigh = new long[slots];
        remoteLow = new long[slots];
        localHigh = new long[slots];
        localLow = new long[slots];
        packed = new long[slots];
        expires = new long[slots];
    }

    /** A tracker with the default capacity and timeouts on the system clock. */
    public static ConnectionTracker withDefaults() {
        return new ConnectionTracker(DEFAULT_CAPACITY, DEFAULT_TCP_IDLE, DEFAULT_OTHER_IDLE, System::nanoTime);
    }

    /**
     * Records the flow of an outbound packet, keyed the way its replies will look: their source is this packet's
     * destination. Only ICMP echo requests are recorded of ICMP; other ICMP starts no flow.
     */
    public void recordOutbound(PacketHeaders packet) {
        if (packet.laterFragment) {
            return;
        }
        int localPort;
        int remotePort;
        if (packet.isIcmp()) {
            if (!packet.isEchoRequest()) {
                return;
            }
            localPort = packet.icmpIdentifier;
            remotePort = 0;
        } else {
            localPort = Math.max(packet.sourcePort, 0);
            remotePort = Math.max(packet.destinationPort, 0);
        }
        record(packet.version, packet.protocol, packet.destinationHigh, packet.destinationLow, packet.sourceHigh,
                packet.sourceLow, remotePort, localPort);
    }

    /** Whether an inbound packet belongs to a flow this device initiated (an echo reply to its echo request). */
    public boolean isReply(PacketHeaders packet) {
        if (packet.laterFragment) {
            return false;
        }
        int localPort;
        int remotePort;
        if (packet.isIcmp()) {
            if (!packet.isEchoReply()) {
                return false;
            }
            localPort = packet.icmpIdentifier;
            remotePort = 0;
        } else {
            localPort = Math.max(packet.destinationPort, 0);
            remotePort = Math.max(packet.sourcePort, 0);
        }
        return contains(packet.version, packet.protocol, packet.sourceHigh, packet.sourceLow, packet.destinationHigh,
                packet.destinationLow, remotePort, localPort);
    }

    /** Whether the packet quoted in an ICMP error is one this device sent on a flow it initiated. */
    boolean isOwnOutbound(PacketHeaders quoted) {
        if (quoted.laterFragment) {
            return false;
        }
        int localPort;
        int remotePort;
        if (quoted.isIcmp()) {
            if (!quoted.isEchoRequest()) {
                return false;
            }
            localPort = quoted.icmpIdentifier;
            remotePort = 0;
        } else {
            localPort = Math.max(quoted.sourcePort, 0);
            remotePort = Math.max(quoted.destinationPort, 0);
        }
        return contains(quoted.version, quoted.protocol, quoted.destinationHigh, quoted.destinationLow,
                quoted.sourceHigh, quoted.sourceLow, remotePort, localPort);
    }

    /** Flows remembered and not yet expired. */
    public synchronized int size() {
        long now = nanoClock.getAsLong();
        int live = 0;
        for (int slot = 0; slot <= mask; slot++) {
            if (live(slot, now)) {
                live++;
            }
        }
        return live;
    }

    /** Flows forgotten before their time because their neighbourhood of the table was full. */
    public synchronized long evictions() {
        return evictions;
    }

    private synchronized void record(int version, int protocol, long rHigh, long rLow, long lHigh, long lLow,
            int remotePort, int localPort) {
        long key = pack(version, protocol, remotePort, localPort);
        long now = nanoClock.getAsLong();
        long expiry = now + (protocol == PacketHeaders.TCP ? tcpIdleNanos : otherIdleNanos);
        int base = hash(key, rHigh, rLow, lHigh, lLow);
        int free = -1;
        int victim = -1;
        for (int i = 0; i < PROBE; i++) {
            int slot = (base + i) & mask;
            if (!live(slot, now)) {
                if (free < 0) {
                    free = slot;
                }
            } else if (matches(slot, key, rHigh, rLow, lHigh, lLow)) {
                expires[slot] = expiry;
                return;
            } else if (victim < 0 || expires[slot] - expires[victim] < 0) {
                victim = slot;
            }
        }
        int slot = free;
        if (slot < 0) {
            slot = victim;
            evictions++;
        }
        remoteHigh[slot] = rHigh;
        remoteLow[slot] = rLow;
        localHigh[slot] = lHigh;
        localLow[slot] = lLow;
        packed[slot] = key;
        expires[slot] = expiry;
    }

    private synchronized boolean contains(int version, int protocol, long rHigh, long rLow, long lHigh, long lLow,
            int remotePort, int localPort) {
        long key = pack(version, protocol, remotePort, localPort);
        long now = nanoClock.getAsLong();
        int base = hash(key, rHigh, rLow, lHigh, lLow);
        for (int i = 0; i < PROBE; i++) {
            int slot = (base + i) & mask;
            if (live(slot, now) && matches(slot, key, rHigh, rLow, lHigh, lLow)) {
                return true;
            }
        }
        return false;
    }

    private boolean live(int slot, long now) {
        return packed[slot] != 0 && now - expires[slot] < 0;
    }

    private boolean matches(int slot, long key, long rHigh, long rLow, long lHigh, long lLow) {
        return packed[slot] == key && remoteHigh[slot] == rHigh && remoteLow[slot] == rLow
                && localHigh[slot] == lHigh && localLow[slot] == lLow;
    }

    /** Occupied flag, IP version, protocol and both ports in one long; never zero, so zero marks an empty slot. */
    private static long pack(int version, int protocol, int remotePort, int localPort) {
        return OCCUPIED | (long) version << 48 | (long) protocol << 32 | (long) remotePort << 16 | localPort;
    }

    private int hash(long key, long rHigh, long rLow, long lHigh, long lLow) {
        long h = key;
        h = mix(h ^ rHigh);
        h = mix(h ^ rLow);
        h = mix(h ^ lHigh);
        h = mix(h ^ lLow);
        return (int) (h ^ h >>> 32) & mask;
    }

    /** The finaliser of MurmurHash3 (fmix64): every input bit affects every output bit. */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
