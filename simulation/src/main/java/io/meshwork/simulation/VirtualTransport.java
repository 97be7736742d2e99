package io.meshwork.simulation;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A UDP socket on a virtual {@link Host}, behind the same {@link PacketTransport} seam as the node's Netty
 * socket, demultiplexing by {@link DatagramKind} the same way.
 *
 * <p>{@link #send} copies the datagram at once and may be called from any thread; the packet then travels on
 * virtual time. Handlers run on the simulation's driving thread. The buffer a handler gets is zeroed when the
 * handler returns, so code that keeps it past the call (which a real socket's reused buffer would punish
 * intermittently) fails at once.
 */
public final class VirtualTransport implements PacketTransport {

    private static final Logger log = LoggerFactory.getLogger(VirtualTransport.class);

    /** The largest UDP payload over IPv4: 65535 − 20 (IP header) − 8 (UDP header). */
    public static final int MAX_DATAGRAM_BYTES = 65_507;

    private final VirtualNetwork network;
    private final Host host;
    private final InetAddress boundAddress;
    private final int port;
    private volatile Map<DatagramKind, PacketHandler> handlers = new EnumMap<>(DatagramKind.class);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private volatile boolean closed;

    VirtualTransport(VirtualNetwork network, Host host, InetAddress boundAddress, int port) {
        this.network = network;
        this.host = host;
        this.boundAddress = boundAddress;
        this.port = port;
    }

    public Host host() {
        return host;
    }

    /** The host's current address when bound to all of them, so it changes when the host moves. */
    @Override
    public InetSocketAddress localAddress() {
        return new InetSocketAddress(boundAddress != null ? boundAddress : host.address(), port);
    }

    /**
     * The address a datagram to {@code destination} leaves from, as a dual-stack socket picks it: the host's IPv4
     * address for IPv4 destinations, its global IPv6 address for IPv6 ones; null when the host has none of that
     * family (or the socket is bound to an address of the other).
     */
    private InetSocketAddress sourceFor(InetSocketAddress destination) {
        boolean ipv6 = destination.getAddress() instanceof java.net.Inet6Address;
        if (boundAddress != null) {
            return (boundAddress instanceof java.net.Inet6Address) == ipv6 ? new InetSocketAddress(boundAddress, port)
                    : null;
        }
        if (!ipv6) {
            return localAddress();
        }
        return host.ipv6Address().map(address -> new InetSocketAddress(address, port)).orElse(null);
    }

    @Override
    public void send(ByteBuffer datagram, InetSocketAddress destination) {
        Objects.requireNonNull(destination, "destination");
        if (closed || datagram.remaining() > MAX_DATAGRAM_BYTES) {
            dropped.incrementAndGet();
            log.debug("{} dropped an outgoing datagram of {} bytes", this, datagram.remaining());
            return;
        }
        InetSocketAddress source = sourceFor(destination);
        if (source == null) {
            dropped.incrementAndGet();
            log.debug("{} dropped an outgoing datagram to {}: no address of that family here", this, destination);
            return;
        }
        byte[] copy = new byte[datagram.remaining()];
        datagram.duplicate().get(copy);
        sent.incrementAndGet();
        network.transmit(this, new Packet(source, destination, copy));
    }

    /** Sends with the given time to live: each NAT and the router between a site and the internet take one. */
    @Override
    public boolean sendWithTtl(ByteBuffer datagram, InetSocketAddress destination, int ttl) {
        Objects.requireNonNull(destination, "destination");
        if (closed || datagram.remaining() > MAX_DATAGRAM_BYTES || ttl < 1 || ttl > 255) {
            dropped.incrementAndGet();
            return true;
        }
        InetSocketAddress source = sourceFor(destination);
        if (source == null) {
            dropped.incrementAndGet();
            return true;
        }
        byte[] copy = new byte[datagram.remaining()];
        datagram.duplicate().get(copy);
        sent.incrementAndGet();
        network.transmit(this, new Packet(source, destination, copy, ttl));
        return true;
    }

    @Override
    public synchronized void register(DatagramKind kind, PacketHandler handler) {
        Map<DatagramKind, PacketHandler> next = new EnumMap<>(handlers);
        next.put(kind, Objects.requireNonNull(handler, "handler"));
        handlers = next;
    }

    @Override
    public synchronized void unregister(DatagramKind kind) {
        Map<DatagramKind, PacketHandler> next = new EnumMap<>(handlers);
        next.remove(kind);
        handlers = next;
    }

    /** Datagrams dropped here: unknown shape or no handler on receipt, or sent after close or oversized. */
    @Override
    public long droppedDatagrams() {
        return dropped.get();
    }

    /** Datagrams handed to the network. */
    public long sentDatagrams() {
        return sent.get();
    }

    /** Datagrams handed to a handler. */
    public long receivedDatagrams() {
        return received.get();
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        host.unbind(this);
    }

    @Override
    public String toString() {
        return "socket " + host.name() + " " + localAddress().getAddress().getHostAddress() + ":" + port;
    }

    InetAddress boundAddress() {
        return boundAddress;
    }

    int port() {
        return port;
    }

    /** Hands one arrived datagram to its handler; returns whether one took it. */
    boolean deliver(byte[] payload, InetSocketAddress sender) {
        ByteBuffer datagram = ByteBuffer.wrap(payload);
        DatagramKind kind = DatagramKind.classify(datagram);
        PacketHandler handler = closed ? null : handlers.get(kind);
        if (handler == null) {
            dropped.incrementAndGet();
            log.debug("{} dropped a {} datagram of {} bytes from {}: no handler", this, kind, payload.length, sender);
            return false;
        }
        try {
            received.incrementAndGet();
            handler.onDatagram(datagram, sender);
            return true;
        } catch (RuntimeException e) {
            dropped.incrementAndGet();
            log.debug("{}: handler for {} failed on a datagram from {}: {}", this, kind, sender, e.toString());
            return false;
        } finally {
            Arrays.fill(payload, (byte) 0);
        }
    }
}
