package io.meshwork.node.agent;

import io.meshwork.protocol.net.IpLiteral;
import io.meshwork.node.local.PingReply;
import io.meshwork.node.tunnel.PeerTunnel;
import io.meshwork.node.tunnel.TunnelSupervisor;
import io.meshwork.protocol.api.PeerInfo;
import io.meshwork.protocol.wireguard.Key;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * {@code meshwork ping}: probe pings to a peer on the path its tunnel uses, one a second, like
 * {@code tailscale ping}; each reply says whether it came directly (and from where) or through the relay
 * (docs/architecture.md, "Paths: one tunnel actor per peer"). Runs on the local API's thread that asked.
 */
final class PeerPinger {

    /** How long one ping waits for its tunnel's answer. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final Duration INTERVAL = Duration.ofSeconds(1);

    /** Asks the peer's tunnel for one ping; the stage fails when no answer comes within {@code timeout}. */
    @FunctionalInterface
    interface Tunnels {
        CompletionStage<PeerTunnel.PingResult> ping(Key peer, Duration timeout);
    }

    private final Supplier<Collection<PeerInfo>> peers;
    private final Tunnels tunnels;
    /** The relay relayed traffic to a peer goes through (its home relay or this node's), by the peer's key. */
    private final Function<Key, String> relayName;

    PeerPinger(Supplier<Collection<PeerInfo>> peers, Tunnels tunnels, Function<Key, String> relayName) {
        this.peers = peers;
        this.tunnels = tunnels;
        this.relayName = relayName;
    }

    /** Pings through the tunnel supervisor's actors. */
    static PeerPinger through(ActorRef<TunnelSupervisor.Command> supervisor, Scheduler scheduler,
            Supplier<Collection<PeerInfo>> peers, Function<Key, String> relayName) {
        return new PeerPinger(peers, (key, timeout) -> AskPattern.<TunnelSupervisor.Command, PeerTunnel.PingResult>ask(
                supervisor, replyTo -> new TunnelSupervisor.PingPeer(key, replyTo), timeout, scheduler), relayName);
    }

    /**
     * Sends {@code count} pings to the peer with this hostname, device id or overlay address, handing each reply
     * to {@code replies} as it comes; returns early when the thread is interrupted.
     *
     * @throws IllegalArgumentException when no peer matches
     */
    void ping(String target, int count, Consumer<PingReply> replies) {
        PeerInfo info = peers.get().stream()
                .filter(p -> p.hostname().equals(target) || p.id().equals(target) || p.overlayIps().contains(target))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no peer \"" + target + "\""));
        Key key = Key.fromBase64(info.publicKey());
        for (int seq = 1; seq <= count; seq++) {
            long started = System.nanoTime();
            PingReply reply;
            try {
                PeerTunnel.PingResult result = tunnels.ping(key, TIMEOUT).toCompletableFuture()
                        .get(TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
                boolean direct = result.endpoint() != null;
                reply = new PingReply(seq, info.hostname(), direct ? "direct" : "relay",
                        direct ? IpLiteral.format(result.endpoint()) : relayName.apply(key),
                        result.roundTrip().toNanos() / 1e6);
            } catch (ExecutionException | TimeoutException e) {
                reply = new PingReply(seq, info.hostname(), "timeout", null, null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            replies.accept(reply);
            long rest = INTERVAL.toNanos() - (System.nanoTime() - started);
            if (seq < count && rest > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(rest);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
