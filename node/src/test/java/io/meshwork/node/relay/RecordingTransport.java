package io.meshwork.node.relay;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A socket for the relay tests: it records what is sent and keeps the handler registered for each kind of datagram,
 * and delivers nothing of itself (a test hands datagrams to {@link #handler}).
 */
final class RecordingTransport implements PacketTransport {

    /** What was sent, with its destination, in order. */
    final List<Map.Entry<byte[], InetSocketAddress>> sent = new CopyOnWriteArrayList<>();
    private final Map<DatagramKind, PacketHandler> handlers = new ConcurrentHashMap<>();
    private final InetSocketAddress localAddress;

    RecordingTransport(InetSocketAddress localAddress) {
        this.localAddress = localAddress;
    }

    /** The handler registered for {@code kind}, or null. */
    PacketHandler handler(DatagramKind kind) {
        return handlers.get(kind);
    }

    /** The datagrams sent, without their destinations. */
    List<byte[]> datagrams() {
        return sent.stream().map(Map.Entry::getKey).toList();
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public void send(ByteBuffer datagram, InetSocketAddress destination) {
        byte[] copy = new byte[datagram.remaining()];
        datagram.get(copy);
        sent.add(Map.entry(copy, destination));
    }

    @Override
    public void register(DatagramKind kind, PacketHandler handler) {
        handlers.put(kind, handler);
    }

    @Override
    public void unregister(DatagramKind kind) {
        handlers.remove(kind);
    }

    @Override
    public long droppedDatagrams() {
        return 0;
    }

    @Override
    public void close() {
    }
}
