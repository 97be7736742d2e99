package io.meshwork.node.transport;

import io.meshwork.protocol.demux.DatagramKind;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The node's one UDP socket, shared by WireGuard, STUN and probe traffic (docs/architecture.md, "Node").
 *
 * <p>Inbound datagrams are classified by {@link DatagramKind} and handed to the handler registered
 * for their kind; datagrams with no handler, or of unknown shape, are dropped and counted. The real
 * implementation is {@link NettyUdpTransport}; tests and the simulation provide in-memory ones.
 */
public interface PacketTransport extends AutoCloseable {

    /** The address the socket is bound to. */
    InetSocketAddress localAddress();

    /** Sends one datagram: the readable bytes of {@code datagram}. The buffer is not kept after return. */
    void send(ByteBuffer datagram, InetSocketAddress destination);

    /**
     * Queues one datagram to go out with the next {@link #flush()} from this thread, so a producer can hand a
     * batch to the socket at once (one wake-up, one sendmmsg). The buffer is not kept after return.
     */
    default void sendLater(ByteBuffer datagram, InetSocketAddress destination) {
        send(datagram, destination);
    }

    /**
     * Queues {@code datagrams}, several datagrams of {@code segmentSize} bytes back to back (the last may be
     * shorter), for the next {@link #flush()}: one send with UDP segmentation offload (GSO) where the socket has
     * it, else one datagram at a time. The buffer is not kept after return.
     */
    default void sendLaterSegments(ByteBuffer datagrams, int segmentSize, InetSocketAddress destination) {
        ByteBuffer each = datagrams.duplicate();
        int end = datagrams.limit();
        for (int at = datagrams.position(); at < end; at += segmentSize) {
            each.limit(Math.min(end, at + segmentSize)).position(at);
            sendLater(each, destination);
        }
    }

    /** Sends what this thread queued with {@link #sendLater}. */
    default void flush() {}

    /**
     * True when the transport calls {@link PacketHandler#onBatchEnd} after each batch of datagrams it delivered,
     * so a handler may hold on to what it made from them until then.
     */
    default boolean reportsBatchEnds() {
        return false;
    }

    /**
     * Sends one datagram with its IP time to live limited to {@code ttl} hops, so it opens this host's own NAT
     * mappings without reaching a far gateway. False when this transport cannot limit the TTL to that destination;
     * then nothing was sent.
     */
    default boolean sendWithTtl(ByteBuffer datagram, InetSocketAddress destination, int ttl) {
        return false;
    }

    /** Routes inbound datagrams of {@code kind} to {@code handler}, replacing any earlier handler. */
    void register(DatagramKind kind, PacketHandler handler);

    /** Stops routing datagrams of {@code kind}: they are dropped and counted from now on. */
    void unregister(DatagramKind kind);

    /** Datagrams dropped because they had an unknown shape or no handler. */
    long droppedDatagrams();

    @Override
    void close();

    /** Receives datagrams of one kind. */
    @FunctionalInterface
    interface PacketHandler {
        /**
         * Called on the transport's I/O thread. The buffer is only valid during the call; copy what must
         * outlive it. Must not block.
         */
        void onDatagram(ByteBuffer datagram, InetSocketAddress sender);

        /**
         * Called on the I/O thread after the datagrams one read brought were delivered, by transports that
         * {@link PacketTransport#reportsBatchEnds() report batch ends}.
         */
        default void onBatchEnd() {}
    }
}
