package io.meshwork.node.agent;

import io.meshwork.node.dataplane.Peer;
import io.meshwork.node.dataplane.WireGuardDevice;
import io.meshwork.node.relay.RelayLink;
import io.meshwork.protocol.probe.ProbeCodec;
import io.meshwork.node.tunnel.TunnelPort;
import io.meshwork.protocol.probe.ProbeMessage;
import io.meshwork.protocol.relay.RelayKey;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * A tunnel's hands on the real node: probes leave from the WireGuard socket (so they open the mappings WireGuard
 * traffic will use) or through the relay; path changes move the WireGuard peer between relay and endpoint.
 * Without a relay, "relayed" means sending to the peer's best advertised endpoint instead, as a plain
 * WireGuard peer would.
 */
final class DeviceTunnelPort implements TunnelPort {

    private final WireGuardDevice device;
    private final Key peerKey;
    private final ProbeCodec probes;
    private final Supplier<RelayLink> relay;
    private final Supplier<InetSocketAddress> fallbackEndpoint;
    private final Runnable rediscover;
    private final ConnectionTimeline timeline;
    private final String name;
    /** Asks which endpoint new flows of the socket get; false when it cannot ask ({@link #learnNewFlowEndpoint}). */
    private final java.util.function.Predicate<java.util.function.Consumer<java.util.Optional<InetSocketAddress>>>
            newFlowEndpoint;

    DeviceTunnelPort(WireGuardDevice device, Key peerKey, ProbeCodec probes, Supplier<RelayLink> relay,
            Supplier<InetSocketAddress> fallbackEndpoint, Runnable rediscover, ConnectionTimeline timeline,
            java.util.function.Predicate<java.util.function.Consumer<java.util.Optional<InetSocketAddress>>>
                    newFlowEndpoint) {
        this.newFlowEndpoint = newFlowEndpoint;
        this.timeline = timeline;
        this.name = "peer " + peerKey.toBase64().substring(0, 8);
        this.device = device;
        this.peerKey = peerKey;
        this.probes = probes;
        this.relay = relay;
        this.fallbackEndpoint = fallbackEndpoint;
        this.rediscover = rediscover;
    }

    @Override
    public void sendDirect(InetSocketAddress endpoint, ProbeMessage message) {
        device.transport().send(probes.seal(peerKey, message), endpoint);
        if (timeline.enabled()) {
            timeline.first(name + ": first direct " + message.getClass().getSimpleName().toLowerCase(
                    java.util.Locale.ROOT) + " sent");
        }
    }

    @Override
    public boolean sendDirectLimited(InetSocketAddress endpoint, ProbeMessage message, int ttl) {
        return device.transport().sendWithTtl(probes.seal(peerKey, message), endpoint, ttl);
    }

    @Override
    public boolean opensFirst() {
        Key self = device.publicKey();
        return self != null && self.toHex().compareTo(peerKey.toHex()) < 0;
    }

    @Override
    public boolean learnNewFlowEndpoint(java.util.function.Consumer<java.util.Optional<InetSocketAddress>> answer) {
        return newFlowEndpoint.test(answer);
    }

    @Override
    public boolean sendViaRelay(ProbeMessage message) {
        RelayLink client = relay.get();
        boolean sent = client != null && client.sendDisco(RelayKey.of(peerKey.toBytes()), probes.seal(peerKey, message));
        if (timeline.enabled()) {
            timeline.first(name + ": first " + message.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT)
                    + (sent ? " sent through the relay" : " for the relay dropped (no relay connection yet)"));
        }
        return sent;
    }

    @Override
    public void useDirect(InetSocketAddress endpoint) {
        Peer peer = device.peer(peerKey);
        if (peer != null) {
            device.setEndpoint(peer, endpoint);
            device.useRelay(peer, false);
            // A session that never formed through the relay forms here: the probes just proved this path.
            device.initiateHandshake(peer);
        }
    }

    @Override
    public void useRelay() {
        Peer peer = device.peer(peerKey);
        if (peer == null) {
            return;
        }
        if (relay.get() != null) {
            device.useRelay(peer, true);
        } else {
            InetSocketAddress endpoint = fallbackEndpoint.get();
            if (endpoint != null) {
                device.setEndpoint(peer, endpoint);
            }
            device.useRelay(peer, false);
        }
        device.initiateHandshake(peer);
    }

    @Override
    public boolean idleFor(java.time.Duration quiet) {
        Peer peer = device.peer(peerKey);
        return peer == null || System.nanoTime() - peer.lastDataNanos() > quiet.toNanos();
    }

    @Override
    public void rediscoverEndpoints() {
        rediscover.run();
    }

    @Override
    public void close() {
        device.removePeer(peerKey);
        probes.forget(peerKey);
    }
}
