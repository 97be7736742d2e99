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
 * One WireGuard peer of a {@link WireGuardDevice}. Its state is grouped by concern: the handshake and cookie state
 * with the packets staged while no session exists, the {@link Keypairs sessions}, the {@link Clocks clocks} the
 * timer rules read, the {@link Path path} its datagrams take, and {@link Counters counters}.
 *
 * <p>Locking: the peer's own monitor guards the handshake, the cookie jar and changes to the keypairs (which are
 * read without it: they are volatile), and the check-and-set of {@link Clocks#attemptStarted} that starts a
 * handshake. Everything else is volatile or atomic.
 */
public final class Peer {

    /** Packets kept while a handshake is in flight (wireguard-go's QueueStagedSize). */
    static final int STAGED_LIMIT = 128;

    /**
     * Up to three sessions, each the keypair of one handshake (WireGuard §5.4.5): the previous one, the current
     * one, and the responder's next one, which waits for the initiator's first transport message to confirm it.
     */
    static final class Keypairs {
        volatile Keypair previous;
        volatile Keypair current;
        volatile Keypair next;
    }

    /** The readings the timer rules (WireGuard §6) work from, in System.nanoTime, {@link Timers#NEVER} for never. */
    static final class Clocks {
        volatile long initiationSent = Timers.NEVER;
        /** The last initiation found no path to the peer (no endpoint, the relay not connected yet). */
        volatile boolean initiationUndelivered;
        /**
         * Our handshake completed but nothing we sent since reached a path, so the peer (the responder) has not
         * confirmed the session (WireGuard §5.4.6: it sends nothing on it until our first transport message).
         */
        volatile boolean confirmationUndelivered;
        /** When the current series of handshake attempts began, or NEVER when no handshake is in flight. */
        volatile long attemptStarted = Timers.NEVER;
        volatile long dataSent = Timers.NEVER;
        volatile long dataReceived = Timers.NEVER;
        volatile long anySent = Timers.NEVER;
        volatile long anyReceived = Timers.NEVER;
        /** This handshake attempt's random extra on the retry timeout. */
        volatile long jitterNanos;
        /** 0: off. */
        volatile long persistentKeepaliveNanos;
    }

    /** Where the peer's datagrams go: its UDP endpoint or the relay. */
    static final class Path {
        volatile InetSocketAddress endpoint;
        /** Send through the relay instead of to {@link #endpoint}; follows the path the peer's packets last came by. */
        volatile boolean viaRelay;
        /** The path is chosen from outside (by the node's tunnel logic): authenticated packets do not move it. */
        volatile boolean pinned;

        /**
         * An authenticated packet came from {@code sender}: unless pinned, the path follows it (WireGuard §2.1
         * roaming, the relay included).
         */
        void roam(InetSocketAddress sender) {
            if (pinned) {
                return;
            }
            if (sender == WireGuardDevice.RELAY_SOURCE) {
                viaRelay = true;
            } else {
                viaRelay = false;
                endpoint = sender;
            }
        }
    }

    /** Traffic and handshake counters, as {@code wg show} reports them. */
    static final class Counters {
        final AtomicLong rxBytes = new AtomicLong();
        final AtomicLong txBytes = new AtomicLong();
        /** Wall-clock time of the last completed handshake in milliseconds since the epoch, or 0. */
        volatile long lastHandshakeEpochMillis;
    }

    private final Key publicKey;

    // Handshake state: guarded by this peer's monitor.
    final Handshake handshake;
    final CookieJar cookies;
    /** Packets waiting for a session, sent when a handshake completes. */
    final ArrayBlockingQueue<byte[]> staged = new ArrayBlockingQueue<>(STAGED_LIMIT);

    final Keypairs keypairs = new Keypairs();
    final Clocks clocks = new Clocks();
    final Path path = new Path();
    final Counters counters = new Counters();

    Peer(Key publicKey, Handshake handshake) {
        this.publicKey = publicKey;
        this.handshake = handshake;
        this.cookies = new CookieJar(publicKey);
    }

    public Key publicKey() {
        return publicKey;
    }

    public InetSocketAddress endpoint() {
        return path.endpoint;
    }

    /** True while this peer's datagrams go through the relay. */
    public boolean viaRelay() {
        return path.viaRelay;
    }

    public long rxBytes() {
        return counters.rxBytes.get();
    }

    public long txBytes() {
        return counters.txBytes.get();
    }

    public long lastHandshakeEpochMillis() {
        return counters.lastHandshakeEpochMillis;
    }

    public long persistentKeepaliveSeconds() {
        return clocks.persistentKeepaliveNanos / Timers.SECOND;
    }

    public Key presharedKey() {
        synchronized (this) {
            return handshake.presharedKey();
        }
    }

    /** When data (not keepalives or handshakes) last went to or came from the peer (System.nanoTime), or NEVER. */
    public long lastDataNanos() {
        return Math.max(clocks.dataSent, clocks.dataReceived);
    }

    /** True while a session with usable keys exists. */
    public boolean hasSession() {
        Keypair keys = keypairs.current;
        return keys != null && !Timers.expired(keys.createdNanos(), System.nanoTime());
    }

    Timers.PeerClock clock() {
        Keypair keys = keypairs.current;
        Clocks c = clocks;
        return new Timers.PeerClock(c.initiationSent, c.attemptStarted, c.dataSent, c.dataReceived, c.anySent,
                c.anyReceived, keys == null ? Timers.NEVER : keys.createdNanos(), keys != null && keys.isInitiator(),
                c.persistentKeepaliveNanos);
    }
}
