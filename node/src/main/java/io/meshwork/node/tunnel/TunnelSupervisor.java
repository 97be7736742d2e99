package io.meshwork.node.tunnel;

import io.meshwork.protocol.probe.ProbeMessage;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Keeps one {@link PeerTunnel} per peer of the organization: creates it when the peer appears, forwards the
 * peer's changes and its probes, stops it when the peer leaves, and tells every tunnel when this node's own
 * endpoints change.
 */
public final class TunnelSupervisor extends AbstractBehavior<TunnelSupervisor.Command> {

    public sealed interface Command {}

    /** A peer appeared or changed. */
    public record PeerUpserted(Key peer, TunnelPeer facts) implements Command {}

    /** A peer left the organization (removed or revoked). */
    public record PeerRemoved(Key peer) implements Command {}

    /** This node's endpoints or NAT changed. */
    public record SelfUpdated(TunnelPeer self) implements Command {}

    /** An authentic probe from a peer; {@code from} is null when the relay delivered it. */
    public record ProbeFrom(Key peer, ProbeMessage message, InetSocketAddress from) implements Command {}

    /** Pings {@code peer} once on its current path; no answer comes when there is no tunnel or no pong. */
    public record PingPeer(Key peer, ActorRef<PeerTunnel.PingResult> replyTo) implements Command {}

    private record TunnelStopped(Key peer) implements Command {}

    /**
     * How tunnels are made.
     *
     * @param ports      the port of each new tunnel, bound to its peer
     * @param statusSink receives each tunnel's status changes; a null status when the tunnel stopped
     * @param dispatcher where tunnels run (the default dispatcher, or the calling-thread one in simulation)
     */
    public record Wiring(Function<Key, TunnelPort> ports, BiConsumer<Key, TunnelStatus> statusSink,
            TunnelSettings settings, LongSupplier clock, long seed, DispatcherSelector dispatcher) {}

    private final Wiring wiring;
    private final Map<Key, ActorRef<PeerTunnel.Command>> tunnels = new HashMap<>();
    private TunnelPeer self;
    private long spawned;

    private TunnelSupervisor(ActorContext<Command> context, Wiring wiring, TunnelPeer self) {
        super(context);
        this.wiring = wiring;
        this.self = self;
    }

    public static Behavior<Command> create(Wiring wiring, TunnelPeer self) {
        return Behaviors.setup(context -> new TunnelSupervisor(context, wiring, self));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(PeerUpserted.class, this::upsert)
                .onMessage(PeerRemoved.class, removed -> {
                    ActorRef<PeerTunnel.Command> tunnel = tunnels.remove(removed.peer());
                    if (tunnel != null) {
                        tunnel.tell(PeerTunnel.Stop.INSTANCE);
                    }
                    return this;
                })
                .onMessage(SelfUpdated.class, updated -> {
                    self = updated.self();
                    tunnels.values().forEach(tunnel -> tunnel.tell(new PeerTunnel.SelfChanged(self)));
                    return this;
                })
                .onMessage(ProbeFrom.class, probe -> {
                    ActorRef<PeerTunnel.Command> tunnel = tunnels.get(probe.peer());
                    if (tunnel != null) {
                        tunnel.tell(new PeerTunnel.ProbeReceived(probe.message(), probe.from()));
                    }
                    return this;
                })
                .onMessage(PingPeer.class, ping -> {
                    ActorRef<PeerTunnel.Command> tunnel = tunnels.get(ping.peer());
                    if (tunnel != null) {
                        tunnel.tell(new PeerTunnel.PingPeer(ping.replyTo()));
                    }
                    return this;
                })
                .onMessage(TunnelStopped.class, stopped -> {
                    wiring.statusSink().accept(stopped.peer(), null);
                    return this;
                })
                .onSignal(Terminated.class, terminated -> this)
                .build();
    }

    private Behavior<Command> upsert(PeerUpserted upserted) {
        ActorRef<PeerTunnel.Command> existing = tunnels.get(upserted.peer());
        if (existing != null) {
            existing.tell(new PeerTunnel.PeerChanged(upserted.facts()));
            return this;
        }
        Key peer = upserted.peer();
        Behavior<PeerTunnel.Command> behavior = PeerTunnel.create(wiring.ports().apply(peer), wiring.settings(),
                wiring.clock(), status -> wiring.statusSink().accept(peer, status), upserted.facts(), self,
                wiring.seed() + spawned);
        Props props = wiring.dispatcher();
        ActorRef<PeerTunnel.Command> tunnel = getContext().spawn(behavior,
                "tunnel-" + peer.toHex().substring(0, 16) + "-" + spawned++, props);
        getContext().watchWith(tunnel, new TunnelStopped(peer));
        tunnels.put(peer, tunnel);
        return this;
    }
}
