package io.meshwork.node.agent;

import io.meshwork.node.tunnel.TunnelPeer;
import io.meshwork.node.tunnel.TunnelSupervisor;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node's actor tree (docs/architecture.md, "Node"): the tunnel supervisor with one PeerTunnel per peer, the control
 * session (peer-map stream, endpoint reports) and endpoint discovery. The WireGuard device they act on is the data
 * plane; its packets never pass through actors.
 */
public final class NodeGuardian {

    /** The guardian's children, for the agent to talk to. */
    public record Children(ActorRef<TunnelSupervisor.Command> tunnels, ActorRef<ControlSession.Command> session,
            ActorRef<EndpointDiscovery.Command> discovery) {}

    /**
     * How the children are made; the session and discovery get the refs they talk to.
     */
    public record Wiring(TunnelSupervisor.Wiring tunnels, TunnelPeer initialSelf,
            Function<ActorRef<TunnelSupervisor.Command>, Behavior<ControlSession.Command>> session,
            BiFunction<ActorRef<TunnelSupervisor.Command>, ActorRef<ControlSession.Command>,
                    Behavior<EndpointDiscovery.Command>> discovery) {}

    private NodeGuardian() {}

    /** Spawns the children and hands them to {@code ready}. */
    public static Behavior<Void> create(Wiring wiring, CompletableFuture<Children> ready) {
        return Behaviors.setup(context -> {
            ActorRef<TunnelSupervisor.Command> tunnels = context.spawn(
                    TunnelSupervisor.create(wiring.tunnels(), wiring.initialSelf()), "tunnels");
            ActorRef<ControlSession.Command> session = context.spawn(wiring.session().apply(tunnels), "control");
            ActorRef<EndpointDiscovery.Command> discovery = context.spawn(
                    wiring.discovery().apply(tunnels, session), "discovery");
            ready.complete(new Children(tunnels, session, discovery));
            return Behaviors.empty();
        });
    }
}
