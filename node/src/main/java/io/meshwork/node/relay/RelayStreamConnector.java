package io.meshwork.node.relay;

import io.meshwork.protocol.relay.RelayFrame;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Opens the stream connections (TCP, optionally TLS) a {@link RelayClient} falls back to where UDP is blocked.
 * Production connects real sockets on their own threads ({@link TcpRelayConnector}); the network simulation
 * carries the same length-prefixed frames on virtual time.
 */
@FunctionalInterface
public interface RelayStreamConnector {

    /**
     * Starts connecting to {@code address} without blocking the caller. Later, on any thread, {@code events} hears
     * exactly one of {@link Events#opened} or {@link Events#failed}; after {@code opened} it hears the frames the
     * relay sends and, once, that the connection closed.
     */
    void connect(InetSocketAddress address, Events events);

    /** An open connection. */
    interface Stream {

        /** Queues a frame; false when the queue is full or the connection is closed (the frame is dropped). */
        boolean send(RelayFrame frame);

        /** Closes the connection; idempotent. */
        void close();
    }

    /** What happens to one connection attempt. */
    interface Events {

        void opened(Stream stream);

        void failed(IOException error);

        /** A decoded frame from the relay; frames that fail to decode are counted by the connection. */
        void received(RelayFrame frame);

        /** The connection ended, whichever side closed it. */
        void closed();
    }
}
