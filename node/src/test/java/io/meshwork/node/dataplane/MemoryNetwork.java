package io.meshwork.node.dataplane;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/** UDP in memory: each transport delivers on its own thread, like a socket's I/O thread. */
final class MemoryNetwork implements AutoCloseable {

    private final Map<InetSocketAddress, Transport> bound = new ConcurrentHashMap<>();
    private final AtomicInteger nextPort = new AtomicInteger(40000);

    /** A factory for {@link WireGuardDevice} binding transports on {@code ip}. */
    IntFunction<PacketTransport> at(String ip) {
        return port -> {
            try {
                InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(ip),
                        port == 0 ? nextPort.incrementAndGet() : port);
                Transport transport = new Transport(address);
                bound.put(address, transport);
                return transport;
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(e);
            }
        };
    }

    /** Delivers {@code datagram} to whoever is bound at {@code to}, as if it came from {@code from}. */
    void inject(byte[] datagram, InetSocketAddress from, InetSocketAddress to) {
        Transport target = bound.get(to);
        if (target != null) {
            target.deliver(ByteBuffer.wrap(datagram), from);
        }
    }

    @Override
    public void close() {
        bound.values().forEach(Transport::close);
    }

    final class Transport implements PacketTransport {
        private final InetSocketAddress address;
        private final ExecutorService thread = Executors.newSingleThreadExecutor();
        private final Map<DatagramKind, PacketHandler> handlers = new EnumMap<>(DatagramKind.class);
        private final AtomicLong dropped = new AtomicLong();

        Transport(InetSocketAddress address) {
            this.address = address;
        }

        @Override
        public InetSocketAddress localAddress() {
            return address;
        }

        @Override
        public void send(ByteBuffer datagram, InetSocketAddress destination) {
            byte[] copy = new byte[datagram.remaining()];
            datagram.duplicate().get(copy);
            Transport target = bound.get(destination);
            if (target != null) {
                target.deliver(ByteBuffer.wrap(copy), address);
            }
        }

        void deliver(ByteBuffer datagram, InetSocketAddress from) {
            thread.execute(() -> {
                PacketHandler handler;
                synchronized (handlers) {
                    handler = handlers.get(DatagramKind.classify(datagram));
                }
                if (handler == null) {
                    dropped.incrementAndGet();
                } else {
                    try {
                        handler.onDatagram(datagram, from);
                        handler.onBatchEnd();
                    } catch (RuntimeException e) {
                        e.printStackTrace();
                        throw e;
                    }
                }
            });
        }

        /**
         * Like a socket with UDP GSO and GRO: the datagrams arrive together, as one read, and the batch ends after
         * them.
         */
        @Override
        public void sendLaterSegments(ByteBuffer datagrams, int segmentSize, InetSocketAddress destination) {
            List<ByteBuffer> copies = new ArrayList<>();
            for (int at = datagrams.position(); at < datagrams.limit(); at += segmentSize) {
                int length = Math.min(segmentSize, datagrams.limit() - at);
                byte[] copy = new byte[length];
                datagrams.duplicate().position(at).get(copy);
                copies.add(ByteBuffer.wrap(copy));
            }
            Transport target = bound.get(destination);
            if (target != null) {
                target.deliverBatch(copies, address);
            }
        }

        void deliverBatch(List<ByteBuffer> datagrams, InetSocketAddress from) {
            thread.execute(() -> {
                List<PacketHandler> used = new ArrayList<>();
                for (ByteBuffer datagram : datagrams) {
                    PacketHandler handler;
                    synchronized (handlers) {
                        handler = handlers.get(DatagramKind.classify(datagram));
                    }
                    if (handler == null) {
                        dropped.incrementAndGet();
                    } else {
                        handler.onDatagram(datagram, from);
                        used.add(handler);
                    }
                }
                used.forEach(PacketHandler::onBatchEnd);
            });
        }

        @Override
        public boolean reportsBatchEnds() {
            return true;
        }

        @Override
        public void register(DatagramKind kind, PacketHandler handler) {
            synchronized (handlers) {
                handlers.put(kind, handler);
            }
        }

        @Override
        public void unregister(DatagramKind kind) {
            synchronized (handlers) {
                handlers.remove(kind);
            }
        }

        @Override
        public long droppedDatagrams() {
            return dropped.get();
        }

        @Override
        public void close() {
            bound.remove(address);
            thread.shutdownNow();
        }
    }
}
