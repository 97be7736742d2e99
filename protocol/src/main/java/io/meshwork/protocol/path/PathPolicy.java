package io.meshwork.protocol.path;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * Which direct endpoint of a peer to use (pure). Only endpoints that answered a probe recently count; among them
 * the lowest round trip wins, a LAN endpoint counting as {@link Settings#lanBonus} faster (a LAN path costs no
 * relay, no NAT mapping and survives the uplink going down) and an IPv6 endpoint as {@link Settings#ipv6Fraction}
 * faster. The endpoint in use keeps its place unless another
 * is clearly better, so two nearly equal paths do not make traffic flap between them.
 */
public final class PathPolicy {

    /**
     * @param staleAfter     an endpoint whose last answer is older than this no longer counts
     * @param lanBonus       how much faster a LAN endpoint counts as
     * @param switchFraction a challenger must beat the current score by this fraction of it ...
     * @param switchMinimum  ... and by at least this much
     * @param ipv6Fraction   an IPv6 endpoint's round trip counts as this fraction shorter, so IPv6 wins when its
     *                       latency is about as good (no NAT mapping to expire or collide; Tailscale's
     *                       {@code betterAddr} gives IPv6 a like bonus)
     */
    public record Settings(Duration staleAfter, Duration lanBonus, double switchFraction, Duration switchMinimum,
            double ipv6Fraction) {
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(6), Duration.ofMillis(5), 0.2, Duration.ofMillis(2), 0.1);
        }
    }

    /**
     * One endpoint's latest measurement.
     *
     * @param lastAnswerNanos when its last pong came (a monotonic clock's nanos)
     */
    public record Candidate(InetSocketAddress endpoint, boolean lan, Duration roundTrip, long lastAnswerNanos) {}

    private PathPolicy() {}

    /**
     * The endpoint to use now, or empty when none answered recently (then the relay carries the traffic).
     *
     * @param current the endpoint in use, or null
     */
    public static Optional<Candidate> choose(Collection<Candidate> candidates, InetSocketAddress current,
            long nowNanos, Settings settings) {
        long staleNanos = settings.staleAfter().toNanos();
        Comparator<Candidate> byScore = Comparator.<Candidate>comparingLong(c -> score(c, settings))
                .thenComparing(c -> c.endpoint().toString());
        Optional<Candidate> best = candidates.stream()
                .filter(c -> nowNanos - c.lastAnswerNanos() <= staleNanos)
                .min(byScore);
        if (best.isEmpty() || current == null || best.get().endpoint().equals(current)) {
            return best;
        }
        Optional<Candidate> incumbent = candidates.stream()
                .filter(c -> c.endpoint().equals(current) && nowNanos - c.lastAnswerNanos() <= staleNanos)
                .findFirst();
        if (incumbent.isEmpty()) {
            return best;
        }
        long currentScore = score(incumbent.get(), settings);
        long margin = Math.max(settings.switchMinimum().toNanos(),
                (long) (Math.abs(currentScore) * settings.switchFraction()));
        return score(best.get(), settings) < currentScore - margin ? best : incumbent;
    }

    private static long score(Candidate candidate, Settings settings) {
        long roundTrip = candidate.roundTrip().toNanos();
        if (candidate.endpoint().getAddress() instanceof Inet6Address) {
            roundTrip -= (long) (roundTrip * settings.ipv6Fraction());
        }
        return roundTrip - (candidate.lan() ? settings.lanBonus().toNanos() : 0);
    }
}
