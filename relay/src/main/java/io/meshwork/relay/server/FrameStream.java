package io.meshwork.relay.server;

import io.meshwork.protocol.relay.RelayFrame;

/**
 * The relay's end of one client's stream connection, as the session sees it: a TCP channel in production
 * ({@link ChannelFrameStream}), a virtual stream in the simulation. Frames are written in order, each in its
 * stream encoding ({@link io.meshwork.protocol.relay.RelayFrameCodec#encodeStream}); writes never block.
 */
public interface FrameStream {

    /** False while the send queue is above its high watermark: frames for this client are dropped then. */
    boolean writable();

    /** Queues {@code frame} without checking {@link #writable()}. */
    void write(RelayFrame frame);

    /** Whether the connection is still open. */
    boolean isOpen();

    /** Closes the connection once what was written before has been sent. Idempotent. */
    void close();
}
