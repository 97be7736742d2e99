package io.meshwork.node.agent;

import io.meshwork.node.dataplane.TunDevice;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.function.IntFunction;

/**
 * A real WireGuard device for agent tests, on a TUN that never has a packet and (unless a test gives its own) a
 * socket that sends nowhere.
 */
final class IdleDevice {

    private IdleDevice() {}

    /** A device with a fresh private key; close it after the test. */
    static WireGuardDevice create() {
        return create(port -> new NoTransport());
    }

    /** The same on sockets from {@code transports} (called with the listen port). */
    static WireGuardDevice create(IntFunction<PacketTransport> transports) {
        WireGuardDevice device = new WireGuardDevice(new IdleTun(), transports);
        device.setPrivateKey(Key.generatePrivate());
        return device;
    }

    /** A TUN device that never has a packet. */
    private static final class IdleTun implements TunDevice {
        private volatile boolean closed;

        @Override
        public String name() {
            return "idle0";
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
                Thread.sleep(Math.min(timeoutMillis, 50));
            } catch (InterruptedException e) {
                return -1;
            }
            return closed ? -1 : 0;
        }

        @Override
        public void write(ByteBuffer packet) {
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** A socket that sends nowhere. */
    private static final class NoTransport implements PacketTransport {
        @Override
        public InetSocketAddress localAddress() {
            return new InetSocketAddress("192.0.2.1", 51820);
        }

        @Override
        public void send(ByteBuffer datagram, InetSocketAddress destination) {
        }

        @Override
        public void register(DatagramKind kind, PacketHandler handler) {
        }

        @Override
        public void unregister(DatagramKind kind) {
        }

        @Override
        public long droppedDatagrams() {
            return 0;
        }

        @Override
        public void close() {
        }
    }
}
