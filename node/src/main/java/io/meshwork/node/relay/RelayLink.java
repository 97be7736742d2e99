package io.meshwork.node.relay;

import io.meshwork.protocol.relay.RelayFrame.Transport;
import io.meshwork.protocol.relay.RelayKey;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;

/**
 * One connection to a relay as the node's relay selection sees it ({@link HomeRelays}): what it tells of its state
 * and what can be sent through it. {@link RelayClient} is the one implementation outside tests.
 */
public interface RelayLink extends AutoCloseable {

    RelayStatus status();

    /** How long since the relay last delivered a frame (a packet, disco message, pong or handshake answer). */
    Duration silence();

    /** Whether something was sent to the relay since it last delivered a frame: an answer is pending. */
    boolean awaitingRelay();

    /** The transport of the last session the relay confirmed, connected now or not; empty before the first. */
    Optional<Transport> lastTransport();

    /** Sends a WireGuard datagram to the device holding {@code destination}; false when it was dropped. */
    boolean sendPacket(RelayKey destination, ByteBuffer payload);

    /** Sends a node coordination message to {@code destination}; false when it was dropped. */
    boolean sendDisco(RelayKey destination, ByteBuffer payload);

    /** Authenticates with a renewed credential for the same key from now on. */
    void renewCredential(RelayCredential renewed);

    @Override
    void close();
}
