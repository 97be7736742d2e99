package io.meshwork.node.relay;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocketFactory;

/** Real TCP (and TLS) connections to a relay: each connect blocks a short-lived thread of its own. */
final class TcpRelayConnector implements RelayStreamConnector {

    private final Optional<SSLSocketFactory> tls;
    private final Duration timeout;
    private final int queueFrames;
    private final AtomicLong droppedInbound;

    TcpRelayConnector(Optional<SSLSocketFactory> tls, Duration timeout, int queueFrames, AtomicLong droppedInbound) {
        this.tls = tls;
        this.timeout = timeout;
        this.queueFrames = queueFrames;
        this.droppedInbound = droppedInbound;
    }

    @Override
    public void connect(InetSocketAddress address, Events events) {
        Thread connector = new Thread(() -> {
            TcpRelayConnection connection;
            try {
                connection = TcpRelayConnection.open(address, tls, timeout, queueFrames, droppedInbound,
                        events::received, events::closed);
            } catch (IOException e) {
                events.failed(e);
                return;
            }
            events.opened(connection);
        }, "relay-tcp-connect");
        connector.setDaemon(true);
        connector.start();
    }
}
