package io.meshwork.node.dataplane;

import io.meshwork.protocol.wireguard.Keypair;
import io.meshwork.protocol.wireguard.Timers;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies WireGuard's timer rules (WireGuard §6; the rules themselves are the pure functions of {@link Timers}) to
 * the peers of a {@link WireGuardDevice}: rekeying (§6.2, §6.3), handshake retries and giving up (§6.4), passive
 * keepalives (§6.5) and the configured persistent keepalive, and erasing all session keys of a peer that has had
 * no new handshake for 3 × Reject-After-Time.
 *
 * <p>Threads: {@link #run} is the body of the timer thread ({@code wg-timers-NAME}), which evaluates every peer's
 * rules every {@value #TIMER_TICK_MILLIS} ms. The two event rules run on the thread of the event instead:
 * {@link #beforeSending} on the TUN reader thread, {@link #afterReceiving} on the receiving thread (the Netty event
 * loop, or the TCP relay reader thread).
 */
final class DeviceTimers {

    private static final Logger log = LoggerFactory.getLogger(DeviceTimers.class);
    static final int TIMER_TICK_MILLIS = 100;

    private final WireGuardDevice device;
    private final IndexTable indices;

    DeviceTimers(WireGuardDevice device, IndexTable indices) {
        this.device = device;
        this.indices = indices;
    }

    void run() {
        while (!device.closed()) {
            try {
                Thread.sleep(TIMER_TICK_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Peer peer : device.livePeers()) {
                try {
                    runTimers(peer, now);
                } catch (RuntimeException e) {
                    log.warn("timers of peer {} failed: {}", peer.publicKey(), e.toString());
                }
            }
        }
    }

    /** About to send with {@code keys}: starts a handshake when they are due for renewal (§6.2). */
    void beforeSending(Peer peer, Keypair keys, long now) {
        if (Timers.rekeyBeforeSending(peer.clock(), keys.sendCount(), now)) {
            device.handshakes().initiateIfIdle(peer, now);
        }
    }

    /** Received on the current keys: an initiator refreshes them before they expire (§6.2). */
    void afterReceiving(Peer peer, long now) {
        if (Timers.rekeyAfterReceiving(peer.clock(), now)) {
            device.handshakes().initiateIfIdle(peer, now);
        }
    }

    private void runTimers(Peer peer, long now) {
        Set<Timers.Action> due = Timers.due(peer.clock(), now, peer.clocks.jitterNanos);
        for (Timers.Action action : due) {
            switch (action) {
                case INITIATE_HANDSHAKE -> device.handshakes().initiateIfIdle(peer, now);
                case RETRY_HANDSHAKE -> device.handshakes().retryIfDue(peer, now);
                case GIVE_UP_HANDSHAKE -> {
                    synchronized (peer) {
                        peer.clocks.attemptStarted = Timers.NEVER;
                        peer.staged.clear();
                        peer.handshake.clear();
                    }
                }
                case SEND_KEEPALIVE -> device.outbound().sendKeepalive(peer);
                case EXPIRE_KEYS -> {
                    synchronized (peer) {
                        Peer.Keypairs sessions = peer.keypairs;
                        for (Keypair keys : new Keypair[] {sessions.previous, sessions.current, sessions.next}) {
                            if (keys != null) {
                                indices.remove(keys.localIndex());
                            }
                        }
                        sessions.previous = null;
                        sessions.current = null;
                        sessions.next = null;
                    }
                }
            }
        }
    }
}
