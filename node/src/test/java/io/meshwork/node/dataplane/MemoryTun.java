package io.meshwork.node.dataplane;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A TUN device in memory: tests inject packets "from the OS" and collect what the device writes. */
final class MemoryTun implements TunDevice {

    final BlockingQueue<byte[]> fromOs = new LinkedBlockingQueue<>();
    final BlockingQueue<byte[]> toOs = new LinkedBlockingQueue<>();
    private final String name;
    private volatile boolean closed;

    MemoryTun(String name) {
        this.name = name;
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
