package io.meshwork.node.relay;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relay datagrams on the node's one socket for several relay clients at once (docs/architecture.md, "Relay
 * selection and failover"): the node keeps a connection to its home relay and to peers' home relays, all over
 * WireGuard's socket so each relay sees the mapping WireGuard uses. The router takes the socket's relay datagrams
 * and hands each to the client of the relay it came from; each client gets a view of the socket
 * ({@link #forRelay}) on which registering for relay datagrams means "those from my relay". A datagram from an
 * address no client is connected to is dropped and counted. Bounded by the clients: one entry per relay address.
 */
public final class RelayDatagramRouter {

    private static final Logger log = LoggerFactory.getLogger(RelayDatagramRouter.class);

    private final PacketTransport transport;
    private final Map<InetSocketAddress, PacketTransport.PacketHandler> byRelay = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();

    public RelayDatagramRouter(PacketTransport transport) {
        this.transport = Objects.requireNonNull(transport, "transport");
        transport.register(DatagramKind.RELAY, this::route);
    }

    /** The socket as the client of the relay at {@code relay} (its UDP address) sees it. */
    public PacketTransport forRelay(InetSocketAddress relay) {
        return new View(relay);
    }

    /** Relay datagrams from addresses no client was connected to. */
    public long droppedDatagrams() {
        return dropped.get();
    }

    private void route(ByteBuffer datagram, InetSocketAddress sender) {
        PacketTransport.PacketHandler handler = byRelay.get(sender);
        if (handler == null) {
            dropped.incrementAndGet();
            log.debug("dropped a relay datagram from {}: no connection to a relay there", sender);
            return;
        }
        handler.onDatagram(datagram, sender);
    }

    /** One relay client's view of the socket. */
    private final class View implements PacketTransport {
        private final InetSocketAddress relay;
        private volatile PacketHandler registered;

        View(InetSocketAddress relay) {
            this.relay = relay;
        }

        @Override
        public InetSocketAddress localAddress() {
            return transport.localAddress();
        }

        @Override
        public void send(ByteBuffer datagram, InetSocketAddress destination) {
            transport.send(datagram, destination);
        }

        @Override
        public void register(DatagramKind kind, PacketHandler handler) {
            if (kind != DatagramKind.RELAY) {
                throw new IllegalArgumentException("a relay client's view takes relay datagrams only");
            }
            registered = handler;
            byRelay.put(relay, handler);
        }

        @Override
        public void unregister(DatagramKind kind) {
            PacketHandler handler = registered;
            if (kind == DatagramKind.RELAY && handler != null) {
                // Only its own: another client of the same relay may have registered since.
                byRelay.remove(relay, handler);
            }
        }

        @Override
        public long droppedDatagrams() {
            return dropped.get();
        }

        @Override
        public void close() {
            unregister(DatagramKind.RELAY);
        }
    }
}
