package io.meshwork.node.dataplane;

import io.meshwork.protocol.wireguard.CookieJar;
import io.meshwork.protocol.wireguard.Handshake;
import io.meshwork.protocol.wireguard.Key;
import io.meshwork.protocol.wireguard.Keypair;
import io.meshwork.protocol.wireguard.Timers;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One WireGuard peer of a {@link WireGuardDevice}: its handshake state, up to three sessions (previous,
 * current, and the responder's next one awaiting confirmation), its endpoint, clocks for the timer rules,
 * counters, and the packets staged while no session exists.
 */
public final class Peer {

    /** Packets kept while a handshake is in flight (wireguard-go's QueueStagedSize). */
    static final int STAGED_LIMIT = 128;

    private final Key publicKey;
    final Handshake handshake;
    final CookieJar cookies;
    final ArrayBlockingQueue<byte[]> staged = new ArrayBlockingQueue<>(STAGED_LIMIT);

    volatile InetSocketAddress endpoint;
    /** Send through the relay instead of to {@link #endpoint}; follows the path the peer's packets last came by. */
    volatile boolean viaRelay;
    /** The path is chosen from outside (by the node's tunnel logic): authenticated packets do not move it. */
    volatile boolean pathPinned;
    volatile long persistentKeepaliveNanos;
    volatile Keypair previous;
    volatile Keypair current;
    volatile Keypair next;

    volatile long initiationSent = Timers.NEVER;
    volatile long attemptStarted = Timers.NEVER;
    volatile long dataSent = Timers.NEVER;
    volatile long dataReceived = Timers.NEVER;
    volatile long anySent = Timers.NEVER;
    volatile long anyReceived = Timers.NEVER;
    volatile long jitterNanos;
    /** Wall-clock time of the last completed handshake in milliseconds since the epoch, or 0. */
    volatile long lastHandshakeEpochMillis;

    final AtomicLong rxBytes = new AtomicLong();
    final AtomicLong txBytes = new AtomicLong();

    Peer(Key publicKey, Handshake handshake) {
        this.publicKey = publicKey;
        this.handshake = handshake;
        this.cookies = new CookieJar(publicKey);
    }

    public Key publicKey() {
        return publicKey;
    }

    public InetSocketAddress endpoint() {
        return endpoint;
    }

    /** True while this peer's datagrams go through the relay. */
    public boolean viaRelay() {
        return viaRelay;
    }

    public long rxBytes() {
        return rxBytes.get();
    }

    public long txBytes() {
        return txBytes.get();
    }

    public long lastHandshakeEpochMillis() {
        return lastHandshakeEpochMillis;
    }

    public long persistentKeepaliveSeconds() {
        return persistentKeepaliveNanos / Timers.SECOND;
    }

    public Key presharedKey() {
        synchronized (this) {
            return handshake.presharedKey();
        }
    }

    /** When data (not keepalives or handshakes) last went to or came from the peer (System.nanoTime), or NEVER. */
    public long lastDataNanos() {
        return Math.max(dataSent, dataReceived);
    }

    /** True while a session with usable keys exists. */
    public boolean hasSession() {
        Keypair keys = current;
        return keys != null && !Timers.expired(keys.createdNanos(), System.nanoTime());
    }

    Timers.PeerClock clock() {
        Keypair keys = current;
        return new Timers.PeerClock(initiationSent, attemptStarted, dataSent, dataReceived, anySent, anyReceived,
                keys == null ? Timers.NEVER : keys.createdNanos(), keys != null && keys.isInitiator(),
                persistentKeepaliveNanos);
    }
}
