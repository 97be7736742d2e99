package io.meshwork.tests.sim.mesh;

import io.meshwork.protocol.wireguard.Key;
import io.meshwork.tests.sim.SimScheduler;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The relay as nodes see it: whatever a node sends to a peer's key arrives at that peer after the relay's delay,
 * whatever NATs lie between (a real relay is reachable over UDP or, failing that, TCP). Coordination messages
 * (call-me-maybe, relay pings) and data share it, as they share the real relay.
 */
final class SimRelay {

    private final SimScheduler scheduler;
    private final Duration delay;
    private final Map<Key, SimNode> connected = new HashMap<>();
    private final Map<Key, SimNode> known = new HashMap<>();
    private boolean down;
    private long forwarded;
    private long dropped;

    SimRelay(SimScheduler scheduler, Duration delay) {
        this.scheduler = scheduler;
        this.delay = delay;
    }

    void connect(Key key, SimNode node) {
        known.put(key, node);
        if (!down) {
            connected.put(key, node);
        }
    }

    void disconnect(Key key) {
        known.remove(key);
        connected.remove(key);
    }

    /**
     * The relay process restarts: every connection drops, nothing is forwarded for {@code outage}, then the nodes'
     * relay clients connect again.
     */
    void restart(Duration outage) {
        down = true;
        connected.clear();
        scheduler.schedule(outage, () -> {
            down = false;
            connected.putAll(known);
        });
    }

    /** Datagrams the relay could not deliver (destination not connected). */
    long dropped() {
        return dropped;
    }

    /** Forwards a probe; false when the destination is not connected. */
    boolean sendDisco(Key source, Key destination, ByteBuffer payload) {
        return forward(destination, payload, (node, copy) -> node.onRelayedProbe(copy));
    }

    boolean sendData(Key source, Key destination, ByteBuffer payload) {
        return forward(destination, payload, (node, copy) -> node.onRelayedData(source, copy));
    }

    long forwarded() {
        return forwarded;
    }

    private boolean forward(Key destination, ByteBuffer payload, java.util.function.BiConsumer<SimNode, ByteBuffer> deliver) {
        if (!connected.containsKey(destination)) {
            dropped++;
            return false;
        }
        ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload.duplicate()).flip();
        forwarded++;
        scheduler.schedule(delay, () -> {
            SimNode node = connected.get(destination);
            if (node != null) {
                node.deliverFromRelay(deliver, copy);
            }
        });
        return true;
    }
}
