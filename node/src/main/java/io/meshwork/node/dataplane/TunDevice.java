package io.meshwork.node.dataplane;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A layer-3 tunnel interface: IP packets in and out, no link headers. {@link LinuxTun} is the real one; tests
 * use in-memory devices.
 */
public interface TunDevice extends AutoCloseable {

    String name();

    int mtu();

    /**
     * Reads one packet into {@code buffer} (from its position) and returns its length; waits at most
     * {@code timeoutMillis} and returns 0 if none came. Returns -1 once the device is closed. With
     * {@link #offloads()} what is read is a frame: a virtio_net_hdr, then the packet (see {@link TunOffload}).
     */
    int read(ByteBuffer buffer, int timeoutMillis) throws IOException;

    /** Writes the readable bytes of {@code packet} as one IP packet. */
    void write(ByteBuffer packet) throws IOException;

    /**
     * True when the device carries a virtio_net_hdr before every packet both ways, so reads may return GSO
     * super-packets and {@link #writeFrame} takes coalesced ones ({@link TunOffload}).
     */
    default boolean offloads() {
        return false;
    }

    /** Writes one frame, virtio_net_hdr first; only when {@link #offloads()}. */
    default void writeFrame(ByteBuffer frame) throws IOException {
        throw new UnsupportedOperationException(name() + " has no offloads");
    }

    @Override
    void close();
}
