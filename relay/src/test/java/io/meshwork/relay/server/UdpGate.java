package io.meshwork.relay.server;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * A UDP forwarder between one client and the relay that can be shut like a firewall: while closed it drops
 * everything, as a network that blocks UDP does.
 */
final class UdpGate implements AutoCloseable {

    private final DatagramSocket front;
    private final DatagramSocket back;
    private final InetSocketAddress relay;
    private volatile boolean open;
    private volatile SocketAddress client;

    UdpGate(InetSocketAddress relay) throws IOException {
        this.relay = relay;
        this.front = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0));
        this.back = new DatagramSocket(new InetSocketAddress(RelayHarness.LOOPBACK, 0));
        start("gate-out", front, true);
        start("gate-in", back, false);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    void open() {
        open = true;
    }

    private void start(String name, DatagramSocket socket, boolean outbound) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[65_535];
            while (!socket.isClosed()) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(packet);
                    if (!open) {
                        continue;
                    }
                    if (outbound) {
                        client = packet.getSocketAddress();
                        back.send(new DatagramPacket(packet.getData(), packet.getLength(), relay));
                    } else if (client != null) {
                        front.send(new DatagramPacket(packet.getData(), packet.getLength(), client));
                    }
                } catch (IOException closed) {
                    return;
                }
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        front.close();
        back.close();
    }
}
