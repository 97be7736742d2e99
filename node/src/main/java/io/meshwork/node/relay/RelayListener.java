package io.meshwork.node.relay;

import io.meshwork.protocol.relay.RelayKey;
import java.nio.ByteBuffer;

/**
 * Receives what a relay delivers. Packet and disco callbacks run on the receiving I/O thread (the UDP socket's,
 * or the TCP reader's): they must not block, and the buffer is only valid during the call.
 */
public interface RelayListener {

    /** A WireGuard datagram from the device holding {@code source}. */
    void onPacket(RelayKey source, ByteBuffer payload);

    /** A node coordination message (probe, call-me-maybe) from {@code source}. */
    default void onDisco(RelayKey source, ByteBuffer payload) {
    }

    /** The relay could not deliver to {@code peer}: it is not connected there. */
    default void onPeerGone(RelayKey peer) {
    }

    /** The connection state changed (connected, transport switched, refused, lost). */
    default void onStatus(RelayStatus status) {
    }
}
