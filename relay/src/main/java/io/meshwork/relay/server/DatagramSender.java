package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;
import io.meshwork.protocol.relay.RelayFrameCodec;
import java.net.InetSocketAddress;

/**
 * Where the relay's UDP replies and forwards leave: the Netty socket in production
 * ({@link NettyDatagramSender}), a virtual socket in the simulation. Sends never block; a full send queue drops.
 */
public interface DatagramSender {

    /** Whether a send now would be queued rather than dropped. */
    boolean writable();

    /** Queues {@code datagram} for {@code to}; false when the send queue is full (the datagram is dropped). */
    boolean send(byte[] datagram, InetSocketAddress to);

    /** Queues {@code frame}, encoded as a relay datagram, for {@code to}; false when it was dropped. */
    default boolean send(RelayFrame frame, InetSocketAddress to) {
        return send(RelayFrameCodec.encodeDatagram(frame), to);
    }
}
