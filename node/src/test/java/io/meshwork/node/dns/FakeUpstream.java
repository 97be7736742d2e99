package io.meshwork.node.dns;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream resolver on loopback for the forwarder's tests: answers every question with one A record (and
 * {@code padding} TXT records), over UDP (truncated, TC set, when {@code truncateUdp}) and TCP on the same port;
 * or stays silent. Counts what it was asked.
 */
final class FakeUpstream implements AutoCloseable {

    final AtomicInteger udpQueries = new AtomicInteger();
    final AtomicInteger tcpQueries = new AtomicInteger();
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final String address;
    private final int ttl;
    private final int padding;
    private final boolean truncateUdp;
    private final boolean silent;

    FakeUpstream(String address, int ttl, int padding, boolean truncateUdp, boolean silent) throws IOException {
        this.address = address;
        this.ttl = ttl;
        this.padding = padding;
        this.truncateUdp = truncateUdp;
        this.silent = silent;
        // One port number for both, as a DNS server has: a free UDP port's number may be taken for TCP, so try
        // another until both are free.
        DatagramSocket udpSocket = null;
        ServerSocket tcpSocket = null;
        for (int attempt = 0; tcpSocket == null; attempt++) {
            udpSocket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try {
                tcpSocket = new ServerSocket(udpSocket.getLocalPort(), 8, InetAddress.getLoopbackAddress());
            } catch (BindException taken) {
                udpSocket.close();
                if (attempt == 20) {
                    throw taken;
                }
            }
        }
        this.udp = udpSocket;
        this.tcp = tcpSocket;
        Thread udpThread = new Thread(this::serveUdp, "fake-upstream-udp");
        udpThread.setDaemon(true);
        udpThread.start();
        Thread tcpThread = new Thread(this::serveTcp, "fake-upstream-tcp");
        tcpThread.setDaemon(true);
        tcpThread.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), udp.getLocalPort());
    }

    private void serveUdp() {
        byte[] buffer = new byte[4096];
        while (!udp.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                udpQueries.incrementAndGet();
                if (silent) {
                    continue;
                }
                byte[] query = Arrays.copyOf(packet.getData(), packet.getLength());
                byte[] answer = DnsMessages.upstreamAnswer(query, address, ttl, padding);
                if (truncateUdp) {
                    answer = WireFormat.bare(query, WireFormat.questionEnd(query, query.length), 0, true);
                }
                udp.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try (Socket socket = tcp.accept()) {
                DataInputStream in = new DataInputStream(socket.getInputStream());
                byte[] query = in.readNBytes(in.readUnsignedShort());
                tcpQueries.incrementAndGet();
                byte[] answer = DnsMessages.upstreamAnswer(query, address, ttl, padding);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeShort(answer.length);
                out.write(answer);
                out.flush();
            } catch (IOException e) {
                if (tcp.isClosed()) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        udp.close();
        tcp.close();
    }
}
