package io.meshwork.simulation;

import io.meshwork.protocol.demux.DatagramKind;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A socket for packet-level tests: sends probe-shaped datagrams carrying a text and records what arrives. */
final class ProbeSocket {

    record Received(InetSocketAddress sender, String text, long atNanos) {
    }

    private final VirtualTransport transport;
    private final SimScheduler scheduler;
    private final List<Received> received = new ArrayList<>();

    private ProbeSocket(VirtualTransport transport, SimScheduler scheduler) {
        this.transport = transport;
        this.scheduler = scheduler;
        transport.register(DatagramKind.PROBE, this::onDatagram);
    }

    static ProbeSocket open(Host host, int port, SimScheduler scheduler) {
        return new ProbeSocket(host.bind(port), scheduler);
    }

    static byte[] datagram(String text) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        byte[] datagram = new byte[DatagramKind.PROBE_MAGIC.length + body.length];
        System.arraycopy(DatagramKind.PROBE_MAGIC, 0, datagram, 0, DatagramKind.PROBE_MAGIC.length);
        System.arraycopy(body, 0, datagram, DatagramKind.PROBE_MAGIC.length, body.length);
        return datagram;
    }

    void send(String text, InetSocketAddress destination) {
        transport.send(ByteBuffer.wrap(datagram(text)), destination);
    }

    VirtualTransport transport() {
        return transport;
    }

    InetSocketAddress address() {
        return transport.localAddress();
    }

    List<Received> received() {
        return List.copyOf(received);
    }

    List<String> texts() {
        return received.stream().map(Received::text).toList();
    }

    /** The source address of the last datagram received: how a server learns a client's mapping. */
    InetSocketAddress lastSender() {
        if (received.isEmpty()) {
            throw new AssertionError(transport + " received nothing");
        }
        return received.get(received.size() - 1).sender();
    }

    private void onDatagram(ByteBuffer datagram, InetSocketAddress sender) {
        ByteBuffer body = datagram.duplicate();
        body.position(body.position() + DatagramKind.PROBE_MAGIC.length);
        byte[] text = new byte[body.remaining()];
        body.get(text);
        received.add(new Received(sender, new String(text, StandardCharsets.UTF_8), scheduler.nowNanos()));
    }
}
