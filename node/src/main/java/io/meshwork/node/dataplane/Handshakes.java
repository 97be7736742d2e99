package io.meshwork.node.dataplane;

import io.meshwork.protocol.wireguard.Handshake;
import io.meshwork.protocol.wireguard.Keypair;
import io.meshwork.protocol.wireguard.LocalIdentity;
import io.meshwork.protocol.wireguard.Macs;
import io.meshwork.protocol.wireguard.Messages;
import io.meshwork.protocol.wireguard.Timers;
import io.meshwork.protocol.wireguard.WireGuardException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handshake side of a {@link WireGuardDevice}: sending initiations, answering them, completing our own with the
 * response (WireGuard §5.4.2, §5.4.3), mac1/mac2 and cookie replies under load (§5.3, §5.4.4, §5.4.7), and the
 * sessions the handshakes yield, with their indices in the device's {@link IndexTable}.
 *
 * <p>Threads: initiations go out on whichever thread wants a session (the TUN reader when a packet has none, the
 * timer thread for rekeys and retries, a configuration call); handshake messages are received on the thread that
 * delivered the datagram (the transport's I/O thread, or the relay client's). A peer's monitor guards its handshake,
 * cookie jar and session changes; the load window below has a lock of its own.
 */
final class Handshakes {

    private static final Logger log = LoggerFactory.getLogger(Handshakes.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final WireGuardDevice device;
    private final IndexTable indices;

    /** Guards the handshake rate window below, which every receiving thread counts into. */
    private final Object loadLock = new Object();
    private long loadWindowStart = System.nanoTime();
    private int handshakesInWindow;
    private volatile long underLoadUntil = Long.MIN_VALUE;

    Handshakes(WireGuardDevice device, IndexTable indices) {
        this.device = device;
        this.indices = indices;
    }

    // ---- initiator ---------------------------------------------------------------------------------------

    /**
     * Starts a series of handshake attempts unless one is in flight. The check-and-set and the initiation are made
     * under the peer's lock, so the timer thread never sees an attempt started without its first initiation.
     */
    void initiateIfIdle(Peer peer, long now) {
        initiate(peer, now, false);
    }

    /**
     * As {@link #initiateIfIdle}, and also when the attempt in flight never left (its last initiation found no path):
     * then a fresh initiation goes now rather than after the retry timeout, for the path has just become usable.
     */
    void initiateIfIdleOrUndelivered(Peer peer, long now) {
        initiate(peer, now, true);
    }

    private void initiate(Peer peer, long now, boolean evenIfUndelivered) {
        byte[] message;
        synchronized (peer) {
            boolean inFlight = peer.clocks.attemptStarted != Timers.NEVER;
            if (inFlight && !(evenIfUndelivered && peer.clocks.initiationUndelivered)) {
                return;
            }
            if (!inFlight) {
                peer.clocks.attemptStarted = now;
            }
            message = initiation(peer, now);
        }
        send(peer, message, now);
    }

    /**
     * The timer thread's retry (§6.4): a new initiation when one is still due, looked at again under the peer's
     * lock (the timer read the clocks without it, and another thread may have started or ended the attempt since).
     */
    void retryIfDue(Peer peer, long now) {
        byte[] message;
        synchronized (peer) {
            if (!Timers.due(peer.clock(), now, peer.clocks.jitterNanos).contains(Timers.Action.RETRY_HANDSHAKE)) {
                return;
            }
            message = initiation(peer, now);
        }
        send(peer, message, now);
    }

    /**
     * A fresh initiation (WireGuard §5.4.2) under a new index, with this attempt's retry jitter (§6.4); null when
     * the peer is gone or none can be made. Under the peer's lock.
     */
    private byte[] initiation(Peer peer, long now) {
        if (!device.hasPeer(peer.publicKey())) {
            return null;
        }
        int oldIndex = peer.handshake.pendingInitiationIndex();
        if (oldIndex != 0) {
            indices.remove(oldIndex);
        }
        int index = indices.allocate(new IndexTable.Entry(peer, null));
        byte[] message;
        try {
            message = peer.handshake.createInitiation(index, Instant.now());
        } catch (WireGuardException e) {
            indices.remove(index);
            log.debug("cannot create initiation for {}: {}", peer.publicKey(), e.getMessage());
            return null;
        }
        peer.cookies.sent(Macs.add(message, peer.handshake, peer.cookies.cookie(now)));
        peer.clocks.initiationSent = now;
        peer.clocks.jitterNanos = RANDOM.nextLong(Timers.MAX_REKEY_JITTER + 1);
        return message;
    }

    /** Sends an initiation; one that found no path is marked undelivered, to go again when a path appears. */
    private void send(Peer peer, byte[] message, long now) {
        if (message == null) {
            return;
        }
        boolean delivered = device.deliver(peer, ByteBuffer.wrap(message), false);
        peer.clocks.initiationUndelivered = !delivered;
        if (!delivered) {
            return;
        }
        peer.counters.txBytes.addAndGet(message.length);
        peer.clocks.anySent = now;
    }

    // ---- receiving handshake messages ----------------------------------------------------------------------

    /** mac1, then under load mac2 (answering with a cookie reply when missing). True to go on. */
    private boolean admit(LocalIdentity local, byte[] message, InetSocketAddress sender, long now) {
        if (!Macs.mac1Valid(local, message)) {
            device.drop(DropReason.BAD_MAC1, "", sender);
            return false;
        }
        // Through the relay the sender already proved its key to the relay; cookies bind to UDP source addresses.
        if (sender != WireGuardDevice.RELAY_SOURCE && underLoad(now)
                && !device.cookieChecker().mac2Valid(message, sender, now)) {
            device.drop(DropReason.NEEDS_COOKIE, "", sender);
            device.transport().send(ByteBuffer.wrap(device.cookieChecker().createReply(message, sender, now)), sender);
            return false;
        }
        return true;
    }

    /**
     * Counts a handshake message into the rate window: above
     * {@link WireGuardDevice#UNDER_LOAD_HANDSHAKES_PER_SECOND} the device is under load for the next second.
     */
    private boolean underLoad(long now) {
        synchronized (loadLock) {
            if (now - loadWindowStart > Timers.SECOND) {
                loadWindowStart = now;
                handshakesInWindow = 0;
            }
            if (++handshakesInWindow > WireGuardDevice.UNDER_LOAD_HANDSHAKES_PER_SECOND) {
                underLoadUntil = now + Timers.SECOND;
            }
        }
        return now < underLoadUntil;
    }

    /**
     * As responder (WireGuard §5.4.2, §5.4.3): consumes an initiation and answers it. The session it yields becomes
     * the peer's next one, used once the initiator's first transport message confirms it ({@link #confirm}).
     */
    void receiveInitiation(LocalIdentity local, byte[] message, InetSocketAddress sender, long now) {
        if (!admit(local, message, sender, now)) {
            return;
        }
        Handshake.ConsumedInitiation initiation;
        try {
            initiation = Handshake.consumeInitiation(local, message);
        } catch (WireGuardException e) {
            device.drop(DropReason.HANDSHAKE_FAILED, e.getMessage(), sender);
            return;
        }
        Peer peer = device.peer(initiation.initiatorStatic());
        if (peer == null) {
            device.drop(DropReason.UNKNOWN_PEER, initiation.initiatorStatic().toString(), sender);
            return;
        }
        byte[] response;
        synchronized (peer) {
            Handshake.Response made;
            int index = indices.allocate(new IndexTable.Entry(peer, null));
            try {
                peer.handshake.acceptInitiation(initiation);
                made = peer.handshake.createResponse(index, now);
            } catch (WireGuardException e) {
                indices.remove(index);
                device.drop(DropReason.HANDSHAKE_FAILED, e.getMessage(), sender);
                return;
            }
            indices.put(index, new IndexTable.Entry(peer, made.keypair()));
            Keypair replaced = peer.keypairs.next;
            if (replaced != null) {
                indices.remove(replaced.localIndex());
            }
            peer.keypairs.next = made.keypair();
            response = made.message();
            peer.cookies.sent(Macs.add(response, peer.handshake, peer.cookies.cookie(now)));
            peer.path.roam(sender);
            peer.counters.lastHandshakeEpochMillis = System.currentTimeMillis();
        }
        device.deliver(peer, ByteBuffer.wrap(response), false);
        peer.counters.txBytes.addAndGet(response.length);
        peer.counters.rxBytes.addAndGet(message.length);
        peer.clocks.anySent = now;
        peer.clocks.anyReceived = now;
    }

    /** As initiator (WireGuard §5.4.3): completes our handshake; the new session is current at once. */
    void receiveResponse(LocalIdentity local, byte[] message, InetSocketAddress sender, long now) {
        if (!admit(local, message, sender, now)) {
            return;
        }
        IndexTable.Entry entry = indices.get(Messages.receiverIndex(message));
        if (entry == null || entry.keypair() != null) {
            device.drop(DropReason.UNKNOWN_INDEX, "response", sender);
            return;
        }
        Peer peer = entry.peer();
        synchronized (peer) {
            Keypair keys;
            try {
                keys = peer.handshake.consumeResponse(message, now);
            } catch (WireGuardException e) {
                device.drop(DropReason.HANDSHAKE_FAILED, e.getMessage(), sender);
                return;
            }
            indices.put(keys.localIndex(), new IndexTable.Entry(peer, keys));
            rotateIn(peer, keys);
            peer.clocks.attemptStarted = Timers.NEVER;
            peer.path.roam(sender);
            peer.counters.lastHandshakeEpochMillis = System.currentTimeMillis();
        }
        peer.counters.rxBytes.addAndGet(message.length);
        peer.clocks.anyReceived = now;
        device.outbound().flushStaged(peer);
    }

    /** A cookie reply (WireGuard §5.4.7) to one of our handshake messages: its cookie goes on our next mac2. */
    void receiveCookieReply(byte[] message, InetSocketAddress sender, long now) {
        IndexTable.Entry entry = indices.get(Messages.receiverIndex(message));
        if (entry == null) {
            device.drop(DropReason.UNKNOWN_INDEX, "cookie reply", sender);
            return;
        }
        synchronized (entry.peer()) {
            try {
                entry.peer().cookies.consumeReply(message, now);
            } catch (WireGuardException e) {
                device.drop(DropReason.DECRYPTION_FAILED, e.getMessage(), sender);
            }
        }
    }

    // ---- sessions ----------------------------------------------------------------------------------------

    /**
     * As responder: the first transport message on the peer's next session confirms it, which becomes current.
     * Does nothing when {@code keys} is no longer the next session (another thread confirmed or replaced it).
     */
    void confirm(Peer peer, Keypair keys) {
        synchronized (peer) {
            if (keys == peer.keypairs.next) {
                peer.keypairs.next = null;
                rotateIn(peer, keys);
                peer.clocks.attemptStarted = Timers.NEVER;
            }
        }
    }

    /** A new current session; the old current becomes previous, the one before is forgotten. Under the peer's lock. */
    private void rotateIn(Peer peer, Keypair keys) {
        Peer.Keypairs sessions = peer.keypairs;
        Keypair forgotten = sessions.previous;
        if (forgotten != null) {
            indices.remove(forgotten.localIndex());
        }
        Keypair unconfirmed = sessions.next;
        if (unconfirmed != null) {
            indices.remove(unconfirmed.localIndex());
            sessions.next = null;
        }
        sessions.previous = sessions.current;
        sessions.current = keys;
    }
}
