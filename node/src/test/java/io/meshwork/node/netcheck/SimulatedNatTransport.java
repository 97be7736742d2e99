package io.meshwork.node.netcheck;

import io.meshwork.node.transport.PacketTransport;
import io.meshwork.protocol.demux.DatagramKind;
import io.meshwork.protocol.nat.FilteringBehavior;
import io.meshwork.protocol.nat.MappingBehavior;
import io.meshwork.protocol.stun.StunResponder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An in-memory socket behind a simulated NAT with the given mapping and filtering behaviour, on an
 * "internet" of STUN responders. Packets are delivered synchronously on the sender's thread.
 */
final class SimulatedNatTransport implements PacketTransport {

    private final InetSocketAddress local;
    private final InetAddress publicIp;
    private final MappingBehavior mapping;
    private final FilteringBehavior filtering;
    private final boolean hairpinning;
    private final List<StunResponder> servers;
    private final Map<Object, InetSocketAddress> mappings = new HashMap<>();
    private final Set<Object> permissions = new HashSet<>();
    private volatile PacketHandler stunHandler;
    private int nextPort = 40_000;

    SimulatedNatTransport(InetSocketAddress local, InetAddress publicIp, MappingBehavior mapping,
            FilteringBehavior filtering, boolean hairpinning, List<StunResponder> servers) {
        this.local = local;
        this.publicIp = publicIp;
        this.mapping = mapping;
        this.filtering = filtering;
        this.hairpinning = hairpinning;
        this.servers = servers;
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public void send(ByteBuffer datagram, InetSocketAddress destination) {
        InetSocketAddress source;
        synchronized (this) {
            Object mappingKey = switch (mapping) {
                case ADDRESS_DEPENDENT -> destination.getAddress();
                case ADDRESS_AND_PORT_DEPENDENT -> destination;
                default -> "any";
            };
            source = mappings.computeIfAbsent(mappingKey, key -> new InetSocketAddress(publicIp, nextPort++));
            permissions.add(switch (filtering) {
                case ADDRESS_DEPENDENT -> List.of(source, destination.getAddress());
                case ADDRESS_AND_PORT_DEPENDENT -> List.of(source, destination);
                default -> List.of(source);
            });
        }
        if (destination.getAddress().equals(publicIp)) {
            if (hairpinning) {
                inbound(datagram.duplicate(), source, destination);
            }
            return;
        }
        for (StunResponder server : servers) {
            if (server.addresses().sockets().contains(destination)) {
                if (server.respond(datagram.duplicate(), source, destination) instanceof StunResponder.Reply reply) {
                    inbound(ByteBuffer.wrap(reply.datagram()), reply.from(), reply.to());
                }
            }
        }
    }

    private void inbound(ByteBuffer datagram, InetSocketAddress from, InetSocketAddress to) {
        boolean allowed;
        synchronized (this) {
            allowed = permissions.contains(switch (filtering) {
                case ADDRESS_DEPENDENT -> List.of(to, from.getAddress());
                case ADDRESS_AND_PORT_DEPENDENT -> List.of(to, from);
                default -> List.of(to);
            });
        }
        PacketHandler handler = stunHandler;
        if (allowed && handler != null && DatagramKind.classify(datagram) == DatagramKind.STUN) {
            handler.onDatagram(datagram, from);
        }
    }

    @Override
    public void register(DatagramKind kind, PacketHandler handler) {
        if (kind == DatagramKind.STUN) {
            stunHandler = handler;
        }
    }

    @Override
    public void unregister(DatagramKind kind) {
        if (kind == DatagramKind.STUN) {
            stunHandler = null;
        }
    }

    @Override
    public long droppedDatagrams() {
        return 0;
    }

    @Override
    public void close() {
    }
}
