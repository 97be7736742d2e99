package io.meshwork.protocol.portmap;

/**
 * Whether a PCP or NAT-PMP server lost its mappings since it last answered, judged from the epoch times in its
 * replies (RFC 6886 §3.6, RFC 6887 §8.5): between two replies the server's epoch must advance about as much as the
 * client's clock did. If it went backwards or advanced far less, the gateway restarted (or is another gateway)
 * and every mapping must be made again. Pure; the client keeps the previous observation.
 */
public final class ServerEpoch {

    /** Seconds of slack either way (RFC 6887 §8.5). */
    private static final long SLACK_SECONDS = 2;

    private ServerEpoch() {}

    /**
     * One reply's epoch and when the client received it.
     *
     * @param epochSeconds      the server's epoch time in the reply
     * @param clientTimeSeconds the client's monotonic clock at the reply, in seconds
     */
    public record Observation(long epochSeconds, long clientTimeSeconds) {}

    /** True when {@code current} shows the server lost its state since {@code previous} (null: no earlier reply). */
    public static boolean lostState(Observation previous, Observation current) {
        if (previous == null) {
            return false;
        }
        // RFC 6887 §8.5: the epoch may not go back by more than a second...
        if (current.epochSeconds() + 1 < previous.epochSeconds()) {
            return true;
        }
        // ...and the two clocks may drift apart by 1/16 of the elapsed time plus the slack. RFC 6886 §3.6 asks
        // less (7/8 of the client's time); this check covers it.
        long clientDelta = current.clientTimeSeconds() - previous.clientTimeSeconds();
        long serverDelta = current.epochSeconds() - previous.epochSeconds();
        return clientDelta + SLACK_SECONDS < serverDelta - serverDelta / 16
                || serverDelta + SLACK_SECONDS < clientDelta - clientDelta / 16;
    }
}
