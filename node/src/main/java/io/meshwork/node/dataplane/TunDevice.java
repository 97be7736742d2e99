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
     * {@code timeoutMillis} and returns 0 if none came. Returns -1 once the device is closed.
     */
    int read(ByteBuffer buffer, int timeoutMillis) throws IOException;

    /** Writes the readable bytes of {@code packet} as one IP packet. */
    void write(ByteBuffer packet) throws IOException;

    @Override
    void close();
}
