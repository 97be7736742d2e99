package io.meshwork.node.tunnel;

import io.meshwork.protocol.probe.ProbeMessage;
import java.net.InetSocketAddress;

/**
 * What a {@link PeerTunnel} does to the world, for one peer: send probes, move the peer's WireGuard traffic
 * between the relay and a direct endpoint. The node implements it over its WireGuard device, socket and relay
 * client; tests and the simulation over in-memory ones.
 */
public interface TunnelPort {

    /** Sends a probe to {@code endpoint} from the WireGuard socket, so it opens the same NAT mappings. */
    void sendDirect(InetSocketAddress endpoint, ProbeMessage message);

    /**
     * Sends a probe to {@code endpoint} from the WireGuard socket with its IP TTL limited to {@code ttl} hops: it
     * opens this node's own NAT mapping towards the endpoint and dies before it reaches the peer's gateway, so it
     * leaves no conntrack entry there. False when this port cannot limit the TTL (then nothing was sent).
     */
    default boolean sendDirectLimited(InetSocketAddress endpoint, ProbeMessage message, int ttl) {
        return false;
    }

    /**
     * Whether this node opens its mapping first when the two sides take turns (a suspected conntrack collision):
     * the side with the lower public key, which both sides compute alike.
     */
    default boolean opensFirst() {
        return false;
    }

    /**
     * Asks which public endpoint a new flow from the WireGuard socket gets now, by a STUN Binding request on a 5-tuple
     * the socket has not used lately ({@code node/netcheck/FreshBinding}): behind a Linux NAT whose by-source table
     * hands new flows a displaced port, that is the port this node's probes really leave from. {@code answer} gets
     * it, or empty when no server answered, on any thread. False when this port cannot ask (then {@code answer} is
     * never called).
     */
    default boolean learnNewFlowEndpoint(java.util.function.Consumer<java.util.Optional<InetSocketAddress>> answer) {
        return false;
    }

    /** Sends a probe to the peer through the relay; false when no relay is connected. */
    boolean sendViaRelay(ProbeMessage message);

    /** WireGuard traffic to the peer goes to {@code endpoint} from now on; the session carries on. */
    void useDirect(InetSocketAddress endpoint);

    /** WireGuard traffic to the peer goes through the relay from now on; the session carries on. */
    void useRelay();

    /** The direct path died: this node's own endpoints may have changed (a NAT rebinding), so look again. */
    void rediscoverEndpoints();

    /**
     * Whether no data went either way for {@code quiet}: an idle direct path is not heartbeated (WireGuard's
     * keepalives hold its NAT mappings), so a node with many peers does not ping them all every few seconds.
     */
    default boolean idleFor(java.time.Duration quiet) {
        return false;
    }

    /** The tunnel stopped (the peer left the organization): drop its WireGuard peer and keys. */
    void close();
}
