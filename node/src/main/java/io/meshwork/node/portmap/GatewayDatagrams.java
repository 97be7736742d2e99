package io.meshwork.node.portmap;

import io.meshwork.protocol.portmap.PortMapParseException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Optional;

/**
 * One request and reply with the gateway's PCP/NAT-PMP server over a socket of its own, connected to the server so
 * the kernel drops datagrams from anyone else. The request is sent again halfway through the timeout (UDP may lose
 * it); replies that do not parse or that the caller does not take are counted and waited past. Blocking.
 */
final class GatewayDatagrams {

    /** Reads a reply: a value, or null for a reply that parsed but is not the answer (a stale nonce, say). */
    @FunctionalInterface
    interface Reader<T> {
        T read(byte[] datagram, int length) throws PortMapParseException;
    }

    /** A reply larger than PCP's 1100 bytes is not read past this. */
    private static final int BUFFER_BYTES = 1200;

    private GatewayDatagrams() {}

    /** The address this host uses towards {@code gateway}: the client address PCP and UPnP name. */
    static InetAddress localAddressTowards(InetAddress gateway, int port) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(new InetSocketAddress(gateway, port));
            return socket.getLocalAddress();
        }
    }

    /** Sends {@code request} and returns the first reply {@code reader} takes within {@code timeout}. */
    static <T> Optional<T> exchange(InetSocketAddress server, byte[] request, Duration timeout, Reader<T> reader,
            DropCounter drops, String what) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(server);
            DatagramPacket out = new DatagramPacket(request, request.length);
            socket.send(out);
            long start = System.nanoTime();
            long resendAt = start + timeout.toNanos() / 2;
            long deadline = start + timeout.toNanos();
            boolean resent = false;
            byte[] buffer = new byte[BUFFER_BYTES];
            while (true) {
                long now = System.nanoTime();
                if (now >= deadline) {
                    return Optional.empty();
                }
                long wakeAt = resent ? deadline : resendAt;
                socket.setSoTimeout((int) Math.max(1, (wakeAt - now) / 1_000_000));
                DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(in);
                } catch (SocketTimeoutException e) {
                    if (!resent && System.nanoTime() >= resendAt) {
                        socket.send(out);
                        resent = true;
                    }
                    continue;
                } catch (java.net.PortUnreachableException e) {
                    // Nothing listens on the gateway's port: an answer of sorts, and no reply will come.
                    return Optional.empty();
                }
                try {
                    T value = reader.read(in.getData(), in.getLength());
                    if (value != null) {
                        return Optional.of(value);
                    }
                } catch (PortMapParseException e) {
                    drops.drop(DropCounter.Reason.MALFORMED, what + " from " + in.getSocketAddress(), e.getMessage());
                }
            }
        }
    }
}
