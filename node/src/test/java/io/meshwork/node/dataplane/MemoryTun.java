package io.meshwork.node.dataplane;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A TUN device in memory: tests inject packets "from the OS" and collect what the device writes. */
final class MemoryTun implements TunDevice {

    final BlockingQueue<byte[]> fromOs = new LinkedBlockingQueue<>();
    final BlockingQueue<byte[]> toOs = new LinkedBlockingQueue<>();
    /** With offloads: the frames (virtio_net_hdr and packet) the device wrote with {@link #writeFrame}. */
    final BlockingQueue<byte[]> framesToOs = new LinkedBlockingQueue<>();
    private final String name;
    private final boolean offloads;
    private volatile boolean closed;

    MemoryTun(String name) {
        this(name, false);
    }

    /** With {@code offloads}, what tests put in {@link #fromOs} are frames: a virtio_net_hdr, then the packet. */
    MemoryTun(String name, boolean offloads) {
        this.name = name;
        this.offloads = offloads;
    }

    @Override
    public boolean offloads() {
        return offloads;
    }

    @Override
    public void writeFrame(ByteBuffer frame) {
        if (!offloads) {
            throw new UnsupportedOperationException();
        }
        byte[] copy = new byte[frame.remaining()];
        frame.duplicate().get(copy);
        framesToOs.add(copy);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int mtu() {
        return 1420;
    }

    @Override
    public int read(ByteBuffer buffer, int timeoutMillis) throws java.io.IOException {
        if (closed) {
            return -1;
        }
        try {
            byte[] packet = fromOs.poll(timeoutMillis, TimeUnit.MILLISECONDS);
            if (packet == null) {
                return closed ? -1 : 0;
            }
            buffer.put(packet);
            return packet.length;
        } catch (InterruptedException e) {
            return -1;
        }
    }

    @Override
    public void write(ByteBuffer packet) {
        byte[] copy = new byte[packet.remaining()];
        packet.duplicate().get(copy);
        toOs.add(copy);
    }

    @Override
    public void close() {
        closed = true;
    }
}
