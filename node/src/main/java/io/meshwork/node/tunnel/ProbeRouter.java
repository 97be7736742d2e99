package io.meshwork.node.tunnel;

import io.meshwork.protocol.probe.ProbeCodec;
import io.meshwork.protocol.probe.ProbeException;
import io.meshwork.protocol.probe.ProbeMessage;
import io.meshwork.protocol.wireguard.Key;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens probe datagrams (from the socket or from the relay) and hands each authentic one to its peer's tunnel.
 * Everything else is dropped and counted by reason; nothing a stranger sends reaches a tunnel.
 */
public final class ProbeRouter {

    private static final Logger log = LoggerFactory.getLogger(ProbeRouter.class);

    private final ProbeCodec codec;
    private final Predicate<Key> isPeer;
    private final ActorRef<TunnelSupervisor.Command> supervisor;
    private final Map<ProbeException.Reason, AtomicLong> dropped = new EnumMap<>(ProbeException.Reason.class);

    public ProbeRouter(ProbeCodec codec, Predicate<Key> isPeer, ActorRef<TunnelSupervisor.Command> supervisor) {
        this.codec = codec;
        this.isPeer = isPeer;
        this.supervisor = supervisor;
        for (ProbeException.Reason reason : ProbeException.Reason.values()) {
            dropped.put(reason, new AtomicLong());
        }
    }

    /** A probe datagram that arrived on the socket from {@code sender}. */
    public void onDatagram(ByteBuffer datagram, InetSocketAddress sender) {
        route(datagram, sender);
    }

    /** A probe the relay delivered. */
    public void onRelayed(ByteBuffer payload) {
        route(payload, null);
    }

    /** The datagram carrying {@code message} to {@code peer}. */
    public ByteBuffer seal(Key peer, ProbeMessage message) {
        return codec.seal(peer, message);
    }

    public void forget(Key peer) {
        codec.forget(peer);
    }

    /** Probe datagrams dropped for {@code reason}. */
    public long dropped(ProbeException.Reason reason) {
        return dropped.get(reason).get();
    }

    private void route(ByteBuffer datagram, InetSocketAddress sender) {
        try {
            ProbeCodec.Opened opened = codec.open(datagram, isPeer);
            supervisor.tell(new TunnelSupervisor.ProbeFrom(opened.sender(), opened.message(), sender));
        } catch (ProbeException e) {
            dropped.get(e.reason()).incrementAndGet();
            log.debug("dropped probe from {}: {}", sender == null ? "relay" : sender, e.getMessage());
        }
    }
}
