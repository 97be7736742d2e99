package io.meshwork.simulation.mesh;

import io.meshwork.node.relay.RelayStreamConnector;
import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrameCodec;
import io.meshwork.protocol.relay.RelayFrameException;
import io.meshwork.relay.server.FrameStream;
import io.meshwork.relay.server.RelayEngine;
import io.meshwork.relay.server.StreamConnection;
import io.meshwork.simulation.Host;
import io.meshwork.simulation.SimScheduler;
import io.meshwork.simulation.Site;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's TCP connections to the simulated relay. The virtual network carries UDP only, so these streams go
 * around it: each frame is encoded as on a real TCP connection ({@link RelayFrameCodec#encodeStream}), arrives a
 * fixed delay later in the order sent, and is decoded by the relay's {@link StreamConnection} (or by the client's
 * side the same way). A connect takes a round trip and is refused while the relay is down; closing from either
 * side reaches the other after the delay, behind the frames already sent; a connection that has not authenticated
 * within the relay's handshake timeout is closed, as the relay's TCP listener does.
 */
final class VirtualStreamConnector implements RelayStreamConnector {

    private final Listener relay;
    private final Host client;

    VirtualStreamConnector(Listener relay, Host client) {
        this.relay = relay;
        this.client = client;
    }

    @Override
    public void connect(InetSocketAddress address, Events events) {
        InetAddress from = publicAddress(client);
        // Between regions a stream takes the regions' latency more each way, as UDP does.
        Duration delay = relay.delay.plus(relay.network == null ? Duration.ZERO
                : relay.network.regionDelay(from, relay.address.getAddress()));
        relay.scheduler.schedule(delay, () -> relay.accept(from, address, events, delay));
    }

    /** The client's address as a server on the internet sees it: the outermost NAT's public IP, if any. */
    private static InetAddress publicAddress(Host host) {
        InetAddress address = host.address();
        Site site = host.site();
        while (!site.isInternet()) {
            address = site.requireNat().publicIp();
            site = site.parent().orElseThrow();
        }
        return address;
    }

    /** The relay's listening side: which relay process accepts connections now, and the connections open to it. */
    static final class Listener {
        private static final int FIRST_CLIENT_PORT = 40_000;

        private final SimScheduler scheduler;
        private final io.meshwork.simulation.VirtualNetwork network;
        private final Duration delay;
        private final InetSocketAddress address;
        private final List<Connection> open = new ArrayList<>();
        private RelayEngine engine;
        private int nextClientPort = FIRST_CLIENT_PORT;

        Listener(SimScheduler scheduler, io.meshwork.simulation.VirtualNetwork network, Duration delay,
                InetSocketAddress address) {
            this.scheduler = scheduler;
            this.network = network;
            this.delay = delay;
            this.address = address;
        }

        /** Connections are accepted by {@code running} from now on. */
        void listen(RelayEngine running) {
            engine = running;
        }

        /** The relay process went away: its connections close, new ones are refused. */
        void closeAll() {
            engine = null;
            for (Connection connection : List.copyOf(open)) {
                connection.close();
            }
        }

        private void accept(InetAddress clientAddress, InetSocketAddress to, Events events, Duration delay) {
            if (engine == null || !address.equals(to)) {
                scheduler.schedule(delay, () -> events.failed(new ConnectException("connection refused by " + to)));
                return;
            }
            Connection connection = new Connection(this, events, delay);
            connection.relaySide = engine.openStream(new InetSocketAddress(clientAddress, nextClientPort++),
                    connection.toClient);
            open.add(connection);
            scheduler.schedule(delay, () -> events.opened(connection.fromClient));
            // The relay's TCP listener closes connections that do not authenticate in time.
            scheduler.schedule(engine.streamHandshakeTimeout(), () -> {
                if (!connection.relaySide.authenticated()) {
                    connection.close();
                }
            });
        }
    }

    /** One open stream: frames each way on virtual time, closed once for both sides. */
    private static final class Connection {
        private final Listener listener;
        private final Events events;
        /** One way, this connection's: the relay's stream delay and the distance between regions. */
        private final Duration delay;
        private StreamConnection relaySide;
        private boolean closed;

        final Stream fromClient = new Stream() {
            @Override
            public boolean send(RelayFrame frame) {
                if (closed) {
                    return false;
                }
                byte[] encoded = RelayFrameCodec.encodeStream(frame);
                listener.scheduler.schedule(delay, () -> relaySide.onStreamFrame(ByteBuffer.wrap(encoded)));
                return true;
            }

            @Override
            public void close() {
                Connection.this.close();
            }
        };

        final FrameStream toClient = new FrameStream() {
            @Override
            public boolean writable() {
                return !closed;
            }

            @Override
            public void write(RelayFrame frame) {
                if (closed) {
                    return;
                }
                byte[] encoded = RelayFrameCodec.encodeStream(frame);
                listener.scheduler.schedule(delay, () -> deliverToClient(encoded));
            }

            @Override
            public boolean isOpen() {
                return !closed;
            }

            @Override
            public void close() {
                Connection.this.close();
            }
        };

        Connection(Listener listener, Events events, Duration delay) {
            this.listener = listener;
            this.events = events;
            this.delay = delay;
        }

        private void deliverToClient(byte[] encoded) {
            RelayFrame frame;
            try {
                ByteBuffer buffer = ByteBuffer.wrap(encoded);
                int length = RelayFrameCodec.streamFrameLength(buffer.duplicate());
                frame = RelayFrameCodec.decodeFrame(ByteBuffer.wrap(encoded, RelayFrameCodec.STREAM_HEADER_BYTES,
                        length));
            } catch (RelayFrameException e) {
                throw new IllegalStateException("the relay wrote a frame its own codec cannot read", e);
            }
            events.received(frame);
        }

        /** Either side closed: both hear of it after the frames already on the way. */
        private void close() {
            if (closed) {
                return;
            }
            closed = true;
            listener.open.remove(this);
            listener.scheduler.schedule(delay, () -> {
                relaySide.onClosed();
                events.closed();
            });
        }
    }
}
