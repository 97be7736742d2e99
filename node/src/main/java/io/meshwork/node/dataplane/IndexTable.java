package io.meshwork.node.dataplane;

import io.meshwork.protocol.wireguard.Keypair;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device's receiver indices. Every handshake message we send carries a random 32-bit sender index of ours
 * (WireGuard §5.4.2, §5.4.3); the peer puts it in the receiver field of its answers and transport messages, and this
 * table finds the peer, and the session once the handshake derived one, from it. Concurrent: every receiving thread
 * reads it, the thread that sends or consumes a handshake message writes it.
 */
final class IndexTable {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** What an index stands for: a peer's handshake in flight ({@code keypair} null) or a session of it. */
    record Entry(Peer peer, Keypair keypair) {}

    private final Map<Integer, Entry> entries = new ConcurrentHashMap<>();

    /** Picks a free random non-zero index for {@code entry}. */
    int allocate(Entry entry) {
        while (true) {
            int index = RANDOM.nextInt();
            if (index != 0 && entries.putIfAbsent(index, entry) == null) {
                return index;
            }
        }
    }

    void put(int index, Entry entry) {
        entries.put(index, entry);
    }

    Entry get(int index) {
        return entries.get(index);
    }

    void remove(int index) {
        entries.remove(index);
    }

    /** Forgets every index of {@code peer}. */
    void removePeer(Peer peer) {
        entries.values().removeIf(entry -> entry.peer() == peer);
    }
}
