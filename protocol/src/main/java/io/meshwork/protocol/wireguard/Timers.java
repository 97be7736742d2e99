package io.meshwork.protocol.wireguard;

import java.util.EnumSet;
import java.util.Set;

/**
 * WireGuard's timer rules (whitepaper §6, wireguard-go {@code timers.go}) as pure functions of a peer's
 * clock readings and {@code now}, all in nanoseconds of one monotonic clock. A device evaluates
 * {@link #due} periodically and on events, and performs the returned actions.
 */
public final class Timers {

    public static final long SECOND = 1_000_000_000L;
    public static final long REKEY_AFTER_MESSAGES = 1L << 60;
    public static final long REKEY_AFTER_TIME = 120 * SECOND;
    public static final long REJECT_AFTER_TIME = 180 * SECOND;
    public static final long REKEY_ATTEMPT_TIME = 90 * SECOND;
    public static final long REKEY_TIMEOUT = 5 * SECOND;
    public static final long KEEPALIVE_TIMEOUT = 10 * SECOND;
    /** Up to this much random delay is added to REKEY_TIMEOUT so peers do not retry in lock-step. */
    public static final long MAX_REKEY_JITTER = 334_000_000L;
    /** Not a time set by any event: "never". */
    public static final long NEVER = Long.MIN_VALUE;

    private Timers() {}

    /** What a device should do for a peer now. */
    public enum Action {
        /** Start a new handshake (no handshake is in flight). */
        INITIATE_HANDSHAKE,
        /** The initiation went unanswered for REKEY_TIMEOUT: send a fresh one. */
        RETRY_HANDSHAKE,
        /** REKEY_ATTEMPT_TIME passed without success: stop trying and drop queued packets. */
        GIVE_UP_HANDSHAKE,
        /** Send an empty transport message. */
        SEND_KEEPALIVE,
        /** No handshake for 3 × REJECT_AFTER_TIME: erase all session keys. */
        EXPIRE_KEYS
    }

    /**
     * A peer's clock readings.
     *
     * @param initiationSent       when the last initiation went out, or NEVER
     * @param attemptStarted       when the current series of handshake attempts began, or NEVER if none is in flight
     * @param dataSent             last transport message with a payload sent
     * @param dataReceived         last authenticated transport message with a payload received
     * @param anySent              last packet of any kind sent (keepalives included)
     * @param anyReceived          last authenticated packet of any kind received
     * @param keypairCreated       when the current session's keys were derived, or NEVER without keys
     * @param keypairIsInitiator   whether we initiated the current session
     * @param persistentKeepalive  persistent keepalive interval, 0 for off
     */
    public record PeerClock(
            long initiationSent,
            long attemptStarted,
            long dataSent,
            long dataReceived,
            long anySent,
            long anyReceived,
            long keypairCreated,
            boolean keypairIsInitiator,
            long persistentKeepalive) {}

    /** The actions due at {@code now}; {@code jitter} is this attempt's random extra in [0, MAX_REKEY_JITTER]. */
    public static Set<Action> due(PeerClock clock, long now, long jitter) {
        Set<Action> actions = EnumSet.noneOf(Action.class);
        if (clock.attemptStarted() != NEVER) {
            if (elapsed(clock.attemptStarted(), now) >= REKEY_ATTEMPT_TIME) {
                actions.add(Action.GIVE_UP_HANDSHAKE);
            } else if (elapsed(clock.initiationSent(), now) >= REKEY_TIMEOUT + jitter) {
                actions.add(Action.RETRY_HANDSHAKE);
            }
        } else if (after(clock.dataSent(), clock.anyReceived())
                && elapsed(clock.dataSent(), now) >= KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) {
            // We sent data and heard nothing back for 15 s: the session may be dead on the other side.
            actions.add(Action.INITIATE_HANDSHAKE);
        }
        if (after(clock.dataReceived(), clock.anySent()) && elapsed(clock.dataReceived(), now) >= KEEPALIVE_TIMEOUT) {
            // We received data and had nothing to say for 10 s: confirm we are alive.
            actions.add(Action.SEND_KEEPALIVE);
        }
        if (clock.persistentKeepalive() > 0 && clock.keypairCreated() != NEVER
                && elapsed(clock.anySent(), now) >= clock.persistentKeepalive()) {
            actions.add(Action.SEND_KEEPALIVE);
        }
        if (clock.keypairCreated() != NEVER && elapsed(clock.keypairCreated(), now) >= 3 * REJECT_AFTER_TIME) {
            actions.add(Action.EXPIRE_KEYS);
        }
        return actions;
    }

    /** Before sending with the current keys: should a new handshake start (§6.2)? */
    public static boolean rekeyBeforeSending(PeerClock clock, long sendCounter, long now) {
        if (clock.keypairCreated() == NEVER) {
            return true;
        }
        return sendCounter >= REKEY_AFTER_MESSAGES
                || (clock.keypairIsInitiator() && elapsed(clock.keypairCreated(), now) >= REKEY_AFTER_TIME);
    }

    /** After receiving on the current keys: should the initiator refresh them before they expire (§6.2)? */
    public static boolean rekeyAfterReceiving(PeerClock clock, long now) {
        return clock.keypairIsInitiator() && clock.keypairCreated() != NEVER
                && elapsed(clock.keypairCreated(), now) >= REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT;
    }

    /** True when keys of this age must no longer be used at all. */
    public static boolean expired(long keypairCreated, long now) {
        return keypairCreated == NEVER || elapsed(keypairCreated, now) >= REJECT_AFTER_TIME;
    }

    private static long elapsed(long since, long now) {
        return since == NEVER ? Long.MAX_VALUE : now - since;
    }

    private static boolean after(long a, long b) {
        return a != NEVER && (b == NEVER || a - b > 0);
    }
}
