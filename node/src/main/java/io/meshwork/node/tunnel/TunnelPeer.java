package io.meshwork.node.tunnel;

import io.meshwork.protocol.path.NatPolicy;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * What a tunnel knows of one side (the peer, or this node): the endpoints it advertises and its NAT.
 *
 * @param lan        LAN endpoints (the host's own addresses)
 * @param reflexive  public endpoints STUN servers or a relay saw
 * @param localPort  the WireGuard socket's port, 0 when unknown (port prediction's first guess)
 */
public record TunnelPeer(List<InetSocketAddress> lan, List<InetSocketAddress> reflexive, int localPort,
        NatPolicy.Side nat) {

    public TunnelPeer {
        lan = List.copyOf(lan);
        reflexive = List.copyOf(reflexive);
    }

    public static TunnelPeer unknown() {
        return new TunnelPeer(List.of(), List.of(), 0, NatPolicy.Side.unknown());
    }

    /** Every endpoint, LAN first. */
    public List<InetSocketAddress> endpoints() {
        java.util.ArrayList<InetSocketAddress> all = new java.util.ArrayList<>(lan);
        reflexive.stream().filter(e -> !all.contains(e)).forEach(all::add);
        return all;
    }
}
